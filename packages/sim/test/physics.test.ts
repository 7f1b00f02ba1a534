import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CAP_DRAW_RATIO,
  createState,
  type FactoryState,
  MAX_Q_POWER_FRACTION,
  PROFILE_MAX_Q,
  PSU_EFFICIENCY,
  setGpuCapWatts,
  setGpuProfile,
  THERMAL_TIME_CONSTANT_S,
  tick,
  truthOf,
} from "../src/index.ts";
import { example } from "./factories.ts";

const lab = example("lab");
const compute = { decodeShare: 0, idleShare: 0 };
const decode = { decodeShare: 1, idleShare: 0 };
const state = (seed = 1, workload = {}): FactoryState =>
  createState(lab.graph, lab.catalog, { seed, workload });

describe("physics", () => {
  it("never draws more than the cap, whatever the cap and profile", () => {
    const s = state(3);
    for (let g = 0; g < s.topo.gpuCount; g++) {
      setGpuCapWatts(s, g, 150 + ((g * 37) % 600)); // below min is clamped to 200 W
      if (g % 3 === 0) setGpuProfile(s, g, PROFILE_MAX_Q);
    }
    assert.equal(s.gpu.capWatts[0], 200);
    for (let t = 0; t < 120; t++) {
      tick(s, 1);
      for (let g = 0; g < s.topo.gpuCount; g++) {
        assert.ok(s.gpu.powerWatts[g]! <= s.gpu.capWatts[g]!, `GPU ${g} at tick ${t}`);
        if (s.gpu.profile[g] === PROFILE_MAX_Q) assert.ok(s.gpu.powerWatts[g]! <= MAX_Q_POWER_FRACTION * 700);
      }
    }
  });

  it("keeps the energy counter monotonic and equal to ∫ power dt within 0.1%", () => {
    const s = state(5);
    const integral = new Float64Array(s.topo.gpuCount);
    const previous = new Float64Array(s.topo.gpuCount);
    for (let t = 0; t < 200; t++) {
      const dt = [0.5, 1, 2][t % 3]!;
      tick(s, dt);
      for (let g = 0; g < s.topo.gpuCount; g++) {
        integral[g]! += s.gpu.powerWatts[g]! * dt;
        assert.ok(s.gpu.energyMillijoules[g]! >= previous[g]!);
        previous[g] = s.gpu.energyMillijoules[g]!;
      }
    }
    for (let g = 0; g < s.topo.gpuCount; g++) {
      const joules = s.gpu.energyMillijoules[g]! / 1000;
      assert.ok(
        Math.abs(joules - integral[g]!) <= 0.001 * integral[g]!,
        `GPU ${g}: ${joules} vs ${integral[g]}`,
      );
    }
    assert.ok(Math.abs(truthOf(s).gpuEnergyJoules - integral.reduce((a, b) => a + b, 0)) < 1);
  });

  it("heats toward the steady state with a first-order lag, without overshoot", () => {
    const s = state(7, compute);
    const g = 0;
    const start = s.gpu.gpuTempC[g]!;
    let last = start;
    for (let t = 0; t < 5 * THERMAL_TIME_CONSTANT_S; t++) {
      tick(s, 1);
      assert.ok(s.gpu.gpuTempC[g]! >= last - 0.5, "temperature falls under steady load");
      last = s.gpu.gpuTempC[g]!;
    }
    const { info } = s.topo.models[0]!;
    const steady = s.rackInletC[s.topo.nodeRack[0]!]! + info.thermalResistanceCPerWatt * s.gpu.powerWatts[g]!;
    assert.ok(last > start + 20, `rose from ${start} to ${last}`);
    assert.ok(Math.abs(last - steady) < 1.5, `${last} vs steady ${steady}`);
    assert.ok(s.gpu.memTempC[g]! > s.gpu.gpuTempC[g]!);
  });

  it("after one time constant has covered ~63% of the way", () => {
    const s = state(7, compute);
    tick(s, 1);
    const t0 = s.gpu.gpuTempC[0]!;
    const p = s.gpu.powerWatts[0]!;
    const steady = s.rackInletC[s.topo.nodeRack[0]!]! + s.topo.models[0]!.info.thermalResistanceCPerWatt * p;
    // Hold utilization still so that the steady state stays put.
    s.workload.noiseStd = 0;
    s.workload.noise.fill(0);
    for (let t = 0; t < THERMAL_TIME_CONSTANT_S; t++) tick(s, 1);
    const covered = (s.gpu.gpuTempC[0]! - t0) / (steady - t0);
    assert.ok(Math.abs(covered - (1 - Math.exp(-1))) < 0.05, `covered ${covered}`);
  });

  it("throttles clocks and counts thermal violation time above the slowdown temperature", () => {
    const s = state(9, compute);
    s.rackInletC.fill(70);
    for (let t = 0; t < 200; t++) tick(s, 1);
    const { info } = s.topo.models[0]!;
    assert.ok(s.gpu.gpuTempC[0]! > info.slowdownTempC);
    assert.ok(s.gpu.smClockMHz[0]! < info.maxSmClockMHz * 0.9, `clock ${s.gpu.smClockMHz[0]}`);
    assert.ok(s.gpu.thermalViolationNs[0]! > 0);
    assert.ok(s.gpu.throughputRel[0]! < 0.9);
  });

  it("caps cost compute-bound work throughput and power; decode barely notices", () => {
    const train = state(11, compute);
    const infer = state(11, decode);
    for (const s of [train, infer]) for (let t = 0; t < 5; t++) tick(s, 1);
    const trainPower = train.gpu.powerWatts[0]!;
    const inferPower = infer.gpu.powerWatts[0]!;
    assert.ok(trainPower > 600 && trainPower <= CAP_DRAW_RATIO * 700 + 1e-9, `training draws ${trainPower}`);
    assert.ok(inferPower > 137 && inferPower < 300, `decode draws ${inferPower} (FACTS.md: 137–300 W)`);
    for (const s of [train, infer]) for (let g = 0; g < s.topo.gpuCount; g++) setGpuCapWatts(s, g, 400);
    for (const s of [train, infer]) tick(s, 1);
    assert.ok(train.gpu.powerWatts[0]! <= 400 * CAP_DRAW_RATIO + 1e-9);
    assert.ok(train.gpu.throughputRel[0]! < 0.95 && train.gpu.throughputRel[0]! > 0.7);
    assert.equal(infer.gpu.throughputRel[0], 1);
    assert.ok(Math.abs(infer.gpu.powerWatts[0]! - inferPower) < 20);
    assert.ok(train.gpu.powerViolationNs[0]! > 0);
  });

  it("sums power up the tree: every device carries what it feeds, feeds carry all node input", () => {
    const s = state(13);
    for (let t = 0; t < 10; t++) tick(s, 1);
    const { graph } = lab;
    const { feedsDown, feedsUp } = graph.rel;
    const watts = (index: number): number => {
      const e = graph.at(index);
      if (e.kind === "node") return s.nodePowerWatts[s.topo.nodeSlotByName.get(e.name)!]! / PSU_EFFICIENCY;
      return s.powerWatts[s.topo.powerIds.indexOf(e.id)]!;
    };
    const ups = (index: number): number => feedsUp.offsets[index + 1]! - feedsUp.offsets[index]!;
    let feeds = 0;
    for (let d = 0; d < s.topo.powerCount; d++) {
      const index = s.topo.powerEntity[d]!;
      let expected = 0;
      for (let k = feedsDown.offsets[index]!; k < feedsDown.offsets[index + 1]!; k++) {
        const c = feedsDown.items[k]!;
        expected += watts(c) / ups(c);
      }
      assert.ok(Math.abs(s.powerWatts[d]! - expected) < 1e-6, s.topo.powerIds[d]);
      if (ups(index) === 0) feeds += s.powerWatts[d]!;
    }
    const truth = truthOf(s);
    assert.ok(Math.abs(feeds - truth.nodeInputWatts) < 1e-6);
    assert.ok(truth.levels.feed! > 0 && Math.abs(truth.levels.feed! - truth.levels.rackPdu!) < 1e-6);
    // A DGX H100 in training: ~8.4 kW measured peak against a 10.2 kW rating (FACTS.md).
    const trainer = createState(lab.graph, lab.catalog, { seed: 1, workload: compute });
    for (let t = 0; t < 5; t++) tick(trainer, 1);
    const node = trainer.nodePowerWatts[0]!;
    assert.ok(node > 7000 && node < 9000, `DGX H100 node draws ${node} W`);
  });

  it("is deterministic: the same seed gives identical state, another seed another", () => {
    const run = (seed: number): FactoryState => {
      const s = state(seed);
      for (let t = 0; t < 50; t++) tick(s, 1);
      return s;
    };
    const a = run(42);
    const b = run(42);
    const c = run(43);
    for (const key of Object.keys(a.gpu) as (keyof FactoryState["gpu"])[]) {
      assert.deepEqual(Buffer.from(a.gpu[key].buffer), Buffer.from(b.gpu[key].buffer), key);
    }
    assert.deepEqual(a.powerWatts, b.powerWatts);
    assert.notDeepEqual(a.gpu.utilization, c.gpu.utilization);
    assert.notDeepEqual(a.powerWatts, c.powerWatts);
  });

  it("rejects a non-positive tick", () => {
    assert.throws(() => tick(state(), 0), /dtSeconds must be > 0/);
    assert.throws(() => tick(state(), Number.NaN), /dtSeconds must be > 0/);
  });
});
