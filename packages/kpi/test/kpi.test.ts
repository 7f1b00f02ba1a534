/** The KPI engine on the real series store, fed by hand with known counters over the lab graph. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadFactoryFile } from "@flightdeck/model";
import { createSeriesStore, type SeriesStore } from "@flightdeck/telemetry";
import { computeKpis, type KpiReader, strandedPower, type TokenSource } from "../src/index.ts";

const lab = loadFactoryFile(fileURLToPath(new URL("../../../examples/factories/lab.yaml", import.meta.url)))
  .build!;
const T0 = 1_700_000_000_000;

function reader(store: SeriesStore): KpiReader {
  return {
    find: (name, entity) => store.byEntity(entity).filter((r) => store.labels(r).__name__ === name),
    counterDelta: (ref, a, b) => store.counterDelta(ref, a, b) ?? 0,
    range: (ref, a, b) => store.range(ref, a, b),
    instant: (ref, at) => store.instant(ref, at),
  };
}

/** Appends `values[i]` at T0 + 10 s × i to the series. */
function series(store: SeriesStore, name: string, entity: string, values: number[]): void {
  const ref = store.getOrCreate({ __name__: name, entity });
  values.forEach((v, i) => {
    store.append(ref, T0 + i * 10_000, v);
  });
}

const chat: TokenSource = {
  entity: "server:chat-0",
  kind: "inference",
  job: "chat",
  model: "llama-70b",
  org: "acme",
  nodes: ["r01-dgx1"],
};
const train: TokenSource = {
  entity: "job:pretrain",
  kind: "training",
  job: "pretrain",
  org: "globex",
  nodes: ["r03-dgx1", "r03-dgx2"],
};

function fed(): SeriesStore {
  const store = createSeriesStore();
  // r01-dgx1: 8 GPUs at 500 W for 60 s (energy counters in mJ), busy, healthy.
  for (let g = 0; g < 8; g++) {
    const gpu = `gpu:r01-dgx1/${g}`;
    series(
      store,
      "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
      gpu,
      [0, 1, 2, 3, 4, 5, 6].map((i) => 1e9 + i * 5e6),
    );
    series(store, "DCGM_FI_DEV_GPU_UTIL", gpu, [90, 90, 90, 90, 90, 90, 90]);
    series(store, "DCGM_FI_DEV_XID_ERRORS", gpu, [0, 0, 0, 0, 0, 0, 0]);
  }
  // The server's counters, with a restart (reset) in the middle: 1,000 + 500 then 300 after it.
  series(store, "vllm:prompt_tokens_total", chat.entity, [0, 400, 1000, 1500, 100, 200, 300]);
  series(store, "vllm:generation_tokens_total", chat.entity, [0, 100, 200, 300, 50, 60, 70]);
  // r03-dgx1 has no energy counter: its power (400 W) is integrated. One GPU reports Xid 79 half-way.
  for (let g = 0; g < 8; g++) {
    const gpu = `gpu:r03-dgx1/${g}`;
    series(store, "DCGM_FI_DEV_POWER_USAGE", gpu, [400, 400, 400, 400, 400, 400, 400]);
    series(store, "DCGM_FI_DEV_GPU_UTIL", gpu, [95, 95, 95, 95, 95, 95, 95]);
    series(store, "DCGM_FI_DEV_XID_ERRORS", gpu, g === 5 ? [0, 0, 0, 79, 79, 79, 79] : [0, 0, 0, 0, 0, 0, 0]);
  }
  series(store, "training_tokens_total", train.entity, [0, 1e6, 2e6, 3e6, 4e6, 5e6, 6e6]);
  return store;
}

