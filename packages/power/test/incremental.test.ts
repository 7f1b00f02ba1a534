/**
 * The incremental allocator against exact enumeration and against a whole re-solve, over
 * random sequences of changes: weights, curves and priorities, jobs that leave and come back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Allocation,
  type AllocationInput,
  allocate,
  computeBoundCurve,
  decodeCurve,
  IncrementalAllocator,
  type Job,
  PowerError,
} from "../src/index.ts";
import { assertFeasible, close } from "./check.ts";
import { exactOptimum } from "./exact.ts";
import { randomProblem, rng, type Shape } from "./random.ts";

/** Per-class objectives equal (highest priority first), and the totals. */
function sameObjective(a: Allocation, b: Allocation, tol: number): boolean {
  if (a.tokensByPriority.length !== b.tokensByPriority.length) {
    // A class can be absent on one side only when it holds nothing.
    const nonzero = (x: Allocation) => x.tokensByPriority.filter((c) => c.tokensPerSecond > 0);
    return sameObjective({ ...a, tokensByPriority: nonzero(a) }, { ...b, tokensByPriority: nonzero(b) }, tol);
  }
  return (
    a.tokensByPriority.every(
      (c, i) =>
        c.priority === b.tokensByPriority[i]!.priority &&
        close(c.tokensPerSecond, b.tokensByPriority[i]!.tokensPerSecond, tol),
    ) && close(a.tokensPerSecond, b.tokensPerSecond, tol)
  );
}

/** One random change to the allocator and to the plain job list it mirrors. */
function randomChange(r: () => number, inc: IncrementalAllocator, jobs: Job[], gone: Job[]): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const roll = r();
  if (gone.length > 0 && roll < 0.2) {
    const job = gone.splice(gone.indexOf(pick(gone)), 1)[0]!;
    jobs.push(job);
    inc.add(job);
    return `add ${job.id}`;
  }
  if (jobs.length > 1 && roll < 0.4) {
    const job = jobs.splice(jobs.indexOf(pick(jobs)), 1)[0]!;
    gone.push(job);
    inc.remove(job.id);
    return `remove ${job.id}`;
  }
  const k = jobs.indexOf(pick(jobs));
  const old = jobs[k]!;
  const changed: Job =
    roll < 0.6
      ? { ...old, tokensPerSecond: old.tokensPerSecond * (0.2 + r() * 3) }
      : roll < 0.75
        ? { ...old, priority: Math.floor(r() * 3) }
        : {
            ...old,
            curve:
              r() < 0.5
                ? computeBoundCurve(1 + r() * 9, r() * 0.3)
                : decodeCurve(0.2 + r() * 0.4, r() * 0.05),
          };
  jobs[k] = changed;
  inc.update(changed);
  return `update ${old.id}`;
}

/**
 * Runs `changes` random changes on each seed's problem, checking feasibility after each and
 * handing the jobs now and the allocation to `check`.
 */
function sequences(
  shape: Shape,
  seeds: [number, number],
  changes: number,
  check: (now: AllocationInput, out: Allocation, where: string) => void,
): void {
  for (let seed = seeds[0]; seed <= seeds[1]; seed++) {
    const input = randomProblem(seed, shape);
    const r = rng(seed * 31);
    const inc = new IncrementalAllocator(input);
    const jobs = [...input.jobs];
    const gone: Job[] = [];
    for (let change = 0; change < changes; change++) {
      const what = randomChange(r, inc, jobs, gone);
      const now = { ...input, jobs };
      const out = inc.allocation();
      assertFeasible(now, out);
      check(now, out, `seed ${seed}, change ${change} (${what})`);
    }
  }
}

