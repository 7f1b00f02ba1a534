/**
 * One round of the allocator: Hochbaum's greedy(s) from a lower bound, run one priority class
 * at a time. Higher priority goes first in the lexicographic order and a job leaves the run for
 * good once it stops, so running each class to completion in turn takes the same steps in the
 * same order as one heap keyed by (priority, gain) would.
 */
import { heapify, siftDown } from "./heap.ts";
import { EPS, type Prepared } from "./prepare.ts";

/** Job j's tokens/s after `y` steps. */
export function value(p: Prepared, j: number, y: number): number {
  const cap = p.floorWatts[j]! + (y * p.step) / p.gpuCount[j]!;
  return p.weight[j]! * p.curve[j]!(cap / p.maxWatts[j]!);
}

export interface Run {
  y: Float64Array;
  blockedBy: Int32Array;
  used: Float64Array;
  /** A budget that holds part of a job refused a step. */
  splitRefused: boolean;
}

/**
 * Values carried from one round to the next: f_j(base[j]) and f_j(base[j] + 1), where base[j] is
 * where job j stood before its last step (or where it started). A job whose last step was a
 * full one starts the next round there, so its first gain costs no curve evaluation.
 */
export interface Memo {
  base: Float64Array;
  f0: Float64Array;
  f1: Float64Array;
}

export function newMemo(n: number): Memo {
  return { base: new Float64Array(n).fill(-1), f0: new Float64Array(n), f1: new Float64Array(n) };
}

/**
 * Greedy from `lower` in steps of `s`: the job with the best next single-step gain takes s
 * steps, or what still fits and then leaves.
 */
export function greedy(p: Prepared, lower: Float64Array, s: number, memo: Memo): Run {
  const n = p.jobs.length;
  const y = Float64Array.from(lower);
  const used = usage(p, y);
  const blockedBy = new Int32Array(n).fill(-1);
  // f_j(y_j) and f_j(y_j + 1), and the heap of one class at a time.
  const now = new Float64Array(n);
  const next = new Float64Array(n);
  const heapJob = new Int32Array(n);
  const heapGain = new Float64Array(n);
  let splitRefused = false;
  for (const members of p.classes) {
    const size = start(p, members, y, now, next, heapJob, heapGain, memo);
    if (climb(p, s, size, y, used, blockedBy, now, next, heapJob, heapGain, memo)) splitRefused = true;
  }
  return { y, blockedBy, used, splitRefused };
}

/** Steps each budget gives at `y`. */
function usage(p: Prepared, y: Float64Array): Float64Array {
  const used = new Float64Array(p.room.length);
  const { pathStart, pathBudget, pathShare } = p;
  for (let j = 0; j < y.length; j++)
    for (let k = pathStart[j]!; k < pathStart[j + 1]!; k++) used[pathBudget[k]!]! += y[j]! * pathShare[k]!;
  return used;
}

/** Puts the class's jobs with a positive first gain into the heap; returns its size. */
function start(
  p: Prepared,
  members: Int32Array,
  y: Float64Array,
  now: Float64Array,
  next: Float64Array,
  heapJob: Int32Array,
  heapGain: Float64Array,
  memo: Memo,
): number {
  const base = memo.base;
  const f0 = memo.f0;
  const f1 = memo.f1;
  const limit = p.limit;
  let size = 0;
  for (let m = 0; m < members.length; m++) {
    const j = members[m]!;
    const yj = y[j]!;
    if (yj >= limit[j]!) continue;
    if (base[j] !== yj) {
      base[j] = yj;
      f0[j] = value(p, j, yj);
      f1[j] = value(p, j, yj + 1);
    }
    now[j] = f0[j]!;
    next[j] = f1[j]!;
    const g = f1[j]! - f0[j]!;
    if (g > 0) {
      heapJob[size] = j;
      heapGain[size] = g;
      size++;
    }
  }
  heapify(heapJob, heapGain, size);
  return size;
}

/** Runs the heap of one class until it is empty; returns whether a split budget refused. */
function climb(
  p: Prepared,
  s: number,
  size: number,
  y: Float64Array,
  used: Float64Array,
  blockedBy: Int32Array,
  now: Float64Array,
  next: Float64Array,
  heapJob: Int32Array,
  heapGain: Float64Array,
  memo: Memo,
): boolean {
  const base = memo.base;
  const f0 = memo.f0;
  const f1 = memo.f1;
  const limit = p.limit;
  const pathStart = p.pathStart;
  const pathBudget = p.pathBudget;
  const pathShare = p.pathShare;
  const room = p.room;
  const partial = p.partial;
  const coversAll = p.coversAll;
  const whole = p.whole;
  let splitRefused = false;
  while (size > 0) {
    const j = heapJob[0]!;
    const yj = y[j]!;
    let fits = limit[j]! - yj;
    let tightest = -1;
    const end = pathStart[j + 1]!;
    if (whole[j]) {
      // Every budget on the path holds the whole job: the least room decides, floored once.
      let least = Number.POSITIVE_INFINITY;
      for (let k = pathStart[j]!; k < end; k++) {
        const b = pathBudget[k]!;
        const left = room[b]! - used[b]!;
        if (left < least) {
          least = left;
          tightest = b;
        }
      }
      const steps = Math.floor(least + EPS);
      if (steps < fits) fits = steps;
      else tightest = -1;
    } else
      for (let k = pathStart[j]!; k < end; k++) {
        const b = pathBudget[k]!;
        const steps = Math.floor((room[b]! - used[b]!) / pathShare[k]! + EPS);
        if (steps < fits) {
          fits = steps;
          tightest = b;
        }
      }
    let stays = false;
    if (fits < 1) {
      if (tightest >= 0 && coversAll[tightest]) {
        // A budget above every job is spent: each job left stops now, as it would when popped
        // in turn (a refusal changes nothing), without the heap's ordering work.
        for (let h = 0; h < size; h++) if (refuse(p, heapJob[h]!, y, used, blockedBy)) splitRefused = true;
        return splitRefused;
      }
      blockedBy[j] = tightest;
      if (partial[tightest]) splitRefused = true;
    } else {
      const d = Math.min(s, fits);
      base[j] = yj;
      f0[j] = now[j]!;
      f1[j] = next[j]!;
      const to = yj + d;
      y[j] = to;
      for (let k = pathStart[j]!; k < end; k++) used[pathBudget[k]!]! += d * pathShare[k]!;
      if (d < s || to >= limit[j]!) {
        // Limited by a budget (it leaves, as in greedy(s)) or at its maximum.
        if (d < s && tightest >= 0) {
          blockedBy[j] = tightest;
          if (partial[tightest]) splitRefused = true;
        }
      } else {
        const v = d === 1 ? next[j]! : value(p, j, to);
        const w = value(p, j, to + 1);
        now[j] = v;
        next[j] = w;
        const g = w - v;
        if (g > 0) {
          siftDown(heapJob, heapGain, size, 0, j, g);
          stays = true;
        }
      }
    }
    if (!stays) {
      size--;
      if (size > 0) siftDown(heapJob, heapGain, size, 0, heapJob[size]!, heapGain[size]!);
    }
  }
  return splitRefused;
}

/** Stops job j at the budget that leaves it the fewest steps; returns whether that is partial. */
function refuse(p: Prepared, j: number, y: Float64Array, used: Float64Array, blockedBy: Int32Array): boolean {
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
  blockedBy[j] = tightest;
  return tightest >= 0 && p.partial[tightest] === 1;
}