describe("the KPI engine", () => {
  const store = fed();
  const q = { startMs: T0, endMs: T0 + 60_000 };

  it("counts tokens through a counter reset and energy from the DCGM counter", () => {
    const rows = computeKpis(lab.graph, reader(store), [chat, train], { ...q, by: "node" });
    const node = rows.find((r) => r.key === "r01-dgx1")!;
    assert.equal(node.promptTokens, 1500 + 300);
    assert.equal(node.generatedTokens, 300 + 70);
    assert.equal(node.tokens, 2170);
    // 8 GPUs × 6 × 5e6 mJ = 240 kJ.
    assert.equal(node.energyJoules, 240_000);
    assert.equal(node.tokensPerJoule, 2170 / 240_000);
    assert.equal(node.gpuSeconds, 8 * 60);
    assert.equal(node.usableShare, 1);
    assert.equal(node.meanPowerWatts, 4000);
  });

  it("integrates power where a GPU has no energy counter, and shares a job's tokens over its nodes", () => {
    const rows = computeKpis(lab.graph, reader(store), [chat, train], { ...q, by: "node" });
    const n1 = rows.find((r) => r.key === "r03-dgx1")!;
    assert.equal(n1.energyJoules, 8 * 400 * 60);
    // The job runs on two nodes of 8 GPUs: half its 6 M tokens per node.
    assert.equal(n1.trainingTokens, 3e6);
    // GPU 5 reported Xid 79 from the fourth sample on: the four intervals ending there are not usable.
    assert.equal(n1.usableGpuSeconds, 8 * 60 - 40);
  });

  it("groups by rack, org, job and model, and keeps only what it is told to", () => {
    const by = (g: "rack" | "org" | "job" | "model") =>
      computeKpis(lab.graph, reader(store), [chat, train], { ...q, by: g });
    assert.deepEqual(
      by("rack").map((r) => r.key),
      ["r01", "r02", "r03", "r04"],
    );
    assert.equal(by("rack").find((r) => r.key === "r01")!.tokensPerRackHour, 2170 * 60);
    assert.deepEqual(
      by("org").map((r) => [r.key, r.tokens]),
      [
        ["acme", 2170],
        ["globex", 6e6],
      ],
    );
    assert.deepEqual(
      by("job").map((r) => [r.key, r.gpus]),
      [
        ["(no job)", 128 - 24],
        ["chat", 8],
        ["pretrain", 16],
      ],
    );
    assert.deepEqual(
      by("model").map((r) => r.key),
      ["(no model)", "llama-70b"],
    );
    const acmeOnly = computeKpis(lab.graph, reader(store), [chat, train], {
      ...q,
      by: "rack",
      keep: (gpu) => lab.graph.orgOf(gpu) === "acme",
    });
    assert.deepEqual(
      acmeOnly.map((r) => r.key),
      ["r01", "r02"],
    );
  });

  it("gives stranded power as each level's budget less its metered draw", () => {
    const s = createSeriesStore();
    const ref = s.getOrCreate({ __name__: "redfish_device_power_watts", entity: "power:r01-pdu-a1" });
    s.append(ref, T0, 6000);
    const rows = strandedPower(lab.graph, reader(s), T0 + 1000);
    const pdu = rows.find((r) => r.id === "power:r01-pdu-a1")!;
    assert.equal(pdu.drawWatts, 6000);
    assert.equal(pdu.strandedWatts, pdu.limitWatts - 6000);
    const unread = rows.find((r) => r.id === "power:r02-pdu-a1")!;
    assert.equal(unread.drawWatts, undefined, "no reading is not zero draw");
    // Staleness: after a marker there is no draw to report.
    s.markStale(ref, T0 + 2000);
    assert.equal(
      strandedPower(lab.graph, reader(s), T0 + 3000).find((r) => r.id === pdu.id)!.drawWatts,
      undefined,
    );
  });

  it("adds up over adjacent windows: minutes sum to the hour, gaps and all", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 40; trial++) {
      const s = createSeriesStore();
      const util = s.getOrCreate({ __name__: "DCGM_FI_DEV_GPU_UTIL", entity: "gpu:r01-dgx1/0" });
      const power = s.getOrCreate({ __name__: "DCGM_FI_DEV_POWER_USAGE", entity: "gpu:r01-dgx1/0" });
      let t = T0 + Math.floor(rand() * 60_000);
      const first = t;
      for (let i = 0; i < 150; i++) {
        s.append(util, t, 50);
        s.append(power, t, 300 + (i % 7));
        // Mostly scrape-like gaps, now and then one longer than the lookback (a vanished GPU).
        t += 1 + Math.floor(rand() * (i % 40 === 0 ? 400_000 : 30_000));
      }
      const at = (a: number, b: number) =>
        computeKpis(lab.graph, reader(s), [], {
          by: "gpu",
          startMs: a,
          endMs: b,
          maxSampleGapMs: 20_000,
        }).find((r) => r.key === "gpu:r01-dgx1/0")!;
      const m0 = Math.floor(first / 60_000) * 60_000;
      const end = Math.ceil(t / 60_000) * 60_000;
      let seen = 0;
      let joules = 0;
      for (let m = m0; m < end; m += 60_000) {
        const r = at(m, m + 60_000);
        seen += r.gpuSeconds;
        joules += r.energyJoules;
      }
      const whole = at(m0, end);
      assert.ok(Math.abs(seen - whole.gpuSeconds) < 1e-6, `trial ${trial}: ${seen} vs ${whole.gpuSeconds}`);
      assert.ok(
        Math.abs(joules - whole.energyJoules) < 1e-6,
        `trial ${trial}: ${joules} vs ${whole.energyJoules}`,
      );
    }
  });
});
