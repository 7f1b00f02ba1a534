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
import { PowerError } from "./errors.ts";
import { JobHeap } from "./heap.ts";

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

/** Tolerance of room checks, in steps: shares of split jobs are fractions. */
const EPS = 1e-9;

/** Allocates caps; throws `PowerError` (`bad-job`, `budget-below-minimum`) for bad input. */
export function allocate(input: AllocationInput, options: AllocateOptions = {}): Allocation {
  const p = prepare(input);
  const lower = new Float64Array(p.jobs.length);
  let splitRefused = false;
  if (options.scaling !== false) {
    // Start near the mean steps a job can take, so the first round is about n heap moves.
    let s = 1;
    while (s * 4 * p.jobs.length < p.totalSteps) s *= 2;
    for (; s > 1; s /= 2) {
      const run = greedy(p, lower, s);
      splitRefused ||= run.splitRefused;
      for (let j = 0; j < lower.length; j++) lower[j] = Math.max(lower[j]!, run.y[j]! - s);
    }
  }
  const run = greedy(p, lower, 1);
  return result(input, p, run, splitRefused || run.splitRefused);
}

/** Jobs and budgets as flat arrays; every budget's room in steps once floors are paid. */
interface Prepared {
  step: number;
  jobs: readonly Job[];
  gpuCount: Int32Array;
  floorWatts: Float64Array;
  maxWatts: Float64Array;
  /** Most steps each job can take. */
  limit: Float64Array;
  priority: Float64Array;
  /** Job j's budgets are pathBudget[pathStart[j] … pathStart[j+1]), deepest first. */
  pathStart: Int32Array;
  pathBudget: Int32Array;
  /** The fraction of job j's GPUs under that budget (1 unless the job is split). */
  pathShare: Float64Array;
  /** Budgets that hold part of some job. */
  partial: Uint8Array;
  /** Room of each budget in steps. */
  room: Float64Array;
  baseWatts: Float64Array;
  jobOfGpu: Int32Array;
  totalSteps: number;
}

function prepare(input: AllocationInput): Prepared {
  const step = input.stepWatts ?? 1;
  if (!(step > 0)) throw new PowerError("bad-job", `stepWatts must be positive, not ${step}`);
  const { gpus, budgets, jobs } = input;
  checkTree(input);
  const slot = new Map<string, number>(gpus.map((g, i) => [g.id, i]));
  const jobOfGpu = new Int32Array(gpus.length).fill(-1);
  const n = jobs.length;
  const gpuCount = new Int32Array(n);
  const floorWatts = new Float64Array(n);
  const maxWatts = new Float64Array(n);
  const limit = new Float64Array(n);
  const priority = new Float64Array(n);
  const pathStart = new Int32Array(n + 1);
  const pathBudget: number[] = [];
  const pathShare: number[] = [];
  const partial = new Uint8Array(budgets.length);
  const seen = new Int32Array(budgets.length).fill(-1);
  const countAt = new Int32Array(budgets.length);
  let totalSteps = 0;
  jobs.forEach((job, j) => {
    if (job.gpus.length === 0) throw new PowerError("bad-job", `job ${job.id} has no GPUs`);
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    const start = pathBudget.length;
    for (const id of job.gpus) {
      const i = slot.get(id);
      if (i === undefined) throw new PowerError("bad-job", `job ${job.id}: no GPU ${id}`);
      if (jobOfGpu[i]! >= 0)
        throw new PowerError("bad-job", `job ${job.id}: ${id} is already in job ${jobs[jobOfGpu[i]!]!.id}`);
      jobOfGpu[i] = j;
      const g = gpus[i]!;
      lo = Math.max(lo, g.minWatts);
      hi = Math.min(hi, g.maxWatts);
      for (let b = g.budget; b >= 0; b = budgets[b]!.parent) {
        if (seen[b] !== j) {
          seen[b] = j;
          countAt[b] = 0;
          pathBudget.push(b);
        }
        countAt[b]!++;
      }
    }
    if (!(lo <= hi) || !(job.tokensPerSecond >= 0))
      throw new PowerError(
        "bad-job",
        `job ${job.id}: its GPUs share no cap range (${lo}–${hi} W) or its weight is negative`,
      );
    const g = job.gpus.length;
    for (let k = start; k < pathBudget.length; k++) {
      const share = countAt[pathBudget[k]!]! / g;
      pathShare.push(share);
      if (share < 1) partial[pathBudget[k]!] = 1;
    }
    pathStart[j + 1] = pathBudget.length;
    gpuCount[j] = g;
    floorWatts[j] = lo;
    maxWatts[j] = hi;
    limit[j] = Math.floor((g * (hi - lo)) / step + EPS);
    priority[j] = job.priority ?? 0;
    totalSteps += limit[j]!;
  });

  // Every GPU pays its floor first: its job's floor, or its own minimum when idle.
  const baseWatts = new Float64Array(budgets.length);
  gpus.forEach((g, i) => {
    const j = jobOfGpu[i]!;
    const w = j >= 0 ? floorWatts[j]! : g.minWatts;
    for (let b = g.budget; b >= 0; b = budgets[b]!.parent) baseWatts[b]! += w;
  });
  const room = new Float64Array(budgets.length);
  budgets.forEach((b, k) => {
    const free = b.watts - baseWatts[k]!;
    if (free < -1e-6)
      throw new PowerError(
        "budget-below-minimum",
        `budget ${b.id}: ${b.watts.toFixed(0)} W is below the ${baseWatts[k]!.toFixed(0)} W its GPUs draw at their minimum caps`,
      );
    room[k] = Math.max(0, free) / step;
  });
  return {
    step,
    jobs,
    gpuCount,
    floorWatts,
    maxWatts,
    limit,
    priority,
    pathStart,
    pathBudget: Int32Array.from(pathBudget),
    pathShare: Float64Array.from(pathShare),
    partial,
    room,
    baseWatts,
    jobOfGpu,
    totalSteps,
  };
}

