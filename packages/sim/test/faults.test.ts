import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  COOLING_MAX_RISE_C,
  createState,
  type FactoryState,
  type FaultRecord,
  injectFault,
  type RunningSim,
  STRAGGLER_FACTOR,
  startSim,
  type Truth,
  tick,
  WORK_COMPUTE,
} from "../src/index.ts";
import { example } from "./factories.ts";
import { parsePromText } from "./prom-text.ts";

const lab = example("lab");
let sim: RunningSim;

const post = (body: string) =>
  fetch(`${sim.url}/sim/faults`, { method: "POST", headers: { "content-type": "application/json" }, body });

async function inject(kind: string, target: string, extra: object = {}): Promise<FaultRecord> {
  const res = await post(JSON.stringify({ kind, target, ...extra }));
  const body = (await res.json()) as FaultRecord;
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

/** Values of one family on a node's page, by `gpu` label. */
async function page(node: string): Promise<(name: string) => Map<string, number>> {
  const res = await fetch(`${sim.url}/nodes/${node}/metrics`);
  assert.equal(res.status, 200);
  const families = parsePromText(await res.text());
  return (name) => {
    const out = new Map<string, number>();
    for (const s of families.get(name)?.samples ?? []) out.set(Object.fromEntries(s.labels).gpu!, s.value);
    return out;
  };
}

/** Resolves once `cond` holds, polling every 20 ms; fails after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first node whose GPUs all run compute-bound work, not in `exclude`. */
function computeNode(state: FactoryState, exclude: string[] = []): string {
  const { topo, workload } = state;
  for (let n = 0; n < topo.nodeCount; n++) {
    const start = topo.nodeGpuStart[n]!;
    const name = topo.nodeNames[n]!;
    if (topo.nodeGpuStart[n + 1]! > start && workload.kind[start] === WORK_COMPUTE && !exclude.includes(name))
      return name;
  }
  throw new Error("no compute node");
}

const slotOf = (state: FactoryState, node: string, ordinal: number): number =>
  state.topo.nodeGpuStart[state.topo.nodeSlotByName.get(node)!]! + ordinal;

describe("fault injection", () => {
  before(async () => {
    sim = await startSim({ factoryFile: lab.file, port: 0, seed: 4, speed: 1000 });
  });
  after(async () => {
    await sim?.stop();
  });

  it("refuses bad requests with 400 naming the field", async () => {
    const cases: [string, RegExp][] = [
      ["{not json", /^body/],
      ["[1]", /^body/],
      [JSON.stringify({ kind: "xid13", target: "gpu:r01-dgx1/0" }), /^kind/],
      [JSON.stringify({ target: "gpu:r01-dgx1/0" }), /^kind/],
      [JSON.stringify({ kind: "xid48", target: "gpu:nope/0" }), /^target/],
      [JSON.stringify({ kind: "xid48", target: "gpu:r01-dgx1/99" }), /^target/],
      [JSON.stringify({ kind: "xid48", target: "rack:r01" }), /^target/],
      [JSON.stringify({ kind: "cooling", target: "gpu:r01-dgx1/0" }), /^target/],
      [JSON.stringify({ kind: "cooling", target: "rack:r99" }), /^target/],
      [
        JSON.stringify({ kind: "straggler", target: "gpu:r01-dgx1/0", durationSeconds: -1 }),
        /^durationSeconds/,
      ],
    ];
    for (const [body, error] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.match(((await res.json()) as { error: string }).error, error, body);
    }
    const truth = (await (await fetch(`${sim.url}/sim/truth`)).json()) as Truth;
    assert.deepEqual(truth.faults, []);
  });

  it("xid79: the GPU falls off the bus, its series vanish and its power drops to 0", async () => {
    const record = await inject("xid79", "gpu:r01-dgx1/3");
    assert.equal(record.id, "fault-1");
    assert.equal(record.kind, "xid79");
    assert.equal(record.target, "gpu:r01-dgx1/3");
    assert.equal(typeof record.atSeconds, "number");
    const at = sim.state.ticks;
    await until(() => sim.state.ticks > at + 2, 5000, "ticks");
    const values = await page("r01-dgx1");
    const power = values("DCGM_FI_DEV_POWER_USAGE");
    assert.equal(power.size, 7);
    assert.ok(!power.has("3"));
    assert.ok(!values("DCGM_FI_DEV_XID_ERRORS").has("3"));
    assert.equal(values("DCGM_FI_DEV_GPU_TEMP").size, 7);
    assert.equal(sim.state.gpu.powerWatts[slotOf(sim.state, "r01-dgx1", 3)], 0);
    // Once gone, the GPU takes no further faults.
    for (const kind of ["xid79", "xid48", "straggler"]) {
      const res = await post(JSON.stringify({ kind, target: "gpu:r01-dgx1/3" }));
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { error: string }).error, /off the bus/);
    }
  });

  it("xid48/94/95: the double-bit ECC counters step and XID_ERRORS shows the Xid", async () => {
    const before = await page("r01-dgx1");
    await inject("xid48", "gpu:r01-dgx1/4");
    await inject("xid94", "gpu:r01-dgx1/5");
    await inject("xid95", "gpu:r01-dgx1/6");
    const after = await page("r01-dgx1");
    const xid = after("DCGM_FI_DEV_XID_ERRORS");
    assert.equal(xid.get("4"), 48);
    assert.equal(xid.get("5"), 94);
    assert.equal(xid.get("6"), 95);
    assert.equal(xid.get("0"), 0);
    for (const name of ["DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL"]) {
      for (const gpu of ["4", "5", "6"]) assert.equal(after(name).get(gpu), before(name).get(gpu)! + 1, name);
      assert.equal(after(name).get("0"), before(name).get("0"));
    }
  });

  it("xid74: the NVLink error counters climb every tick", async () => {
    await inject("xid74", "gpu:r01-dgx1/7");
    const first = await page("r01-dgx1");
    assert.equal(first("DCGM_FI_DEV_XID_ERRORS").get("7"), 74);
    const at = sim.state.ticks;
    await until(() => sim.state.ticks > at + 3, 5000, "ticks");
    const later = await page("r01-dgx1");
    for (const name of [
      "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL",
      "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL",
      "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL",
    ]) {
      assert.ok(later(name).get("7")! > first(name).get("7")!, name);
      assert.equal(later(name).get("0"), 0, name);
    }
  });

  it("straggler: SM clock and throughput drop to about half, and recover when it clears", async () => {
    const node = computeNode(sim.state, ["r01-dgx1"]);
    const record = await inject("straggler", `gpu:${node}/2`, { durationSeconds: 1e9 });
    assert.equal(record.clearedAtSeconds, record.atSeconds + 1e9);
    const at = sim.state.ticks;
    await until(() => sim.state.ticks > at + 2, 5000, "ticks");
    const clock = (await page(node))("DCGM_FI_DEV_SM_CLOCK");
    const ratio = clock.get("2")! / clock.get("1")!;
    assert.ok(ratio > STRAGGLER_FACTOR - 0.1 && ratio < STRAGGLER_FACTOR + 0.1, `clock ratio ${ratio}`);
    const g = slotOf(sim.state, node, 2);
    const thr = sim.state.gpu.throughputRel[g]! / sim.state.gpu.throughputRel[g - 1]!;
    assert.ok(Math.abs(thr - STRAGGLER_FACTOR) < 0.1, `throughput ratio ${thr}`);

    const short = await inject("straggler", `gpu:${node}/4`, { durationSeconds: 3 });
    assert.equal(short.clearedAtSeconds, short.atSeconds + 3);
    await until(() => sim.state.timeSeconds > short.atSeconds + 5, 5000, "the fault to clear");
    const truth = (await (await fetch(`${sim.url}/sim/truth`)).json()) as Truth;
    assert.equal(truth.faults.find((f) => f.id === short.id)?.active, false);
    assert.equal(truth.faults.find((f) => f.id === record.id)?.active, true);
    const cleared = (await page(node))("DCGM_FI_DEV_SM_CLOCK");
    assert.ok(cleared.get("4")! / cleared.get("1")! > 0.9);
  });

  it("cooling: the rack's inlet climbs, GPUs heat up and throttle", async () => {
    const rack = sim.state.topo.rackNames.indexOf("r02");
    const inlet = sim.state.rackInletC[rack]!;
    const node = "r02-dgx1";
    const temp0 = (await page(node))("DCGM_FI_DEV_GPU_TEMP");
    await inject("cooling", "rack:r02");
    // Throttled: some GPU accrues thermal violation time with its SM clock well under 1980 MHz.
    const throttled = async () => {
      const values = await page(node);
      const clock = values("DCGM_FI_DEV_SM_CLOCK");
      return [...values("DCGM_FI_DEV_THERMAL_VIOLATION")].some(([gpu, v]) => v > 0 && clock.get(gpu)! < 1900);
    };
    await until(throttled, 15000, "thermal throttling");
    assert.ok(sim.state.rackInletC[rack]! > inlet + COOLING_MAX_RISE_C / 2);
    const temp = (await page(node))("DCGM_FI_DEV_GPU_TEMP");
    for (const [gpu, t] of temp) assert.ok(t > temp0.get(gpu)! + 10, `gpu ${gpu}: ${temp0.get(gpu)} → ${t}`);
    // Other racks keep their cooling.
    const other = sim.state.topo.rackNames.indexOf("r03");
    assert.ok(sim.state.rackInletC[other]! < 28);
  });

  it("lists every fault in /sim/truth, in order", async () => {
    const truth = (await (await fetch(`${sim.url}/sim/truth`)).json()) as Truth;
    assert.deepEqual(
      truth.faults.map((f) => [f.id, f.kind, f.target.split("/")[0]]),
      [
        ["fault-1", "xid79", "gpu:r01-dgx1"],
        ["fault-2", "xid48", "gpu:r01-dgx1"],
        ["fault-3", "xid94", "gpu:r01-dgx1"],
        ["fault-4", "xid95", "gpu:r01-dgx1"],
        ["fault-5", "xid74", "gpu:r01-dgx1"],
        ["fault-6", "straggler", truth.faults[5]!.target.split("/")[0]],
        ["fault-7", "straggler", truth.faults[6]!.target.split("/")[0]],
        ["fault-8", "cooling", "rack:r02"],
      ],
    );
    for (let i = 1; i < truth.faults.length; i++)
      assert.ok(truth.faults[i]!.atSeconds >= truth.faults[i - 1]!.atSeconds);
    assert.ok(truth.faults.every((f) => f.atSeconds <= truth.timeSeconds));
    assert.equal(truth.faults[0]!.clearedAtSeconds, undefined);
  });
});

