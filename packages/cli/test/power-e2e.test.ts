/**
 * The power service against the twin, end to end: the control plane reads the lab twin's meters
 * and discovery, allocates caps, pushes them to the twin's BMCs over Redfish and reads them back.
 * The twin's own ground truth (what its floor PDUs carry) grades the result: after a facility
 * target step, no level stays above its limit for more than 2 s of sim time, and the caps in the
 * twin's BMCs are the service's. Time is stepped by hand, a scrape and a power pass after each.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createServer, FactoryState, PowerService, Telemetry } from "@flightdeck/api";
import {
  createModbusTcpClient,
  type ModbusClient,
  parseBmsMap,
  writeBmsPoint,
} from "@flightdeck/integrations";
import { loadFactoryFile } from "@flightdeck/model";
import { loadScenarioFile, type RunningSim, startSim, truthOf } from "@flightdeck/sim";
import { openStore, type Store } from "@flightdeck/store";
import type { FastifyInstance } from "fastify";
import { startModbusServer } from "../../../scripts/testing/modbus.ts";

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const LAB = root("examples/factories/lab.yaml");
const SCENARIO = root("examples/scenarios/lab.yaml");

let sim: RunningSim;
let store: Store;
let telemetry: Telemetry;
let power: PowerService;
let app: FastifyInstance;
let token: string;
let bmsServer: { proc: ChildProcess; port: number };
/** The building management system's load target: a uint32 of watts in holding registers 0–1. */
const BMS_MAP = parseBmsMap({
  points: [{ name: "loadTargetWatts", unitId: 1, table: "holding", address: 0, type: "uint32", unit: "W" }],
});

async function api<T = Record<string, unknown>>(
  method: "GET" | "PUT" | "POST",
  url: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, json: res.json() as T };
}

/** What the twin's floor PDUs carry now: the site's node draw on both sides. */
const floorWatts = () => {
  const t = truthOf(sim.state, sim.engine);
  return t.power["power:fpdu-a1"]! + t.power["power:fpdu-b1"]!;
};

/** The loop period the service is told (the tests run its passes): each BMC is asked this often. */
const HEARTBEAT_MS = 200;

/** One second of sim time, a scrape, a power pass; returns the truth's floor draw. */
async function second(): Promise<number> {
  sim.step(1);
  await telemetry.collectOnce();
  await power.tick();
  return floorWatts();
}

/** Steps until the target has held for a while; returns seconds over it and the worst draw. */
async function follow(targetWatts: number, seconds = 12): Promise<{ over: number; worst: number }> {
  let over = 0;
  let worst = 0;
  for (let s = 0; s < seconds; s++) {
    const draw = await second();
    if (draw > targetWatts) over++;
    worst = Math.max(worst, draw);
  }
  return { over, worst };
}

before(async () => {
  const lab = loadFactoryFile(LAB).build!;
  sim = await startSim({
    graph: lab.graph,
    catalog: lab.catalog,
    port: 0,
    speed: 1e-6,
    scenario: await loadScenarioFile(SCENARIO, lab.graph),
  });
  store = await openStore({ dataDir: ":memory:" });
  const state = new FactoryState(store);
  const source = readFileSync(LAB, "utf8")
    .replaceAll("http://127.0.0.1:7071", sim.url)
    .replace(/\n {2}syslog:.*\n/, "\n");
  assert.ok((await state.apply(source, "lab.yaml", "test")).ok);
  telemetry = new Telemetry(state, { manual: true, store });
  await telemetry.start();
  // A real Modbus server plays the BMS; a load target of 0 means none.
  bmsServer = await startModbusServer({ "1": { holding: [0, 0], input: [0] } });
  power = new PowerService(state, {
    telemetry,
    store,
    enforce: true,
    manual: true,
    intervalMs: HEARTBEAT_MS,
    bms: { url: `modbus://127.0.0.1:${bmsServer.port}`, map: BMS_MAP, intervalMs: 100 },
  });
  await power.start();
  app = await createServer({ store, state, telemetry, power });
  const admin = await store.createUser({ name: "root", org: null, role: "provider-admin", actor: "test" });
  token = (await store.createToken({ userId: admin.id, name: "t", actor: "test" })).token;
  sim.step(1); // place the scenario's jobs so discovery finds them
  for (let i = 0; i < 5; i++) await second();
});