/** Every parent and GPU budget names a listed budget, and walking up always ends. */
function checkTree({ gpus, budgets }: AllocationInput): void {
  const known = (b: number) => Number.isInteger(b) && b >= -1 && b < budgets.length;
  budgets.forEach((b, k) => {
    let depth = 0;
    for (let a = k; a >= 0; a = budgets[a]!.parent) {
      if (!known(budgets[a]!.parent) || ++depth > budgets.length)
        throw new PowerError("bad-budget", `budget ${b.id}: its parents are not a tree`);
    }
  });
  for (const g of gpus)
    if (!known(g.budget)) throw new PowerError("bad-budget", `${g.id}: no budget ${g.budget}`);
}

/** Job j's tokens/s after `y` steps. */
function value(p: Prepared, j: number, y: number): number {
  const cap = p.floorWatts[j]! + (y * p.step) / p.gpuCount[j]!;
  return p.jobs[j]!.tokensPerSecond * p.jobs[j]!.curve(cap / p.maxWatts[j]!);
}

interface Run {
  y: Float64Array;
  blockedBy: Int32Array;
  used: Float64Array;
  /** A budget that holds part of a job refused a step. */
  splitRefused: boolean;
}

/**
 * Greedy from `lower` in steps of `s` (Hochbaum's greedy(s)): the job with the best next
 * single-step gain takes s steps, or what still fits and then leaves.
 */
function greedy(p: Prepared, lower: Float64Array, s: number): Run {
  const n = p.jobs.length;
  const y = Float64Array.from(lower);
  const used = new Float64Array(p.room.length);
  for (let j = 0; j < n; j++)
    for (let k = p.pathStart[j]!; k < p.pathStart[j + 1]!; k++)
      used[p.pathBudget[k]!]! += y[j]! * p.pathShare[k]!;
  const gain = new Float64Array(n);
  const blockedBy = new Int32Array(n).fill(-1);
  const active: number[] = [];
  for (let j = 0; j < n; j++) {
    if (y[j]! >= p.limit[j]!) continue;
    gain[j] = value(p, j, y[j]! + 1) - value(p, j, y[j]!);
    if (gain[j]! > 0) active.push(j);
  }
  const heap = new JobHeap(n, p.priority, gain);
  heap.reset(active, active.length);
  let splitRefused = false;
  while (heap.length > 0) {
    const j = heap.top();
    let fits = p.limit[j]! - y[j]!;
    let tightest = -1;
    for (let k = p.pathStart[j]!; k < p.pathStart[j + 1]!; k++) {
      const b = p.pathBudget[k]!;
      const steps = Math.floor((p.room[b]! - used[b]!) / p.pathShare[k]! + EPS);
      if (steps < fits) {
        fits = steps;
        tightest = b;
      }
    }
    if (fits < 1) {
      blockedBy[j] = tightest;
      if (p.partial[tightest]) splitRefused = true;
      heap.pop();
      continue;
    }
    const d = Math.min(s, fits);
    y[j]! += d;
    for (let k = p.pathStart[j]!; k < p.pathStart[j + 1]!; k++)
      used[p.pathBudget[k]!]! += d * p.pathShare[k]!;
    if (d < s || y[j]! >= p.limit[j]!) {
      // Limited by a budget (it leaves, as in greedy(s)) or at its maximum.
      if (d < s && tightest >= 0) {
        blockedBy[j] = tightest;
        if (p.partial[tightest]) splitRefused = true;
      }
      heap.pop();
      continue;
    }
    gain[j] = value(p, j, y[j]! + 1) - value(p, j, y[j]!);
    if (gain[j]! > 0) heap.lowered();
    else heap.pop();
  }
  return { y, blockedBy, used, splitRefused };
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
