/** The power controller on the lab: allocation with profiles and targets, safety over meters, explanations. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadFactory } from "@flightdeck/model";
import {
  type ControlledJob,
  definePolicy,
  PLANNED_PSU_EFFICIENCY,
  PowerController,
  PowerError,
} from "../src/index.ts";

const lab = loadFactory(
  readFileSync(fileURLToPath(new URL("../../../examples/factories/lab.yaml", import.meta.url)), "utf8"),
).build!;

const gpusOf = (rack: string) =>
  lab.graph
    .ofKind("gpu")
    .filter((g) => g.id.startsWith(`gpu:${rack}-`))
    .map((g) => g.id);

const training: ControlledJob = {
  id: "acme-train",
  org: "acme",
  kind: "training",
  priority: 10,
  gpus: gpusOf("r01"),
  tokensPerSecond: 32_000,
};
const batch: ControlledJob = {
  id: "acme-batch",
  org: "acme",
  kind: "training",
  priority: 0,
  gpus: gpusOf("r02"),
  tokensPerSecond: 32_000,
};
const chat: ControlledJob = {
  id: "globex-chat",
  org: "globex",
  kind: "inference",
  priority: 5,
  gpus: gpusOf("r03").slice(0, 8),
  tokensPerSecond: 8_000,
};

/**
 * Readings where the facility meter and both sides' floor PDUs show the GPUs' draw (90% of their
 * caps) plus `share` of the hosts' nameplate overhead, before the supplies' losses.
 */
function observeArgs(c: PowerController, share: number) {
  const root = c.tree.budgets[0]!;
  const gpuDrawWatts = new Map(c.tree.gpus.map((g) => [g.id, c.allocatedWatts(g.id)! * 0.9]));
  const gpuSum = [...gpuDrawWatts.values()].reduce((a, b) => a + b, 0);
  const total = (gpuSum + root.fixedWatts * share) / PLANNED_PSU_EFFICIENCY;
  const deviceWatts = new Map([["facility", total]]);
  for (const d of root.devices.filter((x) => x.includes("fpdu"))) deviceWatts.set(d, total / 2);
  return { deviceWatts, gpuDrawWatts };
}

function sumCaps(c: PowerController, ids: readonly string[]): number {
  return ids.reduce((s, g) => s + c.allocatedWatts(g)!, 0);
}

