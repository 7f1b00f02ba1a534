/**
 * The allocator's input as flat typed arrays: each job's floor, ceiling and step limit, its path
 * of budgets with the share of its GPUs under each, and every budget's room once floors are paid.
 */
import type { AllocationInput, Job } from "./allocate.ts";
import type { ThroughputCurve } from "./curves.ts";
import { PowerError } from "./errors.ts";

/** Tolerance of room checks, in steps: shares of split jobs are fractions. */
export const EPS = 1e-9;

/** Jobs and budgets as flat arrays; every budget's room in steps once floors are paid. */
export interface Prepared {
  step: number;
  jobs: readonly Job[];
  /** Job j's weight and curve, read from `jobs` once. */
  weight: Float64Array;
  curve: ThroughputCurve[];
  gpuCount: Int32Array;
  floorWatts: Float64Array;
  maxWatts: Float64Array;
  /** Most steps each job can take. */
  limit: Float64Array;
  priority: Float64Array;
  /** Job numbers of each priority class, highest priority first, each in job order. */
  classes: Int32Array[];
  /** Job j's budgets are pathBudget[pathStart[j] … pathStart[j+1]), deepest first. */
  pathStart: Int32Array;
  pathBudget: Int32Array;
  /** The fraction of job j's GPUs under that budget (1 unless the job is split). */
  pathShare: Float64Array;
  /** Budgets that hold part of some job. */
  partial: Uint8Array;
  /** Budgets that hold every job whole: once one is spent, every job stops. */
  coversAll: Uint8Array;
  /** Jobs whose every budget holds all of their GPUs (no share below 1). */
  whole: Uint8Array;
  /** Room of each budget in steps. */
  room: Float64Array;
  baseWatts: Float64Array;
  jobOfGpu: Int32Array;
  totalSteps: number;
}

export function prepare(input: AllocationInput): Prepared {
  const step = input.stepWatts ?? 1;
  if (!(step > 0)) throw new PowerError("bad-job", `stepWatts must be positive, not ${step}`);
  const { gpus, budgets, jobs } = input;
  const depth = checkTree(input);
  const parent = Int32Array.from(budgets, (b) => b.parent);
  const gpuBudget = Int32Array.from(gpus, (g) => g.budget);
  let slot = input.gpuIndex;
  const jobOfGpu = new Int32Array(gpus.length).fill(-1);
  const n = jobs.length;
  const weight = new Float64Array(n);
  const curve: ThroughputCurve[] = new Array(n);
  const gpuCount = new Int32Array(n);
  const floorWatts = new Float64Array(n);
  const maxWatts = new Float64Array(n);
  const limit = new Float64Array(n);
  const priority = new Float64Array(n);
  const pathStart = new Int32Array(n + 1);
  let pathBudget = new Int32Array(Math.max(16, 4 * n));
  let pathShare = new Float64Array(pathBudget.length);
  let size = 0;
  const partial = new Uint8Array(budgets.length);
  const seen = new Int32Array(budgets.length).fill(-1);
  const countAt = new Int32Array(budgets.length);
  const wholeJobs = new Int32Array(budgets.length);
  const whole = new Uint8Array(n).fill(1);
  let totalSteps = 0;
  for (let j = 0; j < n; j++) {
    const job = jobs[j]!;
    const ids = job.gpus;
    if (ids.length === 0) throw new PowerError("bad-job", `job ${job.id} has no GPUs`);
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    const start = size;
    let segments = 0;
    const given = job.gpuIndices;
    if (given && given.length !== ids.length)
      throw new PowerError("bad-job", `job ${job.id}: ${given.length} GPU indexes for ${ids.length} GPUs`);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (!given && !slot) slot = indexOf(gpus);
      const i = given ? given[k]! : slot!.get(id);
      if (i === undefined || gpus[i]?.id !== id)
        throw new PowerError("bad-job", `job ${job.id}: no GPU ${id}`);
      if (jobOfGpu[i]! >= 0)
        throw new PowerError("bad-job", `job ${job.id}: ${id} is already in job ${jobs[jobOfGpu[i]!]!.id}`);
      jobOfGpu[i] = j;
      const g = gpus[i]!;
      if (g.minWatts > lo) lo = g.minWatts;
      if (g.maxWatts < hi) hi = g.maxWatts;
      // GPUs are counted at their deepest budget and summed up the path below. The walk up
      // stops at the first budget this job already reached: its ancestors are in too, so the
      // path comes out as the full walk of every GPU would push it.
      const deepest = gpuBudget[i]!;
      if (deepest < 0) continue;
      if (seen[deepest] !== j) {
        segments++;
        for (let b = deepest; b >= 0 && seen[b] !== j; b = parent[b]!) {
          seen[b] = j;
          countAt[b] = 0;
          if (size === pathBudget.length) {
            pathBudget = grow(pathBudget, new Int32Array(2 * size));
            pathShare = grow(pathShare, new Float64Array(2 * size));
          }
          pathBudget[size++] = b;
        }
      }
      countAt[deepest]!++;
    }
    if (!(lo <= hi) || !(job.tokensPerSecond >= 0) || !Number.isFinite(job.tokensPerSecond))
      throw new PowerError(
        "bad-job",
        `job ${job.id}: its GPUs share no cap range (${lo}–${hi} W) or its weight is not a finite number of at least 0`,
      );
    if (job.priority !== undefined && !Number.isFinite(job.priority))
      throw new PowerError("bad-job", `job ${job.id}: its priority ${job.priority} is not a finite number`);
    const g = ids.length;
    // Subtree counts, children before parents: one walk is already deepest first.
    const order =
      segments > 1 ? byDepth(pathBudget.subarray(start, size), depth) : pathBudget.subarray(start, size);
    for (const b of order) {
      const up = parent[b]!;
      if (up >= 0) countAt[up]! += countAt[b]!;
    }
    for (let k = start; k < size; k++) {
      const share = countAt[pathBudget[k]!]! / g;
      pathShare[k] = share;
      if (share < 1) {
        partial[pathBudget[k]!] = 1;
        whole[j] = 0;
      } else wholeJobs[pathBudget[k]!]!++;
    }
    pathStart[j + 1] = size;
    weight[j] = job.tokensPerSecond;
    curve[j] = job.curve;
    gpuCount[j] = g;
    floorWatts[j] = lo;
    maxWatts[j] = hi;
    limit[j] = Math.floor((g * (hi - lo)) / step + EPS);
    priority[j] = job.priority ?? 0;
    totalSteps += limit[j]!;
  }

  // Every GPU pays its floor first: its job's floor, or its own minimum when idle. Summed at
  // each GPU's deepest budget, then up the tree children first.
  const baseWatts = new Float64Array(budgets.length);
  for (let i = 0; i < gpus.length; i++) {
    const b = gpuBudget[i]!;
    if (b < 0) continue;
    const j = jobOfGpu[i]!;
    baseWatts[b]! += j >= 0 ? floorWatts[j]! : gpus[i]!.minWatts;
  }
  for (const b of byDepth(
    Int32Array.from(budgets, (_, k) => k),
    depth,
  )) {
    const up = parent[b]!;
    if (up >= 0) baseWatts[up]! += baseWatts[b]!;
  }
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
    weight,
    curve,
    gpuCount,
    floorWatts,
    maxWatts,
    limit,
    priority,
    classes: byPriority(priority),
    pathStart,
    pathBudget: pathBudget.slice(0, size),
    pathShare: pathShare.slice(0, size),
    partial,
    coversAll: Uint8Array.from(wholeJobs, (c) => (c === n && n > 0 ? 1 : 0)),
    whole,
    room,
    baseWatts,
    jobOfGpu,
    totalSteps,
  };
}

