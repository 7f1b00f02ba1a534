import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  createDcgmExporter,
  createSimServer,
  createState,
  type FactoryState,
  injectFault,
  PSU_EFFICIENCY,
  tick,
  WORK_COMPUTE,
} from "../src/index.ts";
import { createRedfishService } from "../src/redfish/index.ts";
import { BMC_CAP_DELAY_SECONDS } from "../src/state.ts";
import { example } from "./factories.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies of many Redfish schemas, read field by field
type Json = Record<string, any>;

interface Twin {
  state: FactoryState;
  url: string;
  close(): Promise<void>;
}

async function startTwin(name: string): Promise<Twin> {
  const f = example(name);
  const state = createState(f.graph, f.catalog, { seed: 1 });
  const server = createSimServer({
    state,
    dcgm: createDcgmExporter(state),
    handlers: [createRedfishService(state)],
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function get(twin: Twin, path: string): Promise<Json> {
  const res = await fetch(twin.url + path);
  const body = (await res.json()) as Json;
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

const patch = (twin: Twin, path: string, body: string) =>
  fetch(twin.url + path, { method: "PATCH", headers: { "content-type": "application/json" }, body });

/** Every `@odata.id` and `DataSourceUri` anywhere in a body. */
function linksIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) linksIn(v, out);
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) {
      if ((k === "@odata.id" || k === "DataSourceUri") && typeof v === "string") out.push(v);
      else linksIn(v, out);
    }
  return out;
}

/** Follows every link from `root`; checks each resolves with its own URL as `@odata.id`. Returns bodies by URL. */
async function crawl(twin: Twin, root: string): Promise<Map<string, Json>> {
  const seen = new Map<string, Json>();
  const queue = [root];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const body = await get(twin, path);
    assert.equal(body["@odata.id"], path);
    assert.match(body["@odata.type"], /^#\w+(\.v\d+_\d+_\d+)?\.\w+$/, path);
    assert.equal(typeof body.Name, "string", path);
    if (Array.isArray(body.Members)) assert.equal(body["Members@odata.count"], body.Members.length, path);
    else assert.equal(typeof body.Id, "string", path);
    seen.set(path, body);
    for (const link of linksIn(body)) if (!seen.has(link)) queue.push(link);
  }
  return seen;
}

/** The first GPU node whose GPUs all run compute-bound work. */
function computeNode(state: FactoryState): { name: string; first: number } {
  const { topo, workload } = state;
  for (let n = 0; n < topo.nodeCount; n++) {
    const first = topo.nodeGpuStart[n]!;
    if (topo.nodeGpuStart[n + 1]! > first && workload.kind[first] === WORK_COMPUTE)
      return { name: topo.nodeNames[n]!, first };
  }
  throw new Error("no compute node");
}

const slotOfPower = (state: FactoryState, name: string) => state.topo.powerIds.indexOf(`power:${name}`);
const gpuPath = (node: string, i: number) =>
  `/bmc/${node}/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_SXM_${i}/EnvironmentMetrics`;

describe("Redfish on the lab (DGX H100)", () => {
  let twin: Twin;
  before(async () => {
    twin = await startTwin("lab");
    for (let i = 0; i < 5; i++) tick(twin.state, 1);
  });
  after(() => twin.close());

  it("leads from the service root to every GPU's EnvironmentMetrics, every link resolving", async () => {
    const root = await get(twin, "/bmc/r01-dgx1/redfish/v1/");
    assert.equal(root["@odata.type"], "#ServiceRoot.v1_20_0.ServiceRoot");
    const tree = await crawl(twin, "/bmc/r01-dgx1/redfish/v1/");
    const metrics = [...tree.keys()].filter(
      (p) => p.endsWith("/EnvironmentMetrics") && p.includes("/Processors/"),
    );
    assert.deepEqual(metrics.sort(), Array.from({ length: 8 }, (_, i) => gpuPath("r01-dgx1", i)).sort());
    assert.ok(tree.has("/bmc/r01-dgx1/redfish/v1/Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0"));
    const version = await get(twin, "/bmc/r01-dgx1/redfish");
    assert.equal(version.v1, "/bmc/r01-dgx1/redfish/v1/");
  });

  it("reads what the state holds", async () => {
    const { state } = twin;
    const node = state.topo.nodeSlotByName.get("r02-dgx3")!;
    const g = state.topo.nodeGpuStart[node]! + 5;
    const m = await get(twin, gpuPath("r02-dgx3", 5));
    assert.ok(Math.abs(m.PowerWatts.Reading - state.gpu.powerWatts[g]!) < 0.01);
    assert.ok(Math.abs(m.TemperatureCelsius.Reading - state.gpu.gpuTempC[g]!) < 0.01);
    assert.ok(Math.abs(m.EnergyJoules.Reading - state.gpu.energyMillijoules[g]! / 1000) < 0.01);
    assert.ok(m.EnergyJoules.Reading > 0);
    assert.deepEqual(m.PowerLimitWatts, {
      SetPoint: 700,
      AllowableMin: 200,
      AllowableMax: 700,
      ControlMode: "Automatic",
    });
    const total = await get(twin, "/bmc/r02-dgx3/redfish/v1/Chassis/Chassis_0/Sensors/TotalPower");
    assert.equal(total.ReadingUnits, "W");
    assert.ok(Math.abs(total.Reading - state.nodePowerWatts[node]! / PSU_EFFICIENCY) < 0.01);
    const sensor = await get(twin, "/bmc/r02-dgx3/redfish/v1/Chassis/Chassis_0/Sensors/GPU_SXM_5_Power_0");
    assert.equal(sensor.Reading, m.PowerWatts.Reading);
  });

  it("PATCH PowerLimitWatts: 204, SetPoint reads back at once, the draw follows after the delay", async () => {
    const { state } = twin;
    const { name, first } = computeNode(state);
    const g = first + 2;
    assert.ok(state.gpu.powerWatts[g]! > 400, `a compute GPU draws ${state.gpu.powerWatts[g]} W`);
    const res = await patch(twin, gpuPath(name, 2), JSON.stringify({ PowerLimitWatts: { SetPoint: 350 } }));
    assert.equal(res.status, 204);
    const ordered = state.timeSeconds;
    assert.equal((await get(twin, gpuPath(name, 2))).PowerLimitWatts.SetPoint, 350);
    while (state.timeSeconds + 1 < ordered + BMC_CAP_DELAY_SECONDS) {
      tick(state, 1);
      assert.equal(state.gpu.capWatts[g], 700);
      assert.ok(state.gpu.powerWatts[g]! > 350, "the old cap holds during the control delay");
    }
    tick(state, 1);
    tick(state, 1);
    assert.equal(state.gpu.capWatts[g], 350);
    assert.ok(state.gpu.powerWatts[g]! <= 350);
    const m = await get(twin, gpuPath(name, 2));
    assert.equal(m.PowerLimitWatts.SetPoint, 350);
    assert.ok(m.PowerWatts.Reading <= 350);
    assert.ok(state.gpu.powerWatts[g + 1]! > 400, "the other GPUs keep their cap");
  });

  it("PATCH of the chassis control splits the SetPoint evenly over the node's GPUs", async () => {
    const { state } = twin;
    const path = "/bmc/r03-dgx2/redfish/v1/Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0";
    const before = await get(twin, path);
    assert.deepEqual([before.SetPoint, before.AllowableMin, before.AllowableMax], [5600, 1600, 5600]);
    assert.equal(before.ControlType, "Power");
    assert.equal(before.SetPointUnits, "W");
    assert.equal((await patch(twin, path, JSON.stringify({ SetPoint: 3200 }))).status, 204);
    assert.equal((await get(twin, path)).SetPoint, 3200);
    for (let i = 0; i <= BMC_CAP_DELAY_SECONDS; i++) tick(state, 1);
    const first = state.topo.nodeGpuStart[state.topo.nodeSlotByName.get("r03-dgx2")!]!;
    for (let g = first; g < first + 8; g++) assert.equal(state.gpu.capWatts[g], 400);
    const after = await get(twin, path);
    assert.ok(after.Sensor.Reading <= 3200);
  });

  it("refuses bad PATCHes with 400 and the Base registry message, changing nothing", async () => {
    const { state } = twin;
    const node = state.topo.nodeSlotByName.get("r04-dgx4")!;
    const g = state.topo.nodeGpuStart[node]!;
    const control = "/bmc/r04-dgx4/redfish/v1/Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0";
    const cases: [string, string, string, string?][] = [
      [
        gpuPath("r04-dgx4", 0),
        '{"PowerLimitWatts":{"SetPoint":150}}',
        "PropertyValueOutOfRange",
        "PowerLimitWatts/SetPoint",
      ],
      [gpuPath("r04-dgx4", 0), '{"PowerLimitWatts":{"SetPoint":701}}', "PropertyValueOutOfRange"],
      [
        gpuPath("r04-dgx4", 0),
        '{"PowerLimitWatts":{"AllowableMax":900}}',
        "PropertyNotWritable",
        "PowerLimitWatts/AllowableMax",
      ],
      [gpuPath("r04-dgx4", 0), '{"PowerWatts":{"Reading":1}}', "PropertyNotWritable", "PowerWatts"],
      [gpuPath("r04-dgx4", 0), '{"Id":"x"}', "PropertyNotWritable", "Id"],
      [gpuPath("r04-dgx4", 0), '{"Turbo":true}', "PropertyUnknown", "Turbo"],
      [gpuPath("r04-dgx4", 0), '{"PowerLimitWatts":{"Boost":1}}', "PropertyUnknown", "PowerLimitWatts/Boost"],
      [gpuPath("r04-dgx4", 0), '{"PowerLimitWatts":{"SetPoint":"500"}}', "PropertyValueTypeError"],
      [gpuPath("r04-dgx4", 0), '{"PowerLimitWatts":500}', "PropertyValueTypeError", "PowerLimitWatts"],
      [gpuPath("r04-dgx4", 0), "{not json", "MalformedJSON"],
      [gpuPath("r04-dgx4", 0), "[500]", "MalformedJSON"],
      [gpuPath("r04-dgx4", 0), "{}", "EmptyJSON"],
      [control, '{"SetPoint":1000}', "PropertyValueOutOfRange", "SetPoint"],
      [control, '{"Sensor":{"Reading":1}}', "PropertyNotWritable", "Sensor"],
      [control, '{"SetPoint":null}', "PropertyValueTypeError", "SetPoint"],
    ];
    const pending = state.pendingCaps.length;
    for (const [path, body, id, property] of cases) {
      const res = await patch(twin, path, body);
      assert.equal(res.status, 400, body);
      const { error } = (await res.json()) as Json;
      assert.equal(error.code, "Base.1.16.0.GeneralError");
      const info = error["@Message.ExtendedInfo"];
      assert.equal(info.length, 1, body);
      assert.equal(info[0].MessageId, `Base.1.16.0.${id}`, body);
      assert.equal(info[0]["@odata.type"], "#Message.v1_1_1.Message");
      assert.ok(["Warning", "Critical"].includes(info[0].Severity));
      assert.equal(typeof info[0].Resolution, "string");
      if (property) assert.equal(info[0].MessageArgs.at(-1), property, body);
    }
    const res = await patch(twin, gpuPath("r04-dgx4", 0), '{"PowerLimitWatts":{"SetPoint":150}}');
    const info = ((await res.json()) as Json).error["@Message.ExtendedInfo"][0];
    assert.equal(
      info.Message,
      "The value '150' for the property PowerLimitWatts/SetPoint is not in the supported range of acceptable values.",
    );
    assert.deepEqual(info.MessageArgs, ["150", "PowerLimitWatts/SetPoint"]);
    // Several problems in one body: all reported, none applied.
    const both = await patch(twin, gpuPath("r04-dgx4", 1), '{"PowerLimitWatts":{"SetPoint":300},"Id":"x"}');
    assert.equal(both.status, 400);
    const big = await patch(
      twin,
      gpuPath("r04-dgx4", 0),
      JSON.stringify({ PowerLimitWatts: { SetPoint: 300 }, pad: "x".repeat(20_000) }),
    );
    assert.equal(big.status, 413);
    assert.equal(
      ((await big.json()) as Json).error["@Message.ExtendedInfo"][0].MessageId,
      "Base.1.16.0.PayloadTooLarge",
    );
    assert.equal(state.pendingCaps.length, pending);
    for (let k = g; k < g + 8; k++) assert.equal(state.gpu.capWatts[k], 700);
    assert.equal((await get(twin, gpuPath("r04-dgx4", 1))).PowerLimitWatts.SetPoint, 700);
  });

  it("answers 405 with Allow for other methods, 404 with a Redfish error for unknown paths", async () => {
    const sensor = await fetch(`${twin.url}/bmc/r01-dgx1/redfish/v1/Chassis/Chassis_0/Sensors/TotalPower`, {
      method: "PATCH",
      body: "{}",
    });
    assert.equal(sensor.status, 405);
    assert.equal(sensor.headers.get("allow"), "GET, HEAD");
    const post = await fetch(twin.url + gpuPath("r01-dgx1", 0), { method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD, PATCH");
    for (const path of [
      "/bmc/nope/redfish/v1/",
      "/bmc/r01-dgx1/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_SXM_8",
      "/bmc/r01-dgx1/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_8",
      "/bmc/r01-dgx1/redfish/v1/Chassis/HGX_ProcessorModule_0",
      "/bmc/r01-dgx1/redfish/v2/",
      "/pdu/nope/redfish/v1/",
      "/pdu/r01-pdu-a1/redfish/v1/PowerEquipment/PowerShelves/1",
      "/facility/redfish/v1/PowerEquipment/RackPDUs",
    ]) {
      const res = await fetch(twin.url + path);
      assert.equal(res.status, 404, path);
      const body = (await res.json()) as Json;
      assert.equal(body.error["@Message.ExtendedInfo"][0].MessageId, "Base.1.16.0.InvalidURI", path);
    }
  });

  it("rack PDU: one branch per node fed, summing to the device's power; mains carry it all", async () => {
    const { state } = twin;
    tick(state, 1);
    const d = slotOfPower(state, "r01-pdu-a1");
    const base = "/pdu/r01-pdu-a1/redfish/v1/PowerEquipment/RackPDUs/1";
    const tree = await crawl(twin, "/pdu/r01-pdu-a1/redfish/v1/");
    assert.ok(tree.has(`${base}/Branches/D`));
    const branches = (await get(twin, `${base}/Branches`)).Members as Json[];
    assert.equal(branches.length, 4);
    let sum = 0;
    for (const { "@odata.id": id } of branches) {
      const c = await get(twin, id);
      assert.equal(c.CircuitType, "Branch");
      assert.equal(c.BreakerState, "Normal");
      assert.match(c.Name, /r01-dgx\d/);
      assert.ok(Math.abs(c.Voltage.Reading - 415 / Math.sqrt(3)) < 0.01);
      assert.ok(Math.abs(c.CurrentAmps.Reading - c.PowerWatts.Reading / (c.Voltage.Reading * 0.99)) < 0.02);
      sum += c.PowerWatts.Reading;
    }
    assert.ok(state.powerWatts[d]! > 1000);
    assert.ok(Math.abs(sum - state.powerWatts[d]!) < 0.02, `${sum} vs ${state.powerWatts[d]}`);
    const mains = await get(twin, `${base}/Mains/AC1`);
    assert.ok(Math.abs(mains.PowerWatts.Reading - state.powerWatts[d]!) < 0.01);
    assert.ok(Math.abs(mains.RatedCurrentAmps - 60) < 0.01, "415 V 60 A three-phase (catalog)");
    assert.equal(mains.PhaseWiringType, "ThreePhase5Wire");
    const metrics = await get(twin, `${base}/Metrics`);
    assert.ok(Math.abs(metrics.PowerWatts.Reading - state.powerWatts[d]!) < 0.01);
  });

  it("facility: floor PDU feeders sum to its power; power domains link every device below a feed", async () => {
    const { state } = twin;
    const tree = await crawl(twin, "/facility/redfish/v1/");
    const domain = tree.get("/facility/redfish/v1/Facilities/lab/PowerDomains/util-a")!;
    assert.equal(domain.Links.RackPDUs.length, 8);
    assert.deepEqual(domain.Links.FloorPDUs, [
      { "@odata.id": "/facility/redfish/v1/PowerEquipment/FloorPDUs/fpdu-a1" },
    ]);
    assert.ok(tree.has("/pdu/r04-pdu-a2/redfish/v1/PowerEquipment/RackPDUs/1/Branches/A"));
    const d = slotOfPower(state, "fpdu-a1");
    const branches = [...tree.entries()].filter(([p]) => /FloorPDUs\/fpdu-a1\/Branches\/[A-Z]+$/.test(p));
    assert.equal(branches.length, 8);
    const sum = branches.reduce((s, [, c]) => s + c.PowerWatts.Reading, 0);
    assert.ok(Math.abs(sum - state.powerWatts[d]!) < 0.05, `${sum} vs ${state.powerWatts[d]}`);
  });

  it("integrates circuit energy over sim time", async () => {
    const { state } = twin;
    const path = "/pdu/r02-pdu-b2/redfish/v1/PowerEquipment/RackPDUs/1/Metrics";
    const before = (await get(twin, path)).EnergykWh.Reading;
    const watts = state.powerWatts[slotOfPower(state, "r02-pdu-b2")]!;
    for (let i = 0; i < 600; i++) tick(state, 1);
    const after = (await get(twin, path)).EnergykWh.Reading;
    const expected = (watts * 600) / 3.6e6;
    assert.ok(Math.abs(after - before - expected) < expected * 0.1, `${after - before} vs ${expected}`);
  });
});

describe("Redfish faults", () => {
  let twin: Twin;
  before(async () => {
    twin = await startTwin("lab");
    tick(twin.state, 1);
  });
  after(() => twin.close());

  it("a lost feed reads 0 W and no voltage downstream, breakers Normal; the other side carries the load", async () => {
    const { state } = twin;
    injectFault(state, { kind: "feedLoss", target: "power:fpdu-a1" });
    tick(state, 1);
    const base = "/pdu/r01-pdu-a1/redfish/v1/PowerEquipment/RackPDUs/1";
    const mains = await get(twin, `${base}/Mains/AC1`);
    assert.deepEqual([mains.PowerWatts.Reading, mains.Voltage.Reading, mains.CurrentAmps.Reading], [0, 0, 0]);
    assert.equal(mains.PowerState, "Off");
    assert.equal(mains.BreakerState, "Normal");
    for (const { "@odata.id": id } of (await get(twin, `${base}/Branches`)).Members as Json[]) {
      const c = await get(twin, id);
      assert.equal(c.PowerWatts.Reading, 0);
      assert.equal(c.BreakerState, "Normal");
    }
    assert.equal((await get(twin, base)).Status.Health, "Critical");
    const b1 = slotOfPower(state, "r01-pdu-b1");
    const metrics = await get(twin, "/pdu/r01-pdu-b1/redfish/v1/PowerEquipment/RackPDUs/1/Metrics");
    assert.ok(metrics.PowerWatts.Reading > 1000);
    assert.ok(Math.abs(metrics.PowerWatts.Reading - state.powerWatts[b1]!) < 0.01);
    // The node is still powered through side B: its BMC answers.
    await get(twin, "/bmc/r01-dgx1/redfish/v1/");
  });

  it("an unreachable BMC closes the connection; another node's BMC still answers", async () => {
    injectFault(twin.state, { kind: "bmcUnreachable", target: "node:r02-dgx1" });
    await assert.rejects(fetch(`${twin.url}/bmc/r02-dgx1/redfish/v1/`));
    await assert.rejects(
      fetch(twin.url + gpuPath("r02-dgx1", 0), {
        method: "PATCH",
        body: '{"PowerLimitWatts":{"SetPoint":300}}',
      }),
    );
    assert.equal(twin.state.pendingCaps.length, 0);
    const root = await get(twin, "/bmc/r02-dgx2/redfish/v1/");
    assert.equal(root.Id, "RootService");
  });

  it("a node without power does not answer either", async () => {
    const { state } = twin;
    injectFault(state, { kind: "feedLoss", target: "power:fpdu-b1" });
    tick(state, 1);
    assert.equal(state.faults.nodeUnpowered[state.topo.nodeSlotByName.get("r03-dgx3")!], 1);
    await assert.rejects(fetch(`${twin.url}/bmc/r03-dgx3/redfish/v1/`));
  });
});

describe("Redfish on GB200 NVL72", () => {
  let twin: Twin;
  before(async () => {
    twin = await startTwin("gb200-superpod");
    for (let i = 0; i < 3; i++) tick(twin.state, 1);
  });
  after(() => twin.close());

  it("puts each GPU's metrics on HGX_ProcessorModule_{i}, reachable from the root", async () => {
    const { state } = twin;
    const tree = await crawl(twin, "/bmc/su1-r1-ct01/redfish/v1/");
    const metrics = [...tree.keys()].filter(
      (p) => p.endsWith("/EnvironmentMetrics") && p.includes("HGX_ProcessorModule_"),
    );
    assert.equal(metrics.length, 4);
    const proc = tree.get("/bmc/su1-r1-ct01/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_3")!;
    assert.equal(
      proc.EnvironmentMetrics["@odata.id"],
      "/bmc/su1-r1-ct01/redfish/v1/Chassis/HGX_ProcessorModule_3/EnvironmentMetrics",
    );
    const path = "/bmc/su1-r1-ct01/redfish/v1/Chassis/HGX_ProcessorModule_3/EnvironmentMetrics";
    const m = tree.get(path)!;
    assert.equal(m.PowerLimitWatts.AllowableMax, 1200);
    const g = state.topo.nodeGpuStart[state.topo.nodeSlotByName.get("su1-r1-ct01")!]! + 3;
    assert.ok(Math.abs(m.PowerWatts.Reading - state.gpu.powerWatts[g]!) < 0.01);
    assert.equal((await patch(twin, path, '{"PowerLimitWatts":{"SetPoint":1300}}')).status, 400);
    assert.equal((await patch(twin, path, '{"PowerLimitWatts":{"SetPoint":900}}')).status, 204);
    for (let i = 0; i <= BMC_CAP_DELAY_SECONDS; i++) tick(state, 1);
    assert.equal(state.gpu.capWatts[g], 900);
  });

  it("an NVLink switch tray's BMC has a chassis and no GPU system", async () => {
    const systems = await get(twin, "/bmc/su1-r1-nvs1/redfish/v1/Systems");
    assert.deepEqual(systems.Members, []);
    const tree = await crawl(twin, "/bmc/su1-r1-nvs1/redfish/v1/");
    assert.ok(tree.has("/bmc/su1-r1-nvs1/redfish/v1/Chassis/Chassis_0/Sensors/TotalPower"));
  });

  it("a power shelf's DC bus carries its input times the supply efficiency", async () => {
    const { state } = twin;
    const d = slotOfPower(state, "su1-r1-ps-a1");
    const base = "/pdu/su1-r1-ps-a1/redfish/v1/PowerEquipment/PowerShelves/1";
    const dc = await get(twin, `${base}/Branches/DC`);
    assert.equal(dc.CircuitType, "Bus");
    assert.equal(dc.VoltageType, "DC");
    assert.ok(Math.abs(dc.PowerWatts.Reading - state.powerWatts[d]! * PSU_EFFICIENCY) < 0.01);
    const mains = await get(twin, `${base}/Mains/AC1`);
    assert.match(mains.Name, /^Mains AC Input from feed-a-swbd-bw\d$/);
    assert.ok(Math.abs(mains.PowerWatts.Reading - state.powerWatts[d]!) < 0.01);
    const bus = await get(twin, "/facility/redfish/v1/PowerEquipment/ElectricalBuses");
    assert.equal(bus.Members.length, 4);
  });
});