describe("IncrementalAllocator", () => {
  it("stays at the exact optimum through 8 random changes on 300 small problems", () => {
    const shape: Shape = { jobs: [2, 5], gpusPerJob: [1, 3], maxSteps: 7, split: false, priorities: true };
    sequences(shape, [1, 300], 8, (now, out, where) => {
      const best = exactOptimum(now);
      const mine = best.priorities.map(
        (p) => out.tokensByPriority.find((x) => x.priority === p)?.tokensPerSecond ?? 0,
      );
      assert.ok(
        mine.every((v, i) => close(v, best.byPriority[i]!)),
        `${where}: ${mine} against the optimum ${best.byPriority}`,
      );
    });
  });

  it("matches a whole re-solve through 30 random changes on 40 larger problems", () => {
    const shape: Shape = {
      jobs: [20, 60],
      gpusPerJob: [1, 8],
      maxSteps: 3000,
      split: false,
      priorities: true,
    };
    sequences(shape, [501, 540], 30, (now, out, where) => {
      assert.ok(sameObjective(out, allocate(now), 1e-9), where);
    });
  });

  it("is optimal whenever it says so with jobs split over budgets, and stays feasible", () => {
    const shape: Shape = { jobs: [2, 4], gpusPerJob: [2, 4], maxSteps: 6, split: true, priorities: false };
    let certified = 0;
    sequences(shape, [2001, 2200], 5, (now, out, where) => {
      if (!out.exact) return;
      certified++;
      assert.ok(close(out.tokensPerSecond, exactOptimum(now).tokensPerSecond), where);
    });
    assert.ok(certified > 300, `only ${certified} of 1,000 certified`);
  });

  it("reports the jobs and GPUs a change moved, and only those", () => {
    const curve = computeBoundCurve();
    const input: AllocationInput = {
      gpus: [0, 1, 2, 3, 4, 5].map((i) => ({
        id: `g${i}`,
        budget: i < 4 ? 1 : 2,
        minWatts: 200,
        maxWatts: 700,
      })),
      budgets: [
        { id: "site", parent: -1, watts: 3000 },
        { id: "rack1", parent: 0, watts: 1600 },
        { id: "rack2", parent: 0, watts: 1400 },
      ],
      jobs: [
        { id: "a", gpus: ["g0", "g1"], tokensPerSecond: 1000, curve },
        { id: "b", gpus: ["g2", "g3"], tokensPerSecond: 1000, curve },
        { id: "c", gpus: ["g4", "g5"], tokensPerSecond: 1000, curve },
      ],
    };
    const inc = new IncrementalAllocator(input);
    const before = inc.allocation();
    // Rack 1 is full (a and b share 1,600 W); a weighs more now and takes from b only.
    const change = inc.update({ ...input.jobs[0]!, tokensPerSecond: 2000 });
    assert.deepEqual(change.jobs.map((j) => j.id).sort(), ["a", "b"]);
    assert.deepEqual([...change.gpus].sort(), [0, 1, 2, 3]);
    assert.ok(change.steps > 0 && !change.resolved && change.exact);
    const after = inc.allocation();
    assert.ok(after.jobs[0]!.capWatts > before.jobs[0]!.capWatts);
    assert.ok(after.jobs[1]!.capWatts < before.jobs[1]!.capWatts);
    assert.equal(after.jobs[2]!.capWatts, before.jobs[2]!.capWatts);
    assert.ok(
      sameObjective(
        after,
        allocate({ ...input, jobs: [{ ...input.jobs[0]!, tokensPerSecond: 2000 }, ...input.jobs.slice(1)] }),
        1e-9,
      ),
    );
    // Gone: its GPUs fall to their minimum and b takes the rack's watts.
    const gone = inc.remove("a");
    assert.equal(inc.allocation().capWatts[0], 200);
    assert.ok(gone.gpus.includes(0) && gone.jobs.some((j) => j.id === "b"));
    assert.equal(inc.allocation().jobs.length, 2);
  });

  it("solves the whole site again when a change would move more steps than that costs", () => {
    // Two 8-GPU jobs under one budget in 0.1 W steps: each holds tens of thousands of steps.
    const gpus = Array.from({ length: 16 }, (_, i) => ({
      id: `g${i}`,
      budget: 0,
      minWatts: 200,
      maxWatts: 700,
    }));
    const ids = (from: number) => gpus.slice(from, from + 8).map((g) => g.id);
    const input: AllocationInput = {
      gpus,
      budgets: [{ id: "rack", parent: -1, watts: 9000 }],
      jobs: [
        { id: "a", gpus: ids(0), tokensPerSecond: 1000, curve: computeBoundCurve() },
        { id: "b", gpus: ids(8), tokensPerSecond: 1000, curve: computeBoundCurve(6, 0.27) },
      ],
      stepWatts: 0.1,
    };
    const inc = new IncrementalAllocator(input);
    const heavy = { ...input.jobs[0]!, tokensPerSecond: 50_000 };
    const change = inc.update(heavy);
    assert.ok(change.resolved && change.steps === 0, "a weight 50 times higher moves most of the rack");
    assert.ok(sameObjective(inc.allocation(), allocate({ ...input, jobs: [heavy, input.jobs[1]!] }), 1e-9));
    assert.ok(change.jobs.length === 2 && change.gpus.length === 16);
    const gone = inc.remove("a");
    assert.ok(gone.resolved);
    assert.ok(sameObjective(inc.allocation(), allocate({ ...input, jobs: [input.jobs[1]!] }), 1e-9));
    assert.equal(inc.allocation().capWatts[0], 200);
    // A small change still goes step by step.
    const small = inc.update({ ...input.jobs[1]!, tokensPerSecond: 1001 });
    assert.ok(!small.resolved);
  });

  it("lets the slots of jobs gone go: a job that comes and goes forever holds a bounded state", () => {
    const curve = computeBoundCurve();
    const inc = new IncrementalAllocator({
      gpus: [0, 1].map((i) => ({ id: `g${i}`, budget: 0, minWatts: 200, maxWatts: 700 })),
      budgets: [{ id: "rack", parent: -1, watts: 1000 }],
      jobs: [{ id: "a", gpus: ["g0"], tokensPerSecond: 1000, curve }],
    });
    let resolved = 0;
    for (let k = 0; k < 1000; k++) {
      if (inc.add({ id: "b", gpus: ["g1"], tokensPerSecond: 1000, curve }).resolved) resolved++;
      if (inc.remove("b").resolved) resolved++;
    }
    assert.ok(resolved >= 10 && resolved <= 40, `${resolved} whole solves in 2,000 changes`);
    assert.ok((inc as unknown as { slots: unknown[] }).slots.length <= 2 + 66);
    assert.deepEqual([...inc.allocation().capWatts], [700, 200]);
  });

  it("reports against the caps last reported when a change falls back to a whole solve", () => {
    // S is split over P and Q: a change whose exchanges would break Q is solved again whole.
    const curve = (k: number) => computeBoundCurve(k, 0.1);
    const input: AllocationInput = {
      gpus: [
        { id: "p0", budget: 1, minWatts: 100, maxWatts: 500 },
        { id: "q0", budget: 2, minWatts: 100, maxWatts: 500 },
        { id: "q1", budget: 2, minWatts: 100, maxWatts: 500 },
        { id: "p1", budget: 1, minWatts: 100, maxWatts: 500 },
      ],
      budgets: [
        { id: "site", parent: -1, watts: 700 },
        { id: "P", parent: 0, watts: 500 },
        { id: "Q", parent: 0, watts: 300 },
      ],
      jobs: [
        { id: "S", gpus: ["p0", "q0"], tokensPerSecond: 303, curve: curve(2.18) },
        { id: "A", gpus: ["q1"], tokensPerSecond: 104, curve: curve(6.02) },
        { id: "C", gpus: ["p1"], tokensPerSecond: 980, curve: curve(5.68) },
      ],
      stepWatts: 50,
    };
    const inc = new IncrementalAllocator(input);
    // A consumer that applies each change's caps, reading the allocation only at the end.
    const caps = Float64Array.from(inc.allocation().capWatts);
    const apply = (change: ReturnType<IncrementalAllocator["update"]>) => {
      for (const j of change.jobs) {
        const job = [...input.jobs].find((x) => x.id === j.id)!;
        for (const id of job.gpus) caps[input.gpus.findIndex((g) => g.id === id)] = j.capWatts;
      }
    };
    apply(inc.update({ ...input.jobs[1]!, tokensPerSecond: 535 }));
    const second = inc.update({ ...input.jobs[0]!, tokensPerSecond: 2580 });
    assert.ok(second.resolved);
    apply(second);
    assert.deepEqual([...caps], [...inc.allocation().capWatts]);
  });

  it("refuses bad changes and keeps what it had", () => {
    const curve = computeBoundCurve();
    const input: AllocationInput = {
      gpus: [0, 1, 2].map((i) => ({ id: `g${i}`, budget: 0, minWatts: i === 2 ? 400 : 200, maxWatts: 700 })),
      budgets: [{ id: "rack", parent: -1, watts: 1000 }],
      jobs: [{ id: "a", gpus: ["g0", "g1"], tokensPerSecond: 1000, curve }],
    };
    const inc = new IncrementalAllocator(input);
    const before = inc.allocation();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof PowerError ? `${err.code}: ${err.message}` : `other: ${err}`;
      }
      return "none";
    };
    assert.match(
      code(() => inc.update({ id: "nope", gpus: ["g0"], tokensPerSecond: 1, curve })),
      /bad-job: no job nope/,
    );
    assert.match(
      code(() => inc.update({ id: "a", gpus: ["g0"], tokensPerSecond: 1, curve })),
      /keeps the job's GPUs/,
    );
    assert.match(
      code(() => inc.update({ id: "a", gpus: ["g0", "g1"], tokensPerSecond: -1, curve })),
      /weight -1 is not a finite number of at least 0/,
    );
    assert.match(
      code(() => inc.add({ id: "b", gpus: ["g1"], tokensPerSecond: 1, curve })),
      /g1 is already in job a/,
    );
    assert.match(
      code(() => inc.add({ id: "a", gpus: ["g2"], tokensPerSecond: 1, curve })),
      /already allocated/,
    );
    assert.match(
      code(() => inc.remove("nope")),
      /no job nope/,
    );
    // g2 joining with g0's floor raised? No: a job's floor is the highest minimum of its GPUs.
    // Three GPUs at 200, 200 and 400 W fit 1,000 W; a job over g2 with a 450 W floor would not.
    const tight = new IncrementalAllocator({
      ...input,
      gpus: [
        ...input.gpus.slice(0, 2),
        { id: "g2", budget: 0, minWatts: 400, maxWatts: 700 },
        { id: "g3", budget: 0, minWatts: 100, maxWatts: 700 },
      ],
      budgets: [{ id: "rack", parent: -1, watts: 1000 }],
    });
    const held = tight.allocation();
    assert.match(
      code(() => tight.add({ id: "b", gpus: ["g2", "g3"], tokensPerSecond: 1, curve })),
      /budget-below-minimum: budget rack: 1000 W is below the 1200 W .* with job b/,
    );
    assert.deepEqual([...tight.allocation().capWatts], [...held.capWatts]);
    assert.deepEqual([...inc.allocation().capWatts], [...before.capWatts]);
  });
});