after(async () => {
  await power?.stop();
  bmsServer?.proc.kill();
  await telemetry?.stop();
  await app?.close();
  await store?.close();
  await sim?.stop();
});

describe("the power service on the twin", () => {
  it("knows the scenario's jobs from discovery, with their org, priority and profile", async () => {
    const { json } = await api<{ jobs: { id: string; org: string; priority: number; profile: string }[] }>(
      "GET",
      "/v1/power/jobs",
    );
    const byId = new Map(json.jobs.map((j) => [j.id, j]));
    assert.equal(byId.get("job:acme-pretrain")?.org, "acme");
    assert.equal(byId.get("job:acme-pretrain")?.priority, 1);
    assert.equal(byId.get("job:globex-finetune")?.profile, "max-q-training");
    assert.ok(json.jobs.some((j) => j.id.startsWith("server:")));
  });

  it("follows facility target steps 100% → 85% → 70%: no more than 2 s over, caps in the BMCs are the service's", async () => {
    const unconstrained = floorWatts();
    for (const fraction of [0.85, 0.7]) {
      const set = await api<{ watts: number }>("PUT", "/v1/power/target", { target: { fraction } });
      assert.equal(set.status, 200);
      const target = set.json.watts;
      await power.tick(); // the new caps go out at once
      const { over, worst } = await follow(target);
      assert.ok(over <= 2, `${fraction}: ${over} s over ${target} W (worst ${worst} W)`);
      assert.ok(floorWatts() <= target, `${fraction}: settled at ${floorWatts()} W over ${target} W`);
    }
    assert.ok(floorWatts() < unconstrained * 0.8, "the twin's draw came down");
    // The twin's BMC holds the cap the service decided for a GPU.
    const gpu = "gpu:r02-dgx1/0";
    const explained = (
      await api<{ capWatts: number; text: string }>("GET", `/v1/power/gpus/${encodeURIComponent(gpu)}`)
    ).json;
    const env = (await (
      await fetch(
        `${sim.url}/bmc/r02-dgx1/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_SXM_0/EnvironmentMetrics`,
      )
    ).json()) as { PowerLimitWatts: { SetPoint: number } };
    assert.equal(env.PowerLimitWatts.SetPoint, Math.floor(explained.capWatts));
    assert.ok(explained.capWatts < 700, explained.text);
  });

  it("refuses a target the running work cannot fit, a schedule or event in the past, a profile outside the GPU's range, and a device limit below the work's minimum", async () => {
    const before = (await api<{ watts: number }>("GET", "/v1/power/target")).json.watts;
    const low = await api<{ detail: string }>("PUT", "/v1/power/target", { target: { watts: 20_000 } });
    assert.equal(low.status, 409);
    assert.match(low.json.detail, /below the .* minimum caps/);
    assert.equal((await api<{ watts: number }>("GET", "/v1/power/target")).json.watts, before);
    const past = await api<{ detail: string }>("PUT", "/v1/power/target/schedule", {
      steps: [{ atMs: Date.now() - 60_000, target: { fraction: 0.5 } }],
    });
    assert.equal(past.status, 400);
    assert.match(past.json.detail, /in the past/);
    const event = await api<{ detail: string }>("POST", "/v1/power/target/events", {
      id: "dr-late",
      startMs: Date.now() - 120_000,
      endMs: Date.now() - 60_000,
      target: { fraction: 0.6 },
    });
    assert.equal(event.status, 400);
    assert.match(event.json.detail, /in the past/);
    // A custom profile whose cap is outside the GPU's range is refused, naming the range.
    const profile = await api<{ detail: string }>("PUT", "/v1/power/policy", {
      rules: [{ match: { org: "globex" }, profile: "eco" }],
      default: "max-p",
      profiles: [{ name: "eco", gpuType: "h100-sxm", capWatts: 150 }],
    });
    assert.equal(profile.status, 400);
    assert.match(profile.json.detail, /outside h100-sxm's \[200, 700\] W/);
    // A rack's PDU limited below what its running work needs at minimum caps; an unknown device.
    const pdu = await api<{ detail: string }>("PUT", "/v1/power/overrides", {
      overrides: { "power:r01-pdu-a1": { watts: 2_000 } },
    });
    assert.equal(pdu.status, 409);
    assert.match(pdu.json.detail, /below the .* minimum caps/);
    const unknown = await api<{ detail: string }>("PUT", "/v1/power/overrides", {
      overrides: { "power:nowhere": { percent: 50 } },
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.detail, /no such power device/);
    const audit = await store.listAudit({ limit: 10 });
    assert.ok(audit.some((a) => a.action === "power.target.set"));
  });

  it("follows a load target the BMS sets over Modbus, then lets it go", async () => {
    const bms: ModbusClient = createModbusTcpClient({ host: "127.0.0.1", port: bmsServer.port });
    const point = BMS_MAP.points[0]!;
    const operator = (await api<{ watts: number; peakWatts: number }>("GET", "/v1/power/target")).json;
    const wanted = Math.round(0.6 * operator.peakWatts);
    try {
      await writeBmsPoint(bms, point, wanted);
      const deadline = Date.now() + 10_000;
      while (power.target().source !== "bms" && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const t = (
        await api<{ watts: number; source: string; bms: { loadTargetWatts: number } }>(
          "GET",
          "/v1/power/target",
        )
      ).json;
      assert.equal(t.source, "bms");
      assert.equal(t.bms.loadTargetWatts, wanted);
      await power.tick();
      const { over, worst } = await follow(wanted);
      assert.ok(over <= 2, `${over} s over the BMS's ${wanted} W (worst ${worst} W)`);
      assert.ok(floorWatts() <= wanted, `settled at ${floorWatts()} W over the BMS's ${wanted} W`);
      // The BMS withdraws its target: the operator's is in force again.
      await writeBmsPoint(bms, point, 0);
      while (power.target().source === "bms" && Date.now() < deadline + 10_000)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(power.target().source, "operator");
      assert.equal(power.target().watts, operator.watts);
    } finally {
      bms.close();
    }
  });

  it("keeps the site under a lowered target while one BMC does not answer, counting its GPUs at their maximum", async () => {
    const target = (await api<{ watts: number }>("GET", "/v1/power/target")).json.watts;
    // A node of the most important job, at its profile's cap until the next target cuts it.
    const finetune = truthOf(sim.state, sim.engine).jobs.find((j) => j.name === "globex-finetune")!;
    const node = finetune.nodes[0]!;
    const fault = await fetch(`${sim.url}/sim/faults`, {
      method: "POST",
      body: JSON.stringify({ kind: "bmcUnreachable", target: `node:${node}` }),
    });
    assert.ok(fault.ok);
    // A cap already in force stays in force; the next change is what cannot be confirmed there.
    const lower = await api<{ watts: number }>("PUT", "/v1/power/target", { target: { fraction: 0.65 } });
    assert.equal(lower.status, 200);
    assert.ok(lower.json.watts < target);
    await power.tick();
    const { over } = await follow(lower.json.watts, 8);
    assert.ok(over <= 2, `${over} s over`);
    // Its GPUs keep the cap confirmed before the fault; the new one cannot be set there, so they
    // count at their maximum and the rest of the site makes room.
    assert.ok(floorWatts() <= lower.json.watts);
    const e = (
      await api<{ binding: { kind: string }; allocatedWatts: number; text: string }>(
        "GET",
        `/v1/power/gpus/${node}%2F0`,
      )
    ).json;
    assert.equal(e.binding.kind, "pinned", e.text);
    assert.equal(e.allocatedWatts, 700);
    const log = (await api<{ actions: { kind: string; text: string }[] }>("GET", "/v1/power/actions")).json;
    assert.ok(log.actions.some((a) => a.kind === "enforcement" && /count at their maximum/.test(a.text)));
  });

  it("notices in the next loop a BMC that stops answering while its caps hold, and takes it back once it answers", async () => {
    const jobs = truthOf(sim.state, sim.engine).jobs;
    const node = jobs.find((j) => j.name !== "globex-finetune" && j.nodes.length > 0)!.nodes[0]!;
    const binding = async () =>
      (await api<{ binding: { kind: string }; text: string }>("GET", `/v1/power/gpus/${node}%2F0`)).json;
    await second();
    assert.notEqual((await binding()).binding.kind, "pinned");
    const fault = await fetch(`${sim.url}/sim/faults`, {
      method: "POST",
      body: JSON.stringify({ kind: "bmcUnreachable", target: `node:${node}`, durationSeconds: 20 }),
    });
    assert.ok(fault.ok);
    // No cap changes there: only the heartbeat (one loop period here) asks that BMC.
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 50));
    await second();
    const lost = await binding();
    assert.equal(lost.binding.kind, "pinned", lost.text);
    sim.step(21);
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 50));
    await second();
    await second();
    const back = await binding();
    assert.notEqual(back.binding.kind, "pinned", back.text);
  });
});

