/**
 * The control plane's telemetry against the twin, end to end over the real protocols: the twin of
 * the lab factory runs its scenario; the control plane reads it through the endpoints section
 * (dcgm pages, HTTP service discovery of vLLM servers and trainers, Redfish BMCs and PDUs) and the
 * twin's kernel log arrives over syslog. Time is stepped by hand — ten minutes of sim time in
 * 10 s steps, a scrape after each — so the KPIs can be graded against the twin's ground truth.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createServer, FactoryState, Telemetry } from "@flightdeck/api";
import { loadScenarioFile, type RunningSim, startSim, type Truth, truthOf } from "@flightdeck/sim";
import { openStore, type Store } from "@flightdeck/store";
import type { FastifyInstance } from "fastify";
import { startPrometheus, type TestPrometheus } from "../../../scripts/testing/prometheus.ts";

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const LAB = root("examples/factories/lab.yaml");
const SCENARIO = root("examples/scenarios/lab.yaml");

let sim: RunningSim;
let store: Store;
let state: FactoryState;
let telemetry: Telemetry;
let app: FastifyInstance;
let token: string;
const truths: Truth[] = [];
let prometheus: TestPrometheus | undefined;
let promUrl = "";

interface Row {
  key: string;
  tokens: number;
  energyJoules: number;
  tokensPerJoule: number;
  usableShare: number;
  pduEnergyJoules: number;
}

async function get<T = { rows: Row[] }>(path: string): Promise<{ status: number; json: T }> {
  const res = await app.inject({ method: "GET", url: path, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, json: res.json() as T };
}

/** Ten seconds of sim time, then a scrape of every target. */
async function step(seconds = 10): Promise<void> {
  sim.step(seconds);
  await telemetry.collectOnce();
  truths.push(truthOf(sim.state, sim.engine));
}

before(async () => {
  // A real Prometheus with its remote-write receiver on, scraping nothing.
  prometheus = await startPrometheus("global:\n  scrape_interval: 1m\n", [
    "--web.enable-remote-write-receiver",
  ]);
  promUrl = prometheus.url;
  // The twin steps only when told: its timer would tick once in 10^6 s.
  const lab = (await import("@flightdeck/model")).loadFactoryFile(LAB).build!;
  sim = await startSim({
    graph: lab.graph,
    catalog: lab.catalog,
    port: 0,
    speed: 1e-6,
    scenario: await loadScenarioFile(SCENARIO, lab.graph),
    syslogTarget: "udp://127.0.0.1:25514",
  });
  store = await openStore({ dataDir: ":memory:" });
  state = new FactoryState(store);
  // The lab's endpoints name the twin on :7071 and syslog on 5514; this twin is elsewhere.
  const source = readFileSync(LAB, "utf8")
    .replaceAll("http://127.0.0.1:7071", sim.url)
    .replace("udpPort: 5514", "udpPort: 25514");
  const applied = await state.apply(source, "lab.yaml", "test");
  assert.ok(applied.ok);
  telemetry = new Telemetry(state, { manual: true, store, remoteWriteUrl: `${promUrl}/api/v1/write` });
  await telemetry.start();
  app = await createServer({ store, state, telemetry });
  const admin = await store.createUser({ name: "root", org: null, role: "provider-admin", actor: "test" });
  token = (await store.createToken({ userId: admin.id, name: "t", actor: "test" })).token;
  sim.step(1); // place the jobs so discovery finds them
  for (let i = 0; i < 60; i++) await step();
});

after(async () => {
  await prometheus?.stop();
  await telemetry?.stop();
  await app?.close();
  await store?.close();
  await sim?.stop();
});

