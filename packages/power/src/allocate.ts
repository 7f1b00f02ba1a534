/**
 * The cap allocator: every GPU's power cap, maximizing total tokens/s under nested budgets.
 *
 * Problem. Job j (a synchronous training job, or one inference replica) has g_j GPUs that all
 * get the same cap, because a synchronous job runs at its slowest GPU (FACTS.md). Its total
 * power above its floor moves in integer steps of `stepWatts` for the whole job (y_j steps,
 * each GPU's cap rising by stepWatts / g_j), so every step costs each budget above the job the
 * same watts whatever the job's size. Its value is f_j(y_j) = tokensPerSecond_j · r_j(cap/max),
 * concave in y_j. Maximize Σ f_j subject to Σ_{j under T} y_j ≤ units(T) for every budget T.
 *
 * Why greedy is exact. The budgets form a laminar family and each step costs one unit of every
 * budget on the job's path, so the feasible y form a polymatroid; with separable concave f_j,
 * taking the best marginal step while any fits is optimal (Federgruen & Groenevelt, Operations
 * Research 34(6), 1986). Steps of equal watts per *job* matter: with equal steps per GPU, a
 * big job's step would cost more than a small one's and the problem becomes a knapsack.
 *
 * Priorities. Higher priority is cut last, lexicographically: all positive gains of a higher
 * class come before any of a lower one. That is the greedy of Σ M^p · f_j for a large M, still
 * separable concave, so still exact; the lexicographic key avoids the overflow of M^p. Steps
 * with zero gain are never taken.
 *
 * Speed. Greedy in single steps is O(total steps · log n): 300 M steps for a gigawatt site.
 * Greedy with steps of s first, keeping y − s as a lower bound for the next round at s / 2, is
 * exact too: some optimum lies above y^(s) − s (Hochbaum's proximity theorem, Mathematics of
 * Operations Research 19(2), 1994), and greedy from a lower bound that an optimum respects
 * stays exact. The last round runs at s = 1.
 *
 * Jobs across budgets. A job whose GPUs are split over two budgets (a training job over
 * several racks) uses only part of its steps in each: the coefficients are no longer 0/1 and
 * greedy is no longer guaranteed exact. Such jobs are allocated the same way, always within
 * every budget; the result is certified exact (`exact: true`) when no budget that holds part of
 * a job ever refused a step, because then the run is the greedy of the problem without those
 * budgets, which is laminar, and its optimum is feasible for the full problem.
 */
import type { ThroughputCurve } from "./curves.ts";
import { greedy, newMemo, type Run, value } from "./greedy.ts";
import { type Prepared, prepare } from "./prepare.ts";

/** A GPU: its settable cap range and its deepest budget (-1: none above it). */
export interface GpuSlot {
  readonly id: string;
  readonly budget: number;
  readonly minWatts: number;
  readonly maxWatts: number;
}

/** A budget as the allocator needs it (a `Budget` of the budget tree is one). */
export interface BudgetLimit {
  readonly id: string;
  /** Index of the enclosing budget, -1 for a root. */
  readonly parent: number;
  /** What the GPUs under it may draw together. */
  readonly watts: number;
}

export interface Job {
  readonly id: string;
  /** GPU ids; each GPU belongs to at most one job. */
  readonly gpus: readonly string[];
  /**
   * The same GPUs as indexes into `AllocationInput.gpus`, in the same order: when given, the
   * allocator reads them instead of looking up every id (each must still name its GPU).
   */
  readonly gpuIndices?: ArrayLike<number>;
  /** The whole job's tokens/s with every GPU at its maximum cap (its weight). */
  readonly tokensPerSecond: number;
  /** Relative throughput at cap / max cap; concave and nondecreasing. */
  readonly curve: ThroughputCurve;
  /** Higher priority is cut last (default 0). */
  readonly priority?: number;
}

export interface AllocationInput {
  readonly gpus: readonly GpuSlot[];
  readonly budgets: readonly BudgetLimit[];
  readonly jobs: readonly Job[];
  /**
   * GPU id → index in `gpus` (`BudgetTree.gpuIndex`); built on each call when absent. Passing
   * the tree's saves hashing every GPU id again on each allocation.
   */
  readonly gpuIndex?: ReadonlyMap<string, number>;
  /** The step of a job's total power in watts (default 1). */
  readonly stepWatts?: number;
}

export interface AllocateOptions {
  /** Coarse-to-fine rounds (default true); false runs the plain single-step greedy. */
  scaling?: boolean;
}

export interface JobAllocation {
  readonly id: string;
  /** The cap of each of the job's GPUs. */
  readonly capWatts: number;
  readonly tokensPerSecond: number;
  /** Steps above the job's floor (max of its GPUs' minimums). */
  readonly steps: number;
  /** Why it stopped: at its maximum, no gain from more watts, or a budget (`blockedBy`). */
  readonly stoppedBy: "max" | "flat" | "budget";
  /** The budget that refused its next step, -1 when none. */
  readonly blockedBy: number;
}

