/** The allocator against exact enumeration on random small problems, and its refusals. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AllocationInput, allocate, computeBoundCurve, PowerError } from "../src/index.ts";
import { assertFeasible, close } from "./check.ts";
import { exactOptimum } from "./exact.ts";
import { randomProblem, type Shape } from "./random.ts";

function compare(seed: number, shape: Shape): { exact: boolean; equal: boolean } {
  const input = randomProblem(seed, shape);
  const out = allocate(input);
  assertFeasible(input, out);
  const best = exactOptimum(input);
  assert.ok(out.tokensPerSecond <= best.tokensPerSecond + 1e-6 * best.tokensPerSecond || shape.priorities);
  const mine = best.priorities.map(
    (p) => out.tokensByPriority.find((x) => x.priority === p)?.tokensPerSecond ?? 0,
  );
  const equal =
    mine.every((v, i) => close(v, best.byPriority[i]!)) && close(out.tokensPerSecond, best.tokensPerSecond);
  return { exact: out.exact, equal };
}

describe("allocate", () => {
  it("matches the exact optimum on 400 random nested problems", () => {
    const shape: Shape = { jobs: [2, 5], gpusPerJob: [1, 3], maxSteps: 7, split: false, priorities: false };
    for (let seed = 1; seed <= 400; seed++) {
      const { exact, equal } = compare(seed, shape);
      assert.ok(exact, `seed ${seed}: a job within one budget path must be certified`);
      assert.ok(equal, `seed ${seed}: objective differs from the exact optimum`);
    }
  });

  it("matches the lexicographic optimum with priorities on 300 problems", () => {
    const shape: Shape = { jobs: [2, 5], gpusPerJob: [1, 3], maxSteps: 7, split: false, priorities: true };
    for (let seed = 1001; seed <= 1300; seed++) assert.ok(compare(seed, shape).equal, `seed ${seed}`);
  });

  it("stays feasible with jobs split over budgets, and is optimal whenever it says so", () => {
    const shape: Shape = { jobs: [2, 4], gpusPerJob: [2, 4], maxSteps: 6, split: true, priorities: false };
    let certified = 0;
    for (let seed = 2001; seed <= 2300; seed++) {
      const { exact, equal } = compare(seed, shape);
      if (exact) {
        certified++;
        assert.ok(equal, `seed ${seed}: certified exact but differs from the optimum`);
      }
    }
    assert.ok(certified > 100, `only ${certified} of 300 certified`);
  });

  it("coarse-to-fine rounds give the single-step greedy's objective", () => {
    const shape: Shape = {
      jobs: [20, 60],
      gpusPerJob: [1, 8],
      maxSteps: 3000,
      split: false,
      priorities: true,
    };
    for (let seed = 3001; seed <= 3060; seed++) {
      const input = randomProblem(seed, shape);
      const fast = allocate(input);
      const slow = allocate(input, { scaling: false });
      assertFeasible(input, fast);
      assert.equal(fast.tokensByPriority.length, slow.tokensByPriority.length);
      fast.tokensByPriority.forEach((x, i) => {
        assert.ok(close(x.tokensPerSecond, slow.tokensByPriority[i]!.tokensPerSecond, 1e-9), `seed ${seed}`);
      });
    }
  });

  it("reports binding budgets with their price, and why each job stopped", () => {
    const curve = computeBoundCurve();
    const input: AllocationInput = {
      gpus: [0, 1, 2, 3].map((i) => ({ id: `g${i}`, budget: i < 2 ? 1 : 2, minWatts: 200, maxWatts: 700 })),
      budgets: [
        { id: "site", parent: -1, watts: 2000 },
        { id: "rack1", parent: 0, watts: 800 },
        { id: "rack2", parent: 0, watts: 1400 },
      ],
      jobs: [
        { id: "a", gpus: ["g0", "g1"], tokensPerSecond: 1000, curve },
        { id: "b", gpus: ["g2", "g3"], tokensPerSecond: 1000, curve },
      ],
    };
    const out = allocate(input);
    assert.equal(out.jobs[0]!.capWatts, 400);
    assert.equal(out.jobs[1]!.capWatts, 600);
    assert.deepEqual(
      out.budgets.map((b) => b.binds),
      [true, true, false],
    );
    assert.equal(out.jobs[0]!.stoppedBy, "budget");
    assert.equal(out.jobs[0]!.blockedBy, 1);
    assert.equal(out.jobs[1]!.blockedBy, 0);
    // The rack1 job stopped lower on the curve: its watts are worth more than the site's.
    assert.ok(out.budgets[1]!.marginalTokensPerJoule > out.budgets[0]!.marginalTokensPerJoule);
    assert.ok(out.budgets[0]!.marginalTokensPerJoule > 0);
  });

  it("refuses a budget below the minimum caps, unknown GPUs and shared GPUs", () => {
    const gpus = [{ id: "g0", budget: 0, minWatts: 200, maxWatts: 700 }];
    const curve = computeBoundCurve();
    const site = { id: "site", parent: -1, watts: 1000 };
    const code = (input: AllocationInput) => {
      try {
        allocate(input);
      } catch (err) {
        return err instanceof PowerError ? err.code : "other";
      }
      return "none";
    };
    assert.equal(
      code({ gpus, budgets: [{ id: "r", parent: -1, watts: 150 }], jobs: [] }),
      "budget-below-minimum",
    );
    assert.equal(
      code({ gpus, budgets: [site], jobs: [{ id: "j", gpus: ["nope"], tokensPerSecond: 1, curve }] }),
      "bad-job",
    );
    const twice = { id: "j", gpus: ["g0"], tokensPerSecond: 1, curve };
    assert.equal(code({ gpus, budgets: [site], jobs: [twice, { ...twice, id: "k" }] }), "bad-job");
    assert.equal(code({ gpus, budgets: [], jobs: [] }), "bad-budget");
    assert.equal(code({ gpus, budgets: [{ id: "loop", parent: 0, watts: 1000 }], jobs: [] }), "bad-budget");
  });
});