describe("telemetry from the twin", () => {
  it("reads every target: 16 dcgm pages, 16 BMCs, every power device, 6 vLLM servers, 2 trainers", async () => {
    const targets = telemetry.targets();
    const kinds = (k: string) => targets.filter((t) => t.kind === k);
    assert.equal(kinds("dcgm").length, 16);
    assert.equal(kinds("bmc").length, 16);
    assert.equal(kinds("vllm").length, 6);
    assert.equal(kinds("training").length, 2);
    assert.ok(kinds("pdu").length >= 16);
    for (const t of targets) assert.equal(t.health, "up", `${t.id}: ${t.lastError}`);
  });

  it("reports per rack tokens and energy within 1% of the twin's truth over ten minutes", async () => {
    const first = truths[0]!;
    const last = truths.at(-1)!;
    assert.ok(last.timeSeconds - first.timeSeconds >= 590);
    const { json } = await get("/v1/kpi?by=rack&windowSeconds=3600");
    const rows = new Map(json.rows.map((r) => [r.key, r]));
    for (const rack of ["r01", "r02", "r03", "r04"]) {
      const t = (x: Truth) => x.racks[rack]!;
      const tokens =
        t(last).promptTokens +
        t(last).generatedTokens +
        t(last).trainingTokens -
        (t(first).promptTokens + t(first).generatedTokens + t(first).trainingTokens);
      const energy = t(last).gpuEnergyJoules - t(first).gpuEnergyJoules;
      const row = rows.get(rack) as {
        tokens: number;
        energyJoules: number;
        tokensPerJoule: number;
        pduEnergyJoules: number;
      };
      assert.ok(tokens > 0 && energy > 0, rack);
      const near = (a: number, b: number, what: string) =>
        assert.ok(Math.abs(a / b - 1) < 0.01, `${rack} ${what}: measured ${a}, truth ${b}`);
      near(row.tokens, tokens, "tokens");
      near(row.energyJoules, energy, "GPU energy");
      near(row.tokensPerJoule, tokens / energy, "tokens per joule");
      // The rack PDUs' meters (Redfish, to the watt-hour) carry node overheads and supply losses too.
      near(row.pduEnergyJoules, t(last).pduEnergyJoules - t(first).pduEnergyJoules, "PDU energy");
    }
  });

  it("gives every level of the power tree its metered draw and stranded power", async () => {
    const { json } = await get<{
      levels: { id: string; drawWatts: number | null; strandedWatts: number | null }[];
    }>("/v1/kpi/stranded");
    const last = truths.at(-1)!;
    for (const level of json.levels) {
      assert.notEqual(level.drawWatts, null, level.id);
      assert.ok(
        Math.abs(level.drawWatts! / last.power[level.id]! - 1) < 0.01,
        `${level.id}: ${level.drawWatts}`,
      );
    }
    assert.ok(json.levels.some((l) => l.id === "power:util-a"));
  });

  it("attributes tokens to jobs and orgs", async () => {
    const jobs = (await get("/v1/kpi?by=job&windowSeconds=3600")).json.rows.map(
      (r: { key: string }) => r.key,
    );
    assert.deepEqual(jobs, ["acme-chat", "acme-pretrain", "globex-code", "globex-finetune"]);
    const orgs = (await get("/v1/kpi?by=org&windowSeconds=3600")).json.rows;
    assert.deepEqual(
      orgs.map((r) => r.key),
      ["acme", "globex"],
    );
    for (const r of orgs) assert.ok(r.tokensPerJoule > 0 && r.usableShare > 0.9, JSON.stringify(r));
  });

  it("lets a GPU that fell off the bus go stale, and its Xid arrive as an event on that GPU", async () => {
    const res = await fetch(`${sim.url}/sim/faults`, {
      method: "POST",
      body: JSON.stringify({ kind: "xid79", target: "gpu:r02-dgx3/5" }),
    });
    assert.equal(res.status, 201);
    await step();
    await step();
    const power = telemetry.store.select('DCGM_FI_DEV_POWER_USAGE{entity="gpu:r02-dgx3/5"}');
    assert.equal(power.length, 1);
    assert.equal(telemetry.store.instant(power[0]!, Date.now()), undefined, "no last value kept");
    const neighbour = telemetry.store.select('DCGM_FI_DEV_POWER_USAGE{entity="gpu:r02-dgx3/4"}')[0]!;
    assert.notEqual(telemetry.store.instant(neighbour, Date.now()), undefined);
    let events: { xid: number; gpuId?: string }[] = [];
    for (let i = 0; i < 100 && events.length === 0; i++) {
      events = (await get<{ events: typeof events }>("/v1/telemetry/events")).json.events;
      if (events.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(events.length, 1);
    assert.equal(events[0]!.xid, 79);
    assert.equal(events[0]!.gpuId, "gpu:r02-dgx3/5");
  });

  it("keeps one-minute rollups that add up to the KPIs of the same minutes", async () => {
    const written = await telemetry.rollUp(Date.now() + 60_000);
    assert.ok(written > 0, `wrote ${written}`);
    const { json } = await get<{
      rows: { minuteMs: number; key: string; energyJoules: number; gpuSeconds: number }[];
    }>("/v1/kpi/history?by=rack&key=r02&startMs=0");
    assert.ok(json.rows.length >= 1, JSON.stringify(json).slice(0, 300));
    const first = json.rows[0]!.minuteMs;
    const end = json.rows.at(-1)!.minuteMs + 60_000;
    const live = telemetry.kpis("rack", first, end).find((r) => r.key === "r02")!;
    const sum = json.rows.reduce((a, r) => a + r.energyJoules, 0);
    assert.ok(Math.abs(sum / live.energyJoules - 1) < 1e-9, `${sum} vs ${live.energyJoules}`);
    // GPU time too: an interval that straddles a minute's edge is shared by the two minutes.
    const seen = json.rows.reduce((a, r) => a + r.gpuSeconds, 0);
    assert.ok(Math.abs(seen / live.gpuSeconds - 1) < 1e-9, `${seen} vs ${live.gpuSeconds}`);
  });

  it("writes what it reads on to a real Prometheus by remote-write", async () => {
    await telemetry.flushRemoteWrite();
    const stats = telemetry.remoteWriteStats()!;
    assert.equal(stats.failedBatches, 0, stats.lastError);
    assert.ok(stats.sentSamples > 100_000, String(stats.sentSamples));
    const q = encodeURIComponent('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{entity="gpu:r01-dgx1/0"}[1h]');
    const body = (await (await fetch(`${promUrl}/api/v1/query?query=${q}`)).json()) as {
      data: { result: { values: [number, string][] }[] };
    };
    const values = body.data.result[0]?.values ?? [];
    const ref = telemetry.store.select('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{entity="gpu:r01-dgx1/0"}')[0]!;
    const local = telemetry.store.range(ref, 0, Date.now());
    // Every sample the control plane read is in Prometheus, with the same value.
    assert.equal(values.length, local.values.length);
    assert.equal(Number(values.at(-1)![1]), local.values.at(-1));
    const tokens = encodeURIComponent('vllm:generation_tokens_total{entity="server:acme-chat-0"}');
    const t = (await (await fetch(`${promUrl}/api/v1/query?query=${tokens}`)).json()) as {
      data: { result: unknown[] };
    };
    assert.equal(t.data.result.length, 1);
  });
});
