/** Checks shared by the allocator tests: feasibility of an allocation, and closeness. */
import assert from "node:assert/strict";
import type { Allocation, AllocationInput } from "../src/index.ts";

export const close = (a: number, b: number, tol = 1e-6) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** Caps inside every GPU's range and every budget, and one cap for all of a job's GPUs. */
export function assertFeasible(input: AllocationInput, out: Allocation): void {
  const used = new Float64Array(input.budgets.length);
  input.gpus.forEach((g, i) => {
    const cap = out.capWatts[i]!;
    assert.ok(cap >= g.minWatts - 1e-9 && cap <= g.maxWatts + 1e-9, `${g.id} cap ${cap} outside its range`);
    for (let b = g.budget; b >= 0; b = input.budgets[b]!.parent) used[b]! += cap;
  });
  input.budgets.forEach((b, k) => {
    assert.ok(used[k]! <= b.watts + 1e-6, `${b.id}: ${used[k]} W over ${b.watts} W`);
  });
  const index = new Map(input.gpus.map((g, i) => [g.id, i]));
  const byId = new Map(input.jobs.map((j) => [j.id, j]));
  for (const job of out.jobs)
    for (const id of byId.get(job.id)!.gpus)
      assert.ok(close(out.capWatts[index.get(id)!]!, job.capWatts, 1e-12), `${job.id}: ${id}`);
}