describe("the loss of one feed", () => {
  it("leaves every device of the other side within its limit (N+N budgets)", async () => {
    const lab = loadFactoryFile(LAB).build!;
    const limits = new Map(
      lab.graph.ofKind("power").map((d) => [d.id, d.limitWatts ?? Number.POSITIVE_INFINITY]),
    );
    const fault = await fetch(`${sim.url}/sim/faults`, {
      method: "POST",
      body: JSON.stringify({ kind: "feedLoss", target: "power:util-b" }),
    });
    assert.ok(fault.ok);
    for (let s = 0; s < 6; s++) {
      await second();
      const power = truthOf(sim.state, sim.engine).power;
      assert.equal(power["power:util-b"], 0);
      for (const [id, watts] of Object.entries(power))
        assert.ok(watts <= limits.get(id)!, `${id} carries ${watts} W over its ${limits.get(id)} W`);
    }
    // Side A carries everything now.
    assert.ok(truthOf(sim.state, sim.engine).power["power:fpdu-a1"]! > 0);
  });
});

describe("admission with power as a reason", () => {
  let bare: FastifyInstance;
  let bareStore: Store;
  let barePower: PowerService;
  let adminToken: string;

  before(async () => {
    bareStore = await openStore({ dataDir: ":memory:" });
    const state = new FactoryState(bareStore);
    assert.ok((await state.apply(readFileSync(LAB, "utf8"), "lab.yaml", "test")).ok);
    barePower = new PowerService(state, { store: bareStore, manual: true });
    await barePower.start();
    bare = await createServer({ store: bareStore, state, power: barePower });
    const admin = await bareStore.createUser({ name: "root", org: null, role: "provider-admin", actor: "t" });
    adminToken = (await bareStore.createToken({ userId: admin.id, name: "t", actor: "t" })).token;
  });
  after(async () => {
    await barePower?.stop();
    await bare?.close();
    await bareStore?.close();
  });

  const call = async (method: "POST" | "PUT", url: string, body: unknown) => {
    const res = await bare.inject({
      method,
      url,
      headers: { authorization: `Bearer ${adminToken}` },
      payload: body as object,
    });
    return { status: res.statusCode, json: res.json() as Record<string, unknown> };
  };

  it("places a job in its org's racks, then refuses the next with the level that would be over", async () => {
    // 75% of the peak leaves room for one 32-GPU job at full power, not two (idle GPUs at their minimum).
    assert.equal((await call("PUT", "/v1/power/target", { target: { fraction: 0.75 } })).status, 200);
    const first = await call("POST", "/v1/placements", { id: "a", org: "acme", gpus: 32 });
    assert.equal(first.status, 201);
    assert.equal(first.json.status, "placed");
    for (const n of first.json.nodes as string[]) assert.match(n, /^r0[12]-/);
    const second = await call("POST", "/v1/placements", { id: "b", org: "acme", gpus: 32 });
    assert.equal(second.status, 200);
    assert.equal(second.json.status, "queued");
    assert.match(String(second.json.reason), /would reach \d+% of its budget/);
    const wrongOrg = await call("POST", "/v1/placements", { id: "c", org: "nobody", gpus: 8 });
    assert.equal(wrongOrg.status, 400);
  });
});