describe("fault injection, driven by hand", () => {
  const faults = (s: FactoryState, t: number) => {
    if (t === 2) injectFault(s, { kind: "xid79", target: "gpu:r01-dgx1/0" });
    if (t === 3) injectFault(s, { kind: "xid74", target: "gpu:r02-dgx1/1", durationSeconds: 10 });
    if (t === 4) injectFault(s, { kind: "straggler", target: "gpu:r03-dgx1/2" });
    if (t === 5) injectFault(s, { kind: "cooling", target: "rack:r04", durationSeconds: 20 });
    if (t === 6) injectFault(s, { kind: "xid48", target: "gpu:r01-dgx2/1" });
  };
  const run = (withFaults: boolean): FactoryState => {
    const s = createState(lab.graph, lab.catalog, { seed: 9 });
    for (let t = 0; t < 60; t++) {
      if (withFaults) faults(s, t);
      tick(s, 1);
    }
    return s;
  };

  it("is deterministic: same seed and faults at the same sim times give the same state", () => {
    const a = run(true);
    const b = run(true);
    for (const key of Object.keys(a.gpu) as (keyof FactoryState["gpu"])[])
      assert.deepEqual(a.gpu[key], b.gpu[key], key);
    assert.deepEqual(a.nodePowerWatts, b.nodePowerWatts);
    assert.deepEqual(a.rackInletC, b.rackInletC);
    assert.deepEqual(a.powerWatts, b.powerWatts);
    assert.deepEqual(a.faults.records, b.faults.records);
  });

  it("xid79 takes the GPU's draw off its node; timed faults clear", () => {
    const faulty = run(true);
    const clean = run(false);
    const node = faulty.topo.nodeSlotByName.get("r01-dgx1")!;
    const g = faulty.topo.nodeGpuStart[node]!;
    assert.equal(faulty.gpu.powerWatts[g], 0);
    const drop = clean.nodePowerWatts[node]! - faulty.nodePowerWatts[node]!;
    assert.ok(drop >= clean.gpu.powerWatts[g]! - 1e-9, `drop ${drop} vs ${clean.gpu.powerWatts[g]}`);
    assert.ok(drop < clean.gpu.powerWatts[g]! + 0.1 * faulty.topo.nodeOverheadWatts[node]!);
    // The cooling fault (t 5–25) has cleared and the inlet came back down.
    const rack = faulty.topo.rackNames.indexOf("r04");
    assert.ok(Math.abs(faulty.rackInletC[rack]! - clean.rackInletC[rack]!) < 1e-4);
    // NVLink errors stopped climbing once xid74 cleared at t 13.
    const link = slotOf(faulty, "r02-dgx1", 1);
    assert.ok(faulty.gpu.nvlinkCrcFlitErrors[link]! > 0);
    assert.deepEqual(
      faulty.faults.records.map((f) => [f.kind, f.atSeconds, f.clearedAtSeconds]),
      [
        ["xid79", 2, undefined],
        ["xid74", 3, 13],
        ["straggler", 4, undefined],
        ["cooling", 5, 25],
        ["xid48", 6, undefined],
      ],
    );
    assert.equal(faulty.gpu.eccDbeAggregate[slotOf(faulty, "r01-dgx2", 1)], 1);
  });
});
