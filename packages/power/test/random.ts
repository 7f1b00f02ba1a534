/** Seeded random allocation problems: nested budgets, GPU ranges, jobs with concave curves. */
import {
  type AllocationInput,
  type BudgetLimit,
  computeBoundCurve,
  decodeCurve,
  type GpuSlot,
  type Job,
} from "../src/index.ts";

/** mulberry32: the same instances on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Shape {
  jobs: [number, number];
  gpusPerJob: [number, number];
  /** Most steps a job may take; sets stepWatts. */
  maxSteps: number;
  /** Jobs may take GPUs from several leaf budgets. */
  split: boolean;
  priorities: boolean;
}

/** A budget tree of 2–3 levels with 1–3 children per budget, GPUs under the leaves, and jobs. */
export function randomProblem(seed: number, shape: Shape): AllocationInput {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const budgets: { id: string; parent: number; watts: number }[] = [{ id: "b0", parent: -1, watts: 0 }];
  const levels = int(2, 3);
  let frontier = [0];
  for (let level = 1; level < levels; level++) {
    const next: number[] = [];
    for (const p of frontier)
      for (let c = int(1, 3); c > 0; c--) {
        budgets.push({ id: `b${budgets.length}`, parent: p, watts: 0 });
        next.push(budgets.length - 1);
      }
    frontier = next;
  }
  const jobCount = int(shape.jobs[0], shape.jobs[1]);
  const gpus: GpuSlot[] = [];
  const leafGpus = new Map<number, string[]>(frontier.map((b) => [b, []]));
  const addGpu = (budget: number): string => {
    const id = `gpu:${gpus.length}`;
    gpus.push({ id, budget, minWatts: int(1, 3) * 100, maxWatts: int(4, 7) * 100 });
    leafGpus.get(budget)?.push(id);
    return id;
  };
  const jobs: Job[] = [];
  for (let j = 0; j < jobCount; j++) {
    const home = frontier[int(0, frontier.length - 1)]!;
    const ids: string[] = [];
    for (let g = int(shape.gpusPerJob[0], shape.gpusPerJob[1]); g > 0; g--)
      ids.push(addGpu(shape.split && r() < 0.4 ? frontier[int(0, frontier.length - 1)]! : home));
    const curve =
      r() < 0.7 ? computeBoundCurve(1 + r() * 9, r() * 0.3) : decodeCurve(0.2 + r() * 0.4, r() * 0.05);
    jobs.push({
      id: `job${j}`,
      gpus: ids,
      tokensPerSecond: 100 + r() * 9900,
      curve,
      priority: shape.priorities ? int(0, 2) : 0,
    });
  }
  for (let k = int(0, 3); k > 0; k--) addGpu(frontier[int(0, frontier.length - 1)]!);
  // Each GPU's floor and headroom as the allocator sees them: a job's GPUs share one range.
  const floorOf = new Map(gpus.map((g) => [g.id, g.minWatts]));
  const roomOf = new Map(gpus.map((g) => [g.id, 0]));
  let widest = 0;
  for (const job of jobs) {
    const mine = gpus.filter((g) => job.gpus.includes(g.id));
    const lo = Math.max(...mine.map((g) => g.minWatts));
    const hi = Math.min(...mine.map((g) => g.maxWatts));
    for (const g of mine) {
      floorOf.set(g.id, lo);
      roomOf.set(g.id, hi - lo);
    }
    widest = Math.max(widest, mine.length * (hi - lo));
  }
  // The step that gives the widest job about maxSteps steps.
  const stepWatts = Math.max(1, Math.ceil(widest / shape.maxSteps));
  // Each budget: its floor plus a random part (20–110%) of what its GPUs could add.
  const floor = new Float64Array(budgets.length);
  const extra = new Float64Array(budgets.length);
  for (const g of gpus)
    for (let b = g.budget; b >= 0; b = budgets[b]!.parent) {
      floor[b]! += floorOf.get(g.id)!;
      extra[b]! += roomOf.get(g.id)!;
    }
  const limits: BudgetLimit[] = budgets.map((b, k) => ({
    ...b,
    watts: floor[k]! + extra[k]! * (0.2 + r() * 0.9),
  }));
  return { gpus, budgets: limits, jobs, stepWatts };
}