function byPriority(priority: Float64Array): Int32Array[] {
  const members = new Map<number, number[]>();
  for (let j = 0; j < priority.length; j++) {
    const list = members.get(priority[j]!);
    if (list) list.push(j);
    else members.set(priority[j]!, [j]);
  }
  return [...members].sort((a, b) => b[0] - a[0]).map(([, jobs]) => Int32Array.from(jobs));
}

function indexOf(gpus: AllocationInput["gpus"]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < gpus.length; i++) index.set(gpus[i]!.id, i);
  return index;
}

function grow<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** A copy of `budgets`, deepest first. */
function byDepth(budgets: Int32Array, depth: Int32Array): Int32Array {
  return budgets.slice().sort((a, b) => depth[b]! - depth[a]!);
}

/**
 * Every parent and GPU budget names a listed budget, and walking up always ends. Returns each
 * budget's depth (0 for a root).
 */
function checkTree({ gpus, budgets }: AllocationInput): Int32Array {
  const known = (b: number) => Number.isInteger(b) && b >= -1 && b < budgets.length;
  const depth = new Int32Array(budgets.length).fill(-1);
  budgets.forEach((b, k) => {
    let d = 0;
    let a = k;
    for (; a >= 0 && depth[a]! < 0; a = budgets[a]!.parent) {
      if (!known(budgets[a]!.parent) || ++d > budgets.length)
        throw new PowerError("bad-budget", `budget ${b.id}: its parents are not a tree`);
    }
    // d steps up from k reach a (a root's parent, or a budget of known depth).
    let top = a >= 0 ? depth[a]! + d : d - 1;
    for (let c = k; c !== a; c = budgets[c]!.parent) depth[c] = top--;
  });
  for (const g of gpus)
    if (!known(g.budget)) throw new PowerError("bad-budget", `${g.id}: no budget ${g.budget}`);
  return depth;
}
