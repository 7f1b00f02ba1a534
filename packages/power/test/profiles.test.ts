/** Workload power profiles: built-ins per GPU type, custom validation, policies, the allocator. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { builtinCatalog } from "@flightdeck/model";
import {
  type AllocationInput,
  allocate,
  applyProfile,
  applyProfiles,
  builtinProfiles,
  computeBoundCurve,
  definePolicy,
  defineProfile,
  type PowerProfile,
  ProfileError,
  resolveProfile,
} from "../src/index.ts";

const GPU_TYPES = ["h100-sxm", "h200-sxm", "b200", "gb200"];

function profile(gpuType: string, name: string): PowerProfile {
  return builtinProfiles(gpuType).find((p) => p.name === name)!;
}

describe("built-in profiles", () => {
  for (const gpuType of GPU_TYPES) {
    it(`${gpuType}: MAX-P at the maximum, MAX-Q at 85%, for training and inference`, () => {
      const spec = builtinCatalog.gpus[gpuType]!;
      const all = builtinProfiles(gpuType);
      assert.deepEqual(
        all.map((p) => p.name),
        ["max-p-training", "max-p-inference", "max-q-training", "max-q-inference"],
      );
      for (const p of all) {
        assert.ok(Object.isFrozen(p));
        assert.equal(p.gpuType, gpuType);
        const expected = p.mode === "max-p" ? spec.maxWatts : Math.round(0.85 * spec.maxWatts);
        assert.equal(p.capWatts.value, expected);
        assert.ok(p.capWatts.value >= spec.minWatts && p.capWatts.value <= spec.maxWatts);
        assert.equal(p.capFraction, p.capWatts.value / spec.maxWatts);
        assert.match(p.capWatts.source, /^FACTS\.md/);
        // Redfish = nvidia-smi + 3 (FACTS.md).
        assert.equal(p.redfishId!.value, p.nvidiaSmiId!.value + 3);
        assert.equal(p.nvidiaSmiId!.value, p.mode === "max-p" ? 0 : 1);
        assert.match(p.redfishId!.source, /nvidia-smi ID \+ 3/);
        assert.equal(p.smClockMHz, undefined);
        assert.equal(p.memoryClockMHz, undefined);
      }
      assert.match(profile(gpuType, "max-q-inference").capWatts.source, /assumption:/);
      const blackwell = gpuType === "b200" || gpuType === "gb200";
      assert.equal(/Blackwell/.test(profile(gpuType, "max-q-training").capWatts.source), blackwell);
    });
  }

  it("h100-sxm MAX-Q is 595 W; gb200 MAX-Q is 1020 W", () => {
    assert.equal(profile("h100-sxm", "max-q-training").capWatts.value, 595);
    assert.equal(profile("gb200", "max-q-inference").capWatts.value, 1020);
  });

  it("refuses an unknown GPU type", () => {
    assert.throws(() => builtinProfiles("a100"), {
      name: "ProfileError",
      code: "unknown-gpu",
      field: "gpuType",
    });
  });
});

describe("custom profiles", () => {
  it("accepts a cap in watts or as a fraction, with clock limits", () => {
    const a = defineProfile({
      name: "eco",
      gpuType: "b200",
      capWatts: 600,
      smClockMHz: 1500,
      source: "ops ticket 7",
    });
    assert.equal(a.mode, "custom");
    assert.equal(a.capWatts.value, 600);
    assert.equal(a.capFraction, 0.6);
    assert.deepEqual(a.smClockMHz, { value: 1500, source: "ops ticket 7" });
    assert.equal(a.nvidiaSmiId, undefined);
    const b = defineProfile({ name: "half", gpuType: "h100-sxm", capFraction: 0.5, kind: "inference" });
    assert.equal(b.capWatts.value, 350);
    assert.equal(b.kind, "inference");
  });

  const bad: [string, Parameters<typeof defineProfile>[0], string, string, RegExp][] = [
    [
      "cap below min",
      { name: "x", gpuType: "h100-sxm", capWatts: 150 },
      "bad-profile",
      "capWatts",
      /\[200, 700\]/,
    ],
    ["cap above max", { name: "x", gpuType: "h200-sxm", capWatts: 701 }, "bad-profile", "capWatts", /701 W/],
    [
      "fraction below min",
      { name: "x", gpuType: "gb200", capFraction: 0.1 },
      "bad-profile",
      "capFraction",
      /120 W/,
    ],
    [
      "fraction over 1",
      { name: "x", gpuType: "b200", capFraction: 1.2 },
      "bad-profile",
      "capFraction",
      /\(0, 1\]/,
    ],
    [
      "both caps",
      { name: "x", gpuType: "b200", capWatts: 500, capFraction: 0.5 },
      "bad-profile",
      "capWatts",
      /one/,
    ],
    ["no cap", { name: "x", gpuType: "b200" }, "bad-profile", "capWatts", /exactly one/],
    ["NaN cap", { name: "x", gpuType: "b200", capWatts: Number.NaN }, "bad-profile", "capWatts", /outside/],
    [
      "bad clock",
      { name: "x", gpuType: "b200", capWatts: 500, memoryClockMHz: -1 },
      "bad-profile",
      "memoryClockMHz",
      /positive/,
    ],
    ["unknown GPU", { name: "x", gpuType: "v100", capWatts: 250 }, "unknown-gpu", "gpuType", /v100/],
    [
      "reserved name",
      { name: "max-q-training", gpuType: "b200", capWatts: 500 },
      "bad-profile",
      "name",
      /reserved/,
    ],
    ["empty name", { name: "", gpuType: "b200", capWatts: 500 }, "bad-profile", "name", /name/],
  ];
  for (const [what, input, code, field, message] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(
        () => defineProfile(input),
        (e: unknown) => {
          assert.ok(e instanceof ProfileError);
          assert.equal(e.code, code);
          assert.equal(e.field, field);
          assert.match(e.message, message);
          assert.ok(e.message.includes(field));
          return true;
        },
      );
    });
  }
});

describe("policies", () => {
  const eco = defineProfile({ name: "eco", gpuType: "h100-sxm", capWatts: 400 });
  const policy = definePolicy({
    rules: [
      { name: "urgent", match: { priority: { min: 10 } }, profile: "max-p" },
      { name: "research-batch", match: { org: "research", priority: { max: 0 } }, profile: "eco" },
      { name: "nightly", match: { job: "nightly-*" }, profile: "max-q-training" },
      { name: "serving", match: { kind: "inference" }, profile: "max-q" },
    ],
    default: "max-p",
    profiles: [eco],
  });

  const cases: [string, Parameters<typeof resolveProfile>[1], string, number][] = [
    [
      "priority 10 wins over every later rule",
      { id: "a", org: "research", priority: 10, kind: "inference" },
      "max-p-inference",
      0,
    ],
    ["org and priority both hold", { id: "b", org: "research", priority: -2 }, "eco", 1],
    [
      "org holds but priority does not",
      { id: "c", org: "research", priority: 5, name: "nightly-eval" },
      "max-q-training",
      2,
    ],
    ["glob on the job name", { id: "d", name: "nightly-llama", kind: "inference" }, "max-q-training", 2],
    ["glob must match the whole name", { id: "e", name: "my-nightly-llama" }, "max-p-training", -1],
    ["glob falls back to the id", { id: "nightly-7" }, "max-q-training", 2],
    ["kind picks the MAX-Q variant", { id: "f", kind: "inference", priority: 3 }, "max-q-inference", 3],
    ["no rule: the default", { id: "g", kind: "training" }, "max-p-training", -1],
  ];
  for (const [what, job, name, index] of cases) {
    it(what, () => {
      const r = resolveProfile(policy, job, "h100-sxm");
      assert.equal(r.profile.name, name);
      assert.equal(r.ruleIndex, index);
      assert.equal(r.rule, index >= 0 ? policy.rules[index] : null);
      if (index >= 0)
        assert.ok(r.reason.startsWith(`rule ${index} "${policy.rules[index]!.name}" (`), r.reason);
      else assert.equal(r.reason, "default");
    });
  }

  it("explains the rule that applied", () => {
    const r = resolveProfile(policy, { id: "b", org: "research", priority: 0 }, "h100-sxm");
    assert.equal(r.reason, 'rule 1 "research-batch" (org = research, priority ≤ 0)');
  });

  it("resolves built-ins for the job's GPU type", () => {
    assert.equal(
      resolveProfile(policy, { id: "x", name: "nightly-a" }, "gb200").profile.capWatts.value,
      1020,
    );
  });

  it("refuses a custom profile missing for the GPU type", () => {
    assert.throws(() => resolveProfile(policy, { id: "b", org: "research", priority: 0 }, "b200"), {
      code: "unknown-profile",
      message: /"eco" is not defined for GPU type b200/,
    });
  });

  it("an empty rule list always gives the default", () => {
    const p = definePolicy({ rules: [], default: "max-q" });
    const r = resolveProfile(p, { id: "j", kind: "inference" }, "b200");
    assert.equal(r.profile.name, "max-q-inference");
    assert.equal(r.rule, null);
  });

  it("is frozen", () => {
    assert.ok(
      Object.isFrozen(policy) && Object.isFrozen(policy.rules) && Object.isFrozen(policy.rules[0]!.match),
    );
  });

  const badPolicies: [string, Parameters<typeof definePolicy>[0], string, string][] = [
    [
      "unknown rule profile",
      { rules: [{ match: {}, profile: "turbo" }], default: "max-p" },
      "unknown-profile",
      "rules[0].profile",
    ],
    ["unknown default", { rules: [], default: "max-r" }, "unknown-profile", "default"],
    [
      "inverted priority range",
      {
        rules: [
          { match: {}, profile: "max-p" },
          { match: { priority: { min: 5, max: 1 } }, profile: "max-q" },
        ],
        default: "max-p",
      },
      "bad-policy",
      "rules[1].match.priority",
    ],
    [
      "empty org",
      { rules: [{ match: { org: "" }, profile: "max-p" }], default: "max-p" },
      "bad-policy",
      "rules[0].match.org",
    ],
    ["duplicate custom", { rules: [], default: "max-p", profiles: [eco, eco] }, "bad-policy", "profiles[1]"],
  ];
  for (const [what, input, code, field] of badPolicies) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => definePolicy(input),
        (e: unknown) => {
          assert.ok(e instanceof ProfileError);
          assert.equal(e.code, code);
          assert.equal(e.field, field);
          assert.ok(e.message.includes(field));
          return true;
        },
      );
    });
  }
});

describe("profiles and the allocator", () => {
  const maxQ = profile("h100-sxm", "max-q-training");
  const maxP = profile("h100-sxm", "max-p-training");

  it("applyProfile lowers maxWatts, never raises it, and refuses a cap below the minimum", () => {
    const gpu = { id: "g0", budget: -1, minWatts: 200, maxWatts: 700 };
    assert.deepEqual(applyProfile(gpu, maxQ), { ...gpu, maxWatts: 595 });
    assert.deepEqual(applyProfile({ ...gpu, maxWatts: 500 }, maxP), { ...gpu, maxWatts: 500 });
    assert.throws(() => applyProfile({ ...gpu, minWatts: 600 }, maxQ), { code: "bad-profile" });
  });

  const curve = computeBoundCurve();
  const input: AllocationInput = {
    gpus: ["a0", "a1", "b0", "b1", "c0"].map((id) => ({ id, budget: 0, minWatts: 200, maxWatts: 700 })),
    budgets: [{ id: "rack", parent: -1, watts: 5 * 700 }],
    jobs: [
      { id: "train-q", gpus: ["a0", "a1"], tokensPerSecond: 1000, curve },
      { id: "train-p", gpus: ["b0", "b1"], tokensPerSecond: 1000, curve },
    ],
  };
  const policy = definePolicy({ rules: [{ match: { job: "*-q" }, profile: "max-q" }], default: "max-p" });
  const profileOf = (job: { id: string }) => resolveProfile(policy, job, "h100-sxm").profile;

  it("MAX-Q jobs stay at 85% with room to spare; their throughput is read against the real maximum", () => {
    const profiled = applyProfiles(input, profileOf);
    const out = allocate(profiled);
    const [q, p] = out.jobs;
    assert.equal(q!.capWatts, 595);
    assert.equal(q!.stoppedBy, "max");
    assert.equal(p!.capWatts, 700);
    assert.ok(Math.abs(q!.tokensPerSecond - 1000 * curve(0.85)) < 1e-9);
    assert.ok(Math.abs(p!.tokensPerSecond - 1000) < 1e-9);
    // Every GPU of the MAX-Q job holds its cap; the GPU in no job keeps its range.
    for (const id of ["a0", "a1"]) assert.equal(profiled.gpus.find((g) => g.id === id)!.maxWatts, 595);
    assert.equal(profiled.gpus.find((g) => g.id === "c0")!.maxWatts, 700);
    assert.equal(input.gpus[0]!.maxWatts, 700, "the input is not modified");
  });

  it("under a tight budget MAX-Q still caps its job and the rest goes to MAX-P", () => {
    const tight = { ...input, budgets: [{ id: "rack", parent: -1, watts: 200 + 4 * 560 }] };
    const out = allocate(applyProfiles(tight, profileOf));
    const [q, p] = out.jobs;
    assert.ok(q!.capWatts <= 595);
    assert.ok(p!.capWatts <= 700);
    assert.ok(Math.abs(2 * q!.capWatts + 2 * p!.capWatts + 200 - 2440) <= 1);
    // A watt is worth the same to both jobs at the optimum: caps meet in real-maximum terms.
    assert.ok(Math.abs(q!.capWatts - p!.capWatts) <= 1, `${q!.capWatts} vs ${p!.capWatts}`);
  });

  it("a job with no profile is unchanged", () => {
    const out = applyProfiles(input, () => undefined);
    assert.equal(out.jobs[0], input.jobs[0]);
    assert.deepEqual(out.gpus, input.gpus);
  });
});