describe("PowerController", () => {
  it("gives every GPU its maximum when nothing binds, idle GPUs included", () => {
    const c = new PowerController({ build: lab });
    c.setJobs([training, chat]);
    for (const g of c.tree.gpus) assert.equal(c.allocatedWatts(g.id), 700);
    assert.equal(c.levels()[0]!.name, "fpdu-a1 (A) / fpdu-b1 (B)");
  });

  it("under a facility target cuts idle GPUs first, then low priority, and keeps a job's caps equal", () => {
    const c = new PowerController({ build: lab });
    c.setJobs([training, batch, chat]);
    c.setFacilityTarget({ fraction: 0.7 });
    const root = c.tree.budgets[0]!;
    const all = c.tree.gpus.map((g) => g.id);
    assert.ok(sumCaps(c, all) <= root.watts + 1e-6);
    // Idle GPUs sit at their minimum before any job is cut.
    for (const g of gpusOf("r04")) assert.equal(c.allocatedWatts(g), 200);
    // The service (priority 5) gets watts before low-priority training (0) gets any above its floor.
    assert.ok(c.allocatedWatts(chat.gpus[0]!)! > 200);
    assert.equal(c.allocatedWatts(batch.gpus[0]!), 200);
    const caps = (ids: readonly string[]) => new Set(ids.map((g) => c.allocatedWatts(g)));
    assert.equal(caps(training.gpus).size, 1);
    assert.equal(caps(batch.gpus).size, 1);
    assert.equal(c.allocatedWatts(training.gpus[0]!), 700);
    assert.ok(c.allocatedWatts(batch.gpus[0]!)! < 700, "the low-priority job is cut");
    const explained = c.explainGpu(batch.gpus[0]!)!;
    assert.equal(explained.binding.kind, "budget");
    assert.match(explained.text, /budget facility is fully allocated/);
    assert.ok(explained.marginalTokensPerJoule > 0);
    assert.equal(explained.profile?.name, "max-p-training");
  });

  it("applies profiles from the policy and from the job", () => {
    const policy = definePolicy({
      rules: [{ match: { org: "globex" }, profile: "max-q" }],
      default: "max-p",
    });
    const c = new PowerController({ build: lab, policy });
    c.setJobs([training, chat, { ...batch, profile: "max-q" }]);
    assert.equal(c.allocatedWatts(chat.gpus[0]!), 595);
    assert.equal(c.allocatedWatts(batch.gpus[0]!), 595);
    assert.equal(c.allocatedWatts(training.gpus[0]!), 700);
    const e = c.explainGpu(chat.gpus[0]!)!;
    assert.equal(e.profile?.name, "max-q-inference");
    assert.match(e.profile!.reason, /org = globex/);
    // Decode gains nothing above its knee: it holds the watts nobody else wants, up to its profile.
    assert.equal(e.binding.kind, "no-gain");
    assert.equal(c.explainGpu(batch.gpus[0]!)!.binding.kind, "profile");
  });

  it("refuses a target below the running work's minimum caps and keeps the old one", () => {
    const c = new PowerController({ build: lab });
    c.setJobs([training]);
    c.setFacilityTarget({ fraction: 0.8 });
    const before = c.allocatedWatts(training.gpus[0]!);
    assert.throws(
      () => c.setFacilityTarget({ watts: 20_000 }),
      (err: unknown) => err instanceof PowerError && err.code === "budget-below-minimum",
    );
    assert.deepEqual(c.options.facility, { fraction: 0.8 });
    assert.equal(c.allocatedWatts(training.gpus[0]!), before);
    assert.throws(
      () => c.setJobs([training, { ...chat, gpus: [training.gpus[0]!] }]),
      (err: unknown) => err instanceof PowerError && err.code === "bad-job",
    );
    assert.equal(c.explainGpu(training.gpus[0]!)!.job, "acme-train");
  });

  it("counts a GPU whose cap is unconfirmed at its maximum and makes room for it", () => {
    const c = new PowerController({ build: lab });
    c.setJobs([training, batch]);
    c.setFacilityTarget({ fraction: 0.7 });
    const before = sumCaps(c, batch.gpus);
    const pinned = gpusOf("r03").slice(0, 4);
    c.setPinned(pinned);
    for (const g of pinned) assert.equal(c.allocatedWatts(g), 700);
    assert.ok(sumCaps(c, batch.gpus) < before);
    assert.equal(c.explainGpu(pinned[0]!)!.binding.kind, "pinned");
    // A pinned GPU of a job under MAX-Q leaves the job's allocation; the rest of the job keeps one cap.
    c.setJobs([training, { ...batch, profile: "max-q" }]);
    c.setPinned([batch.gpus[0]!]);
    assert.equal(c.allocatedWatts(batch.gpus[0]!), 700);
    assert.equal(new Set(batch.gpus.slice(1).map((g) => c.allocatedWatts(g))).size, 1);
  });

  it("reads a level's draw from its meters and the safety loop cuts an overloaded rack", () => {
    const c = new PowerController({ build: lab });
    c.setJobs([training, batch, chat]);
    const rack = c.tree.budgets[1]!; // r01
    const over = rack.limitWatts * 1.02;
    const deviceWatts = new Map<string, number>();
    // Two cords per side: each of the rack's four PDUs carries a quarter of its nodes' draw.
    for (const d of rack.devices) deviceWatts.set(d, over / 4);
    for (const d of c.tree.budgets[0]!.devices) if (!d.includes("util")) deviceWatts.set(d, 40_000);
    const gpuDrawWatts = new Map(training.gpus.map((g) => [g, 690]));
    // No confirmed caps: every GPU may draw anything up to its maximum, so the reading stands.
    const d = c.observe({ atMs: 1_000, deviceWatts, gpuDrawWatts });
    const level = d.levels[1]!;
    assert.ok(Math.abs(level.drawWatts! - over) < 1e-6);
    assert.equal(level.band, "second");
    assert.ok(d.actions.length > 0);
    for (const a of d.actions) assert.ok(training.gpus.includes(a.gpu));
    assert.ok(d.capWatts.get(training.gpus[0]!)! < 700);
    assert.equal(c.explainGpu(training.gpus[0]!)!.binding.kind, "safety");
    // The root's meters: the util devices are missing, but the floor PDUs of both sides are read.
    assert.equal(d.levels[0]!.drawWatts, 80_000);
  });

  it("does not cut again on a reading the confirmed caps cannot produce (read before they took effect)", () => {
    const c = new PowerController({ build: lab });
    c.setJobs([training, batch, chat]);
    c.setFacilityTarget({ fraction: 0.7 });
    const root = c.tree.budgets[0]!;
    const deviceWatts = new Map(
      root.devices.filter((d) => d.includes("fpdu")).map((d) => [d, root.limitWatts * 0.6]),
    );
    const appliedCapWatts = new Map(c.tree.gpus.map((g) => [g.id, c.allocatedWatts(g.id)!]));
    const stale = c.observe({ atMs: 1_000, deviceWatts, appliedCapWatts });
    assert.equal(stale.actions.length, 0);
    assert.ok(stale.levels[0]!.drawWatts! > root.limitWatts, "the tree shows the meter as read");
    assert.equal(stale.levels[0]!.band, "between");
    // With the caps not yet confirmed (counted at their maximum) the same reading is acted on.
    const unconfirmed = c.observe({ atMs: 2_000, deviceWatts });
    assert.ok(unconfirmed.actions.length > 0);
  });

  it("plans a metered level with its measured other draw where that leaves GPUs more, and goes back to nameplate at once", () => {
    const c = new PowerController({ build: lab, otherDraw: "measured" });
    c.setJobs([training, batch, chat]);
    c.setFacilityTarget({ fraction: 0.62 });
    const root = c.tree.budgets[0]!;
    assert.equal(c.levels()[0]!.otherFrom, "nameplate");
    assert.equal(c.levels()[0]!.otherWatts, root.fixedWatts);
    const batchBefore = c.allocatedWatts(batch.gpus[0]!)!;
    const observe = (atMs: number, share: number) => c.observe({ ...observeArgs(c, share), atMs });
    // Two readings are not enough to trust a peak.
    observe(1_000, 0.4);
    observe(2_000, 0.4);
    assert.equal(c.levels()[0]!.otherFrom, "nameplate");
    const third = observe(3_000, 0.4);
    const level = third.levels[0]!;
    assert.equal(level.otherFrom, "meters");
    assert.ok(Math.abs(level.otherWatts - root.fixedWatts * 0.4 * 1.1) < 1e-6, `${level.otherWatts}`);
    assert.ok(level.gpuWatts > root.watts);
    // Planned so that caps plus the other draw at its margin stay under the first threshold.
    assert.ok(level.gpuWatts + level.otherWatts <= 0.95 * root.limitWatts * PLANNED_PSU_EFFICIENCY + 1e-6);
    assert.ok(c.allocatedWatts(batch.gpus[0]!)! > batchBefore, "the low-priority job gets the watts back");
    assert.match(c.explainGpu(batch.gpus[0]!)!.text, /measured other draw/);
    // Hosts busy again: the next reading is the window's new peak and nameplate planning returns.
    const busy = observe(4_000, 1);
    assert.equal(busy.levels[0]!.otherFrom, "nameplate");
    assert.equal(c.allocatedWatts(batch.gpus[0]!), batchBefore);
    // By default the hosts' nameplate is what budgets are planned with, whatever the meters say.
    const plain = new PowerController({ build: lab });
    plain.setJobs([training, batch, chat]);
    plain.setFacilityTarget({ fraction: 0.62 });
    for (const atMs of [1_000, 2_000, 3_000]) plain.observe({ ...observeArgs(plain, 0.4), atMs });
    assert.equal(plain.levels()[0]!.otherFrom, "nameplate");
  });

  it("assumes a level with a missing meter is at its limit", () => {
    const c = new PowerController({ build: lab });
    const d = c.observe({ atMs: 1_000, deviceWatts: new Map() });
    assert.equal(d.levels[1]!.drawWatts, undefined);
    assert.equal(d.capWatts.size, 128);
  });
});