export interface BudgetUse {
  readonly id: string;
  readonly watts: number;
  readonly usedWatts: number;
  /** Some job wanted a step this budget could not give. */
  readonly binds: boolean;
  /** Tokens/s per watt of the last step given to a job it stopped: its price (0 when it does not bind). */
  readonly marginalTokensPerJoule: number;
}

/** A frozen decision: every GPU's cap and how the budgets came out. */
export interface Allocation {
  /** Cap of `input.gpus[i]`; a GPU in no job sits at its minimum. */
  readonly capWatts: Float64Array;
  readonly jobs: readonly JobAllocation[];
  readonly budgets: readonly BudgetUse[];
  /** Σ over jobs of tokens/s: the objective. */
  readonly tokensPerSecond: number;
  /** The objective per priority class, highest first: what the lexicographic order maximizes. */
  readonly tokensByPriority: readonly { priority: number; tokensPerSecond: number }[];
  /** Optimality is proven for this input (see the module comment on jobs across budgets). */
  readonly exact: boolean;
}

/** Allocates caps; throws `PowerError` (`bad-job`, `budget-below-minimum`) for bad input. */
export function allocate(input: AllocationInput, options: AllocateOptions = {}): Allocation {
  return solve(input, options).allocation;
}

/** A solved allocation with the allocator's own view of it, for the incremental allocator. */
export interface Solved {
  allocation: Allocation;
  prepared: Prepared;
  /** Steps above its floor per job. */
  steps: Float64Array;
}

export function solve(input: AllocationInput, options: AllocateOptions = {}): Solved {
  const p = prepare(input);
  const lower = new Float64Array(p.jobs.length);
  const memo = newMemo(p.jobs.length);
  let splitRefused = false;
  if (options.scaling !== false) {
    // Start near the mean steps a job can take, so the first round is about n heap moves.
    let s = 1;
    while (s * 4 * p.jobs.length < p.totalSteps) s *= 2;
    // Quartering the step between rounds: each job climbs about four steps a round from its
    // bound, in half the rounds halving would take (the bound holds for any smaller step; measured: ~20% less time than halving, eighths no better).
    for (; s > 1; s = Math.max(1, s / SHRINK)) {
      const run = greedy(p, lower, s, memo);
      splitRefused ||= run.splitRefused;
      raise(lower, run.y, s);
    }
  }
  const run = greedy(p, lower, 1, memo);
  return {
    allocation: result(input, p, run, splitRefused || run.splitRefused),
    prepared: p,
    steps: run.y,
  };
}

const SHRINK = 4;

/** The next round's lower bound: y − s where that is higher. */
function raise(lower: Float64Array, y: Float64Array, s: number): void {
  for (let j = 0; j < lower.length; j++) lower[j] = Math.max(lower[j]!, y[j]! - s);
}

function result(input: AllocationInput, p: Prepared, run: Run, splitRefused: boolean): Allocation {
  const { y, blockedBy, used } = run;
  const capWatts = new Float64Array(input.gpus.length);
  input.gpus.forEach((g, i) => {
    const j = p.jobOfGpu[i]!;
    capWatts[i] = j >= 0 ? p.floorWatts[j]! + (y[j]! * p.step) / p.gpuCount[j]! : g.minWatts;
  });
  const price = new Float64Array(input.budgets.length).fill(Number.POSITIVE_INFINITY);
  const byPriority = new Map<number, number>();
  let total = 0;
  const jobs: JobAllocation[] = p.jobs.map((job, j) => {
    const tokens = value(p, j, y[j]!);
    total += tokens;
    byPriority.set(p.priority[j]!, (byPriority.get(p.priority[j]!) ?? 0) + tokens);
    const b = blockedBy[j]!;
    if (b >= 0) {
      const last = y[j]! > 0 ? tokens - value(p, j, y[j]! - 1) : value(p, j, 1) - tokens;
      price[b] = Math.min(price[b]!, last / p.step);
    }
    const atMax = y[j]! >= p.limit[j]!;
    return {
      id: job.id,
      capWatts: p.floorWatts[j]! + (y[j]! * p.step) / p.gpuCount[j]!,
      tokensPerSecond: tokens,
      steps: y[j]!,
      stoppedBy: b >= 0 ? "budget" : atMax ? "max" : "flat",
      blockedBy: b,
    };
  });
  const budgets: BudgetUse[] = input.budgets.map((b, k) => ({
    id: b.id,
    watts: b.watts,
    usedWatts: p.baseWatts[k]! + used[k]! * p.step,
    binds: price[k]! < Number.POSITIVE_INFINITY,
    marginalTokensPerJoule: price[k]! < Number.POSITIVE_INFINITY ? price[k]! : 0,
  }));
  const tokensByPriority = [...byPriority]
    .sort((a, b) => b[0] - a[0])
    .map(([priority, tokensPerSecond]) => ({ priority, tokensPerSecond }));
  return Object.freeze({
    capWatts,
    jobs,
    budgets,
    tokensPerSecond: total,
    tokensByPriority,
    exact: !splitRefused,
  });
}
