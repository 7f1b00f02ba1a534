/**
 * The true optimum of a small allocation by enumeration: every vector of job steps that fits
 * every budget, written from the problem statement alone (it shares no code with the
 * allocator). Objectives compare lexicographically by priority class, highest first.
 */
import type { AllocationInput } from "../src/index.ts";

export interface ExactOptimum {
  /** Steps per job of one optimum. */
  steps: number[];
  tokensPerSecond: number;
  /** Tokens/s per priority class, highest priority first. */
  byPriority: number[];
  priorities: number[];
}

/** Enumerates all feasible step vectors; meant for a few jobs of a few steps each. */
export function exactOptimum(input: AllocationInput): ExactOptimum {
  const step = input.stepWatts ?? 1;
  const { gpus, budgets, jobs } = input;
  const slot = new Map(gpus.map((g, i) => [g.id, i]));
  const inJob = new Set(jobs.flatMap((j) => j.gpus));
  const pathOf = (gpu: number): number[] => {
    const out: number[] = [];
    for (let b = gpus[gpu]!.budget; b >= 0; b = budgets[b]!.parent) out.push(b);
    return out;
  };
  // Watts each budget has left once every GPU sits at its floor.
  const free = budgets.map((b) => b.watts);
  const spec = jobs.map((job) => {
    const idx = job.gpus.map((id) => slot.get(id)!);
    const lo = Math.max(...idx.map((i) => gpus[i]!.minWatts));
    const hi = Math.min(...idx.map((i) => gpus[i]!.maxWatts));
    const perBudget = new Map<number, number>();
    for (const i of idx) for (const b of pathOf(i)) perBudget.set(b, (perBudget.get(b) ?? 0) + 1);
    for (const [b, c] of perBudget) free[b]! -= c * lo;
    const g = idx.length;
    const maxSteps = Math.floor((g * (hi - lo)) / step + 1e-9);
    const value = (y: number) => job.tokensPerSecond * job.curve((lo + (y * step) / g) / hi);
    return { g, maxSteps, value, perBudget, priority: job.priority ?? 0 };
  });
  gpus.forEach((g, i) => {
    if (!inJob.has(g.id)) for (const b of pathOf(i)) free[b]! -= g.minWatts;
  });
  const priorities = [...new Set(spec.map((s) => s.priority))].sort((a, b) => b - a);
  const used = budgets.map(() => 0);
  const y = jobs.map(() => 0);
  let best: ExactOptimum | undefined;
  const visit = (j: number): void => {
    if (j === jobs.length) {
      const byPriority = priorities.map(() => 0);
      let total = 0;
      spec.forEach((s, k) => {
        const v = s.value(y[k]!);
        total += v;
        byPriority[priorities.indexOf(s.priority)]! += v;
      });
      if (!best || lexGreater(byPriority, best.byPriority))
        best = { steps: [...y], tokensPerSecond: total, byPriority, priorities };
      return;
    }
    const s = spec[j]!;
    for (let k = 0; k <= s.maxSteps; k++) {
      let fits = true;
      for (const [b, c] of s.perBudget) if (used[b]! + (k * step * c) / s.g > free[b]! + 1e-6) fits = false;
      if (!fits) break;
      for (const [b, c] of s.perBudget) used[b]! += (k * step * c) / s.g;
      y[j] = k;
      visit(j + 1);
      for (const [b, c] of s.perBudget) used[b]! -= (k * step * c) / s.g;
    }
    y[j] = 0;
  };
  visit(0);
  return best!;
}

/** a > b lexicographically, ignoring differences within rounding. */
function lexGreater(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const tol = 1e-9 * Math.max(1, Math.abs(b[i]!));
    if (a[i]! > b[i]! + tol) return true;
    if (a[i]! < b[i]! - tol) return false;
  }
  return false;
}
