/**
 * The Redfish reader against the DMTF mockups (public-pdu, public-power-shelf, public-rackmount1,
 * public-liquid-cooled-server), served as they are from the shared data beside the repository,
 * and against small NVIDIA HGX-shaped services built here (no mockup has GPUs). The test server
 * counts requests in flight and injects faults per path.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createRedfishClient,
  createRedfishPoller,
  discoverRedfish,
  parseRedfishErrorBody,
  pollRedfish,
  type RedfishClientOptions,
  RedfishError,
  type RedfishSnapshot,
  readBack,
  setControlSetPoint,
  setGpuPowerLimit,
} from "../src/redfish/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: mockup bodies of many Redfish schemas, read field by field
type Json = Record<string, any>;

const MOCKUPS = fileURLToPath(new URL("../../../../shared/data/redfish/", import.meta.url));
const mockupFile = (mockup: string, path: string): Json =>
  JSON.parse(readFileSync(`${MOCKUPS}${mockup}${path.replace(/^\/redfish\/v1/, "")}/index.json`, "utf8"));
const KWH = 3_600_000;

type Fault = "500" | "404" | "html" | "hang" | "huge" | "bad-json" | "empty" | "drop";

interface TestServer {
  url: string;
  faults: Map<string, Fault>;
  /** Most requests in flight at once, and most connections open at once. */
  maxInFlight: number;
  maxConnections: number;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/** A resource body by path (no query), or undefined for 404. */
type Resolve = (path: string) => Promise<Json | undefined>;

/** Serves a DMTF mockup folder: `/redfish/v1/A/B` is `A/B/index.json`, read at request time. */
const mockup =
  (name: string): Resolve =>
  async (path) => {
    const rest = path.replace(/^\/redfish\/v1\/?/, "").replace(/\/$/, "");
    if (!path.startsWith("/redfish/v1") || rest.split("/").includes("..")) return undefined;
    try {
      return JSON.parse(await readFile(`${MOCKUPS}${name}/${rest ? `${rest}/` : ""}index.json`, "utf8"));
    } catch {
      return undefined;
    }
  };

/** Serves an in-memory service; trailing slashes do not matter. */
const memory =
  (resources: Record<string, Json>): Resolve =>
  async (path) =>
    resources[path] ?? resources[path.replace(/\/$/, "")] ?? resources[`${path}/`];

const redfishError = (id: string, message: string, property?: string) => ({
  error: {
    code: "Base.1.16.0.GeneralError",
    message: "A general error has occurred. See ExtendedInfo for more information.",
    "@Message.ExtendedInfo": [
      {
        "@odata.type": "#Message.v1_1_1.Message",
        MessageId: id,
        Message: message,
        Severity: "Warning",
        Resolution: "Correct the value and resubmit the request.",
        ...(property ? { RelatedProperties: [`#/${property}`] } : {}),
      },
    ],
  },
});

interface ServerOptions {
  delayMs?: number;
  /** `user:password` that Basic auth must carry. */
  auth?: string;
}

/**
 * A static Redfish server. PATCH of `SetPoint` or `PowerLimitWatts.SetPoint` inside the resource's
 * AllowableMin/Max is kept in an overlay (so it reads back) and answered 204; outside, 400 with a
 * DSP0266 error body, as bmcweb answers.
 */
async function serve(resolve: Resolve, options: ServerOptions = {}): Promise<TestServer> {
  const overlay = new Map<string, Json>();
  let inFlight = 0;
  let open = 0;
  const state: TestServer = {
    url: "",
    faults: new Map(),
    maxInFlight: 0,
    maxConnections: 0,
    requests: [],
    close: async () => {},
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "odata-version": "4.0" });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    state.requests.push({ method: req.method ?? "GET", path });
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (options.auth && req.headers.authorization !== `Basic ${Buffer.from(options.auth).toString("base64")}`)
      return send(res, 401, redfishError("Base.1.16.0.InsufficientPrivilege", "Unauthorized"));
    const fault = state.faults.get(path);
    if (fault === "hang") return;
    if (fault === "drop") return req.socket.destroy();
    if (fault === "500")
      return send(res, 500, redfishError("Base.1.16.0.InternalError", "The request failed: internal error."));
    if (fault === "404")
      return send(res, 404, redfishError("Base.1.16.0.ResourceMissingAtURI", "Not found."));
    if (fault === "html") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end("<html><body>Login</body></html>");
    }
    if (fault === "bad-json") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end('{"PowerWatts": {"Reading": 12');
    }
    if (fault === "huge") {
      // Chunked, with no Content-Length: the client must count what it reads.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = `"${"x".repeat(64 * 1024)}",`;
      res.write('{"pad":[');
      for (let i = 0; i < 80; i++) res.write(chunk);
      return res.end('""]}');
    }
    const base = overlay.get(path) ?? (await resolve(path));
    if (base === undefined)
      return send(res, 404, redfishError("Base.1.16.0.ResourceMissingAtURI", "Not found."));
    if (fault === "empty") return send(res, 200, { "@odata.id": path });
    if (req.method === "GET") return send(res, 200, base);
    if (req.method !== "PATCH") return send(res, 405, redfishError("Base.1.16.0.OperationNotAllowed", "No."));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json;
    const limits = body.PowerLimitWatts ? base.PowerLimitWatts : base;
    const value = body.PowerLimitWatts ? body.PowerLimitWatts.SetPoint : body.SetPoint;
    const property = body.PowerLimitWatts ? "PowerLimitWatts/SetPoint" : "SetPoint";
    if (typeof value !== "number" || value < limits.AllowableMin || value > limits.AllowableMax)
      return send(
        res,
        400,
        redfishError(
          "Base.1.16.0.PropertyValueOutOfRange",
          `The value '${value}' for the property ${property} is not in the supported range of acceptable values.`,
          property,
        ),
      );
    const next = structuredClone(base);
    if (body.PowerLimitWatts) next.PowerLimitWatts.SetPoint = value;
    else next.SetPoint = value;
    overlay.set(path, next);
    res.writeHead(204);
    res.end();
  };
  const server = createServer((req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    handle(req, res).catch((err: Error) => send(res, 500, { error: { code: "test", message: err.message } }));
  });
  server.on("connection", (socket) => {
    open++;
    state.maxConnections = Math.max(state.maxConnections, open);
    socket.on("close", () => open--);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function start(resolve: Resolve, options?: ServerOptions): Promise<TestServer> {
  const s = await serve(resolve, options);
  servers.push(s);
  return s;
}

async function snapshotOf(
  server: TestServer,
  clientOptions: Partial<RedfishClientOptions> = {},
): Promise<RedfishSnapshot> {
  const client = createRedfishClient({ baseUrl: server.url, ...clientOptions });
  return pollRedfish(client, await discoverRedfish(client));
}

const byUri = <T extends { uri: string }>(items: T[], uri: string): T => {
  const found = items.find((i) => i.uri === uri);
  assert.ok(found, `${uri} not among ${items.map((i) => i.uri).join(", ")}`);
  return found;
};

describe("DMTF mockup public-pdu", () => {
  it("finds every mains and branch circuit of the rack PDU and the transfer switch, with the mockup's readings", async () => {
    const snap = await snapshotOf(await start(mockup("public-pdu")));
    assert.deepEqual(snap.errors, []);
    assert.deepEqual(
      snap.circuits.map((c) => `${c.kind} ${c.uri}`),
      [
        "mains /redfish/v1/PowerEquipment/RackPDUs/1/Mains/AC1",
        "branch /redfish/v1/PowerEquipment/RackPDUs/1/Branches/A",
        "branch /redfish/v1/PowerEquipment/RackPDUs/1/Branches/B",
        "branch /redfish/v1/PowerEquipment/RackPDUs/1/Branches/C",
        "mains /redfish/v1/PowerEquipment/TransferSwitches/1/Mains/AC1",
        "mains /redfish/v1/PowerEquipment/TransferSwitches/1/Mains/AC2",
        "branch /redfish/v1/PowerEquipment/TransferSwitches/1/Branches/A",
        "branch /redfish/v1/PowerEquipment/TransferSwitches/1/Branches/B",
      ],
    );
    assert.deepEqual(byUri(snap.circuits, "/redfish/v1/PowerEquipment/RackPDUs/1/Branches/A"), {
      uri: "/redfish/v1/PowerEquipment/RackPDUs/1/Branches/A",
      id: "A",
      name: "Branch Circuit A",
      kind: "branch",
      circuitType: "Branch",
      device: "/redfish/v1/PowerEquipment/RackPDUs/1",
      deviceName: "RackPDU1",
      equipmentType: "RackPDU",
      powerWatts: 937.4,
      currentAmps: 5.19,
      volts: undefined,
      energyJoules: 325675 * KWH,
      ratedAmps: 16,
      breakerState: "Normal",
      powerState: undefined,
    });
    for (const c of snap.circuits.filter((c) => c.kind === "branch")) {
      const file = mockupFile("public-pdu", c.uri);
      assert.equal(c.powerWatts, file.PowerWatts.Reading, c.uri);
      assert.equal(c.currentAmps, file.CurrentAmps.Reading, c.uri);
      assert.equal(c.energyJoules, file.EnergykWh.Reading * KWH, c.uri);
      assert.equal(c.ratedAmps, file.RatedCurrentAmps, c.uri);
    }
  });

  it("reads polyphase mains: line-to-neutral legs summed, the most loaded line's current", async () => {
    const snap = await snapshotOf(await start(mockup("public-pdu")));
    const ac1 = byUri(snap.circuits, "/redfish/v1/PowerEquipment/RackPDUs/1/Mains/AC1");
    assert.ok(Math.abs(ac1.powerWatts! - (198.4 + 231.5 + 58.1)) < 1e-9);
    assert.equal(ac1.currentAmps, 8.66);
    assert.equal(ac1.ratedAmps, 40);
    // A two-wire line-to-line input reads its one leg.
    const ats = byUri(snap.circuits, "/redfish/v1/PowerEquipment/TransferSwitches/1/Mains/AC1");
    const file = mockupFile("public-pdu", ats.uri);
    assert.equal(ats.powerWatts, file.PolyPhasePowerWatts.Line1ToLine2.Reading);
  });

  it("reads each device's summary Metrics and keeps the PDU chassis out of chassis power", async () => {
    const snap = await snapshotOf(await start(mockup("public-pdu")));
    assert.deepEqual(byUri(snap.powerDevices, "/redfish/v1/PowerEquipment/RackPDUs/1/Metrics"), {
      uri: "/redfish/v1/PowerEquipment/RackPDUs/1/Metrics",
      device: "/redfish/v1/PowerEquipment/RackPDUs/1",
      deviceName: "RackPDU1",
      equipmentType: "RackPDU",
      powerWatts: 6438,
      energyJoules: 56438 * KWH,
      temperatureC: 31,
    });
    assert.equal(snap.powerDevices.length, 2);
    assert.deepEqual(snap.chassis, []);
    assert.deepEqual(snap.gpus, []);
  });
});

describe("DMTF mockup public-power-shelf", () => {
  it("reads the shelf's AC branches, its DC bus and its mains", async () => {
    const snap = await snapshotOf(await start(mockup("public-power-shelf")));
    assert.deepEqual(snap.errors, []);
    const base = "/redfish/v1/PowerEquipment/PowerShelves/1";
    assert.deepEqual(
      snap.circuits.map((c) => c.uri),
      ["Mains/AC1", "Mains/AC2", "Branches/A", "Branches/B", "Branches/DC"].map((p) => `${base}/${p}`),
    );
    const a = byUri(snap.circuits, `${base}/Branches/A`);
    assert.deepEqual(
      [a.powerWatts, a.currentAmps, a.volts, a.ratedAmps, a.equipmentType],
      [192.4, 1.59, 121.4, 15, "PowerShelf"],
    );
    const dc = byUri(snap.circuits, `${base}/Branches/DC`);
    assert.deepEqual(
      [dc.kind, dc.circuitType, dc.powerWatts, dc.currentAmps, dc.volts, dc.energyJoules, dc.ratedAmps],
      ["branch", "Bus", 816.5, 16.93, 48.45, 121666 * KWH, 250],
    );
    const ac1 = byUri(snap.circuits, `${base}/Mains/AC1`);
    assert.deepEqual([ac1.kind, ac1.powerWatts, ac1.currentAmps, ac1.volts], ["mains", 897.4, 5.68, 222.8]);
    assert.equal(byUri(snap.powerDevices, `${base}/Metrics`).powerWatts, 6438);
  });
});

describe("DMTF mockups public-rackmount1 and public-liquid-cooled-server", () => {
  for (const name of ["public-rackmount1", "public-liquid-cooled-server"]) {
    it(`${name}: chassis power, its power limit control, and no GPUs among CPUs and FPGAs`, async () => {
      const snap = await snapshotOf(await start(mockup(name)));
      assert.deepEqual(snap.errors, []);
      assert.deepEqual(snap.gpus, []);
      assert.deepEqual(snap.circuits, []);
      const metrics = mockupFile(name, "/redfish/v1/Chassis/1U/EnvironmentMetrics");
      const energy = mockupFile(name, "/redfish/v1/Chassis/1U/Sensors/TotalEnergy");
      assert.deepEqual(snap.chassis, [
        {
          uri: "/redfish/v1/Chassis/1U",
          id: "1U",
          name: "Computer System Chassis",
          containedBy: undefined,
          source: "metrics",
          powerWatts: metrics.PowerWatts.Reading,
          energyJoules: energy.Reading * KWH,
          temperatureC: metrics.TemperatureCelsius.Reading,
        },
      ]);
      assert.equal(snap.chassis[0]!.powerWatts, 374);
      // Controls/CPU1Freq is ControlType Frequency, not a power control.
      assert.deepEqual(snap.controls, [
        {
          uri: "/redfish/v1/Chassis/1U/Controls/PowerLimit",
          id: "PowerLimit",
          name: "System Power Limit",
          chassisUri: "/redfish/v1/Chassis/1U",
          setPointWatts: 500,
          minWatts: 150,
          maxWatts: 1000,
          readingWatts: 374,
          mode: "Automatic",
          physicalContext: "Chassis",
        },
      ]);
    });
  }

  const fallbacks: { hidden: string[]; source: string; watts: number }[] = [
    { hidden: ["EnvironmentMetrics"], source: "sensor", watts: 374 },
    { hidden: ["EnvironmentMetrics", "Sensors"], source: "legacy", watts: 344 },
    { hidden: ["EnvironmentMetrics", "Sensors", "Power"], source: "supplies", watts: 937.4 },
  ];
  for (const { hidden, source, watts } of fallbacks) {
    it(`chassis power falls back to ${source} when ${hidden.join(", ")} cannot be read`, async () => {
      const server = await start(mockup("public-rackmount1"));
      for (const h of hidden) server.faults.set(`/redfish/v1/Chassis/1U/${h}`, "404");
      const snap = await snapshotOf(server);
      const [chassis] = snap.chassis;
      assert.deepEqual([chassis?.source, chassis?.powerWatts], [source, watts]);
      assert.deepEqual(
        snap.errors.map((e) => [e.phase, e.status, e.uri]).sort(),
        [...hidden.map((h) => ["discovery", 404, `/redfish/v1/Chassis/1U/${h}`])].sort(),
      );
    });
  }
});

/** An HGX H100 node's BMC under a URL prefix, as the twin and some proxies serve one (FACTS.md paths). */
function hgxH100(base: string): Record<string, Json> {
  const link = (p: string) => ({ "@odata.id": `${base}${p}` });
  const out: Record<string, Json> = {
    "": { "@odata.id": `${base}/`, Systems: link("/Systems"), Chassis: link("/Chassis") },
    "/Systems": { Members: [link("/Systems/HGX_Baseboard_0")] },
    "/Systems/HGX_Baseboard_0": {
      Id: "HGX_Baseboard_0",
      Processors: link("/Systems/HGX_Baseboard_0/Processors"),
    },
    "/Systems/HGX_Baseboard_0/Processors": {
      Members: ["GPU_SXM_0", "GPU_SXM_1", "CPU_0"].map((p) =>
        link(`/Systems/HGX_Baseboard_0/Processors/${p}`),
      ),
    },
    "/Chassis": { Members: [link("/Chassis/Chassis_0"), link("/Chassis/HGX_Chassis_0")] },
    "/Chassis/Chassis_0": {
      Id: "Chassis_0",
      Name: "node1",
      EnvironmentMetrics: link("/Chassis/Chassis_0/EnvironmentMetrics"),
      Links: { Contains: [link("/Chassis/HGX_Chassis_0")] },
    },
    "/Chassis/Chassis_0/EnvironmentMetrics": {
      PowerWatts: { Reading: 6123.45 },
      TemperatureCelsius: { Reading: 24.5 },
      EnergykWh: { Reading: 12.5 },
    },
    "/Chassis/HGX_Chassis_0": {
      Id: "HGX_Chassis_0",
      Controls: link("/Chassis/HGX_Chassis_0/Controls"),
      Links: { ContainedBy: link("/Chassis/Chassis_0") },
    },
    "/Chassis/HGX_Chassis_0/Controls": {
      Members: [link("/Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0")],
    },
    "/Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0": {
      Id: "TotalGPU_Power_0",
      Name: "Total GPU Power Limit",
      ControlType: "Power",
      ControlMode: "Automatic",
      PhysicalContext: "GPU",
      SetPoint: 1400,
      SetPointUnits: "W",
      AllowableMin: 400,
      AllowableMax: 1400,
      Sensor: { Reading: 1234.5 },
    },
  };
  for (const [i, watts] of [
    [0, 612.3],
    [1, 598.1],
  ] as const) {
    const gpu = `/Systems/HGX_Baseboard_0/Processors/GPU_SXM_${i}`;
    out[gpu] = {
      Id: `GPU_SXM_${i}`,
      Name: `GPU ${i}`,
      ProcessorType: "GPU",
      EnvironmentMetrics: link(`${gpu}/EnvironmentMetrics`),
    };
    out[`${gpu}/EnvironmentMetrics`] = {
      "@odata.id": `${base}${gpu}/EnvironmentMetrics`,
      PowerWatts: { Reading: watts },
      TemperatureCelsius: { Reading: 61 + i },
      EnergyJoules: { Reading: 1e6 * (i + 1) },
      PowerLimitWatts: { SetPoint: 700, AllowableMin: 200, AllowableMax: 700, ControlMode: "Automatic" },
    };
  }
  out["/Systems/HGX_Baseboard_0/Processors/CPU_0"] = {
    Id: "CPU_0",
    ProcessorType: "CPU",
    EnvironmentMetrics: link("/Systems/HGX_Baseboard_0/Processors/CPU_0/EnvironmentMetrics"),
  };
  out["/Systems/HGX_Baseboard_0/Processors/CPU_0/EnvironmentMetrics"] = { PowerWatts: { Reading: 90 } };
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [`${base}${k}`, v]));
}

/** A GB200 tray: per-GPU metrics on processor module chassis, one linked from its Processor, one only by name. */
function gb200(): Record<string, Json> {
  const link = (p: string) => ({ "@odata.id": `/redfish/v1${p}` });
  const metrics = (watts: number) => ({
    PowerWatts: { Reading: watts },
    TemperatureCelsius: { Reading: 55 },
    EnergyJoules: { Reading: 42 },
    PowerLimitWatts: { SetPoint: 1200, AllowableMin: 200, AllowableMax: 1200 },
  });
  const out: Record<string, Json> = {
    "": { Systems: link("/Systems"), Chassis: link("/Chassis") },
    "/Systems": { Members: [link("/Systems/HGX_Baseboard_0")] },
    "/Systems/HGX_Baseboard_0": { Processors: link("/Systems/HGX_Baseboard_0/Processors") },
    "/Systems/HGX_Baseboard_0/Processors": { Members: [link("/Systems/HGX_Baseboard_0/Processors/GPU_0")] },
    "/Systems/HGX_Baseboard_0/Processors/GPU_0": {
      Id: "GPU_0",
      Name: "GPU 0",
      ProcessorType: "GPU",
      Links: { Chassis: link("/Chassis/HGX_ProcessorModule_0") },
    },
    "/Chassis": { Members: [link("/Chassis/HGX_ProcessorModule_0"), link("/Chassis/HGX_ProcessorModule_1")] },
    "/Chassis/HGX_ProcessorModule_0": {
      Id: "HGX_ProcessorModule_0",
      EnvironmentMetrics: link("/Chassis/HGX_ProcessorModule_0/EnvironmentMetrics"),
    },
    "/Chassis/HGX_ProcessorModule_0/EnvironmentMetrics": metrics(1001),
    "/Chassis/HGX_ProcessorModule_1": {
      Id: "HGX_ProcessorModule_1",
      Name: "Processor Module 1",
      EnvironmentMetrics: link("/Chassis/HGX_ProcessorModule_1/EnvironmentMetrics"),
    },
    "/Chassis/HGX_ProcessorModule_1/EnvironmentMetrics": metrics(1002),
  };
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [`/redfish/v1${k}`, v]));
}

describe("NVIDIA HGX shapes", () => {
  const base = "/bmc/node1/redfish/v1";

  it("finds GPU processors and their EnvironmentMetrics under a prefixed service root", async () => {
    const server = await start(memory(hgxH100(base)));
    const snap = await snapshotOf(server, { baseUrl: `${server.url}/bmc/node1/redfish/v1` });
    assert.deepEqual(snap.errors, []);
    assert.deepEqual(snap.gpus, [
      {
        uri: `${base}/Systems/HGX_Baseboard_0/Processors/GPU_SXM_0/EnvironmentMetrics`,
        id: "GPU_SXM_0",
        name: "GPU 0",
        powerWatts: 612.3,
        temperatureC: 61,
        energyJoules: 1e6,
        powerLimit: { setPointWatts: 700, minWatts: 200, maxWatts: 700 },
      },
      {
        uri: `${base}/Systems/HGX_Baseboard_0/Processors/GPU_SXM_1/EnvironmentMetrics`,
        id: "GPU_SXM_1",
        name: "GPU 1",
        powerWatts: 598.1,
        temperatureC: 62,
        energyJoules: 2e6,
        powerLimit: { setPointWatts: 700, minWatts: 200, maxWatts: 700 },
      },
    ]);
    assert.deepEqual(
      snap.chassis.map((c) => [c.uri, c.source, c.powerWatts, c.energyJoules, c.temperatureC]),
      [[`${base}/Chassis/Chassis_0`, "metrics", 6123.45, 12.5 * KWH, 24.5]],
    );
    assert.deepEqual(
      snap.controls.map((c) => [c.uri, c.setPointWatts, c.minWatts, c.maxWatts, c.readingWatts]),
      [[`${base}/Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0`, 1400, 400, 1400, 1234.5]],
    );
  });

  it("finds GB200 GPUs on processor module chassis, by the processor's chassis link or by the module's name", async () => {
    const snap = await snapshotOf(await start(memory(gb200())));
    assert.deepEqual(snap.errors, []);
    assert.deepEqual(
      snap.gpus.map((g) => [g.id, g.uri, g.powerWatts, g.powerLimit?.maxWatts]),
      [
        ["GPU_0", "/redfish/v1/Chassis/HGX_ProcessorModule_0/EnvironmentMetrics", 1001, 1200],
        ["HGX_ProcessorModule_1", "/redfish/v1/Chassis/HGX_ProcessorModule_1/EnvironmentMetrics", 1002, 1200],
      ],
    );
    assert.deepEqual(snap.chassis, [], "a processor module is a GPU, not a chassis");
  });

  it("sets a GPU limit and a control set point with PATCH, and reads them back", async () => {
    const server = await start(memory(hgxH100(base)));
    const client = createRedfishClient({ baseUrl: `${server.url}/bmc/node1` });
    const snap = await pollRedfish(client, await discoverRedfish(client));
    const gpu = snap.gpus[0]!;
    const control = snap.controls[0]!;
    const result = await setGpuPowerLimit(client, gpu, 450);
    assert.equal(result.status, 204);
    await setControlSetPoint(client, control, 900);
    const patches = server.requests.filter((r) => r.method === "PATCH").map((r) => r.path);
    assert.deepEqual(patches, [gpu.uri, control.uri]);
    assert.deepEqual(await readBack(client, gpu), {
      uri: gpu.uri,
      setPointWatts: 450,
      minWatts: 200,
      maxWatts: 700,
      readingWatts: 612.3,
      etag: undefined,
    });
    const c = await readBack(client, control);
    assert.deepEqual([c.setPointWatts, c.minWatts, c.maxWatts, c.readingWatts], [900, 400, 1400, 1234.5]);
  });

  it("parses a refused PATCH's Redfish error body into a typed error", async () => {
    const server = await start(memory(hgxH100(base)));
    const client = createRedfishClient({ baseUrl: `${server.url}/bmc/node1` });
    const uri = `${base}/Systems/HGX_Baseboard_0/Processors/GPU_SXM_0/EnvironmentMetrics`;
    // Bounds unknown to the caller: the request goes out and the BMC refuses it.
    const err = await setGpuPowerLimit(client, { uri }, 9000).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RedfishError);
    assert.deepEqual([err.code, err.status, err.retryable, err.uri], ["http", 400, false, uri]);
    assert.equal(err.messages.length, 1);
    assert.equal(err.messages[0]!.messageId, "Base.1.16.0.PropertyValueOutOfRange");
    assert.match(err.messages[0]!.message, /'9000'.*PowerLimitWatts\/SetPoint/);
    assert.deepEqual(err.messages[0]!.relatedProperties, ["#/PowerLimitWatts/SetPoint"]);
    assert.match(err.message, /HTTP 400: Base\.1\.16\.0\.PropertyValueOutOfRange/);
    assert.equal((await readBack(client, { uri })).setPointWatts, 700, "nothing changed");
  });

  it("refuses a set point outside known bounds without sending it", async () => {
    const server = await start(memory(hgxH100(base)));
    const client = createRedfishClient({ baseUrl: `${server.url}/bmc/node1` });
    const snap = await pollRedfish(client, await discoverRedfish(client));
    for (const watts of [100, 701, Number.NaN, -1])
      assert.throws(
        () => setGpuPowerLimit(client, snap.gpus[0]!, watts),
        (e: unknown) => e instanceof RedfishError && e.code === "out-of-range",
      );
    assert.throws(
      () => setControlSetPoint(client, { uri: snap.controls[0]!.uri, minWatts: 400, maxWatts: 1400 }, 300),
      /outside \[400, 1400\] W/,
    );
    assert.equal(server.requests.filter((r) => r.method === "PATCH").length, 0);
  });
});

describe("faults", () => {
  const faults: [string, Fault, string, RegExp][] = [
    [
      "/redfish/v1/PowerEquipment/RackPDUs/1/Branches/A",
      "500",
      "http",
      /HTTP 500: Base\.1\.16\.0\.InternalError/,
    ],
    ["/redfish/v1/PowerEquipment/RackPDUs/1/Branches/B", "html", "not-json", /text\/html/],
    ["/redfish/v1/PowerEquipment/RackPDUs/1/Branches/C", "hang", "timeout", /no answer within 300 ms/],
    ["/redfish/v1/PowerEquipment/RackPDUs/1/Metrics", "huge", "too-large", /larger than 1048576 bytes/],
    ["/redfish/v1/PowerEquipment/RackPDUs/1/Mains/AC1", "bad-json", "bad-json", /not JSON/],
    [
      "/redfish/v1/PowerEquipment/TransferSwitches/1/Branches/A",
      "empty",
      "missing-property",
      /no PowerWatts/,
    ],
    ["/redfish/v1/PowerEquipment/TransferSwitches/1/Metrics", "drop", "network", /connection failed/],
  ];

  it("records each failing leaf with its reason and still reads the others", async () => {
    const server = await start(mockup("public-pdu"));
    const client = createRedfishClient({ baseUrl: server.url, timeoutMs: 300, maxBodyBytes: 1024 * 1024 });
    const inventory = await discoverRedfish(client);
    for (const [path, fault] of faults) server.faults.set(path, fault);
    const snap = await pollRedfish(client, inventory);
    assert.deepEqual(
      snap.errors.map((e) => [e.uri, e.code, e.phase]).sort(),
      faults.map(([path, , code]) => [path, code, "poll"]).sort(),
    );
    for (const [path, , , reason] of faults) assert.match(byUri(snap.errors, path).reason, reason);
    assert.equal(byUri(snap.errors, faults[0]![0]).status, 500);
    // What did not fail reads as in the mockup.
    assert.deepEqual(
      snap.circuits.map((c) => [c.uri, c.powerWatts]),
      [
        ["/redfish/v1/PowerEquipment/TransferSwitches/1/Mains/AC1", readLeg("AC1")],
        ["/redfish/v1/PowerEquipment/TransferSwitches/1/Mains/AC2", readLeg("AC2")],
        ["/redfish/v1/PowerEquipment/TransferSwitches/1/Branches/B", 586.96],
      ],
    );
  });

  it("records an unreachable service as one discovery error and returns an empty snapshot", async () => {
    const server = await start(mockup("public-pdu"));
    server.faults.set("/redfish/v1/", "drop");
    const snap = await snapshotOf(server);
    assert.deepEqual(
      snap.errors.map((e) => [e.uri, e.code, e.phase]),
      [["/redfish/v1/", "network", "discovery"]],
    );
    assert.deepEqual([snap.gpus, snap.chassis, snap.circuits, snap.controls], [[], [], [], []]);
  });

  it("sends Basic auth when given, and reports a refusal", async () => {
    const server = await start(mockup("public-pdu"), { auth: "admin:secret" });
    const denied = await snapshotOf(server);
    assert.deepEqual(
      denied.errors.map((e) => [e.code, e.status]),
      [["http", 401]],
    );
    const ok = await snapshotOf(server, { username: "admin", password: "secret" });
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.circuits.length, 8);
  });

  it("does not follow a link to another origin", async () => {
    const server = await start(
      memory({
        "/redfish/v1/": { PowerEquipment: { "@odata.id": "/redfish/v1/PowerEquipment" } },
        "/redfish/v1/PowerEquipment": { RackPDUs: { "@odata.id": "http://192.0.2.1/redfish/v1/RackPDUs" } },
      }),
    );
    const snap = await snapshotOf(server);
    assert.deepEqual(
      snap.errors.map((e) => [e.uri, e.code]),
      [["http://192.0.2.1/redfish/v1/RackPDUs", "foreign-link"]],
    );
  });
});

function readLeg(mains: string): number {
  return mockupFile("public-pdu", `/redfish/v1/PowerEquipment/TransferSwitches/1/Mains/${mains}`)
    .PolyPhasePowerWatts.Line1ToLine2.Reading;
}

describe("concurrency", () => {
  for (const maxConnections of [undefined, 1, 4]) {
    const bound = maxConnections ?? 2;
    it(`keeps at most ${bound} requests and connections open to a service${maxConnections ? "" : " by default"}`, async () => {
      const server = await start(mockup("public-rackmount1"), { delayMs: 5 });
      const client = createRedfishClient({ baseUrl: server.url, maxConnections });
      const inventory = await discoverRedfish(client);
      await Promise.all([pollRedfish(client, inventory), pollRedfish(client, inventory)]);
      assert.ok(server.requests.length > 40, `${server.requests.length} requests`);
      assert.equal(server.maxInFlight, bound, "in flight");
      assert.ok(server.maxConnections <= bound, `${server.maxConnections} connections`);
    });
  }
});

describe("poller", () => {
  it("discovers once, polls leaves only, and rediscovers after a 404 or when due", async () => {
    const server = await start(mockup("public-pdu"));
    let clock = 1_000_000;
    const poller = createRedfishPoller({
      client: createRedfishClient({ baseUrl: server.url }),
      now: () => clock,
      rediscoverMs: 60_000,
    });
    const roots = () => server.requests.filter((r) => r.path === "/redfish/v1/").length;
    const first = await poller.poll();
    assert.equal(first.timeMs, clock);
    assert.equal(poller.inventory?.circuits.length, 8);
    const before = server.requests.length;
    await poller.poll();
    // 8 circuits and 2 device metrics, nothing else.
    assert.equal(server.requests.length - before, 10);
    assert.equal(roots(), 1);

    server.faults.set("/redfish/v1/PowerEquipment/RackPDUs/1/Branches/A", "404");
    const missing = await poller.poll();
    assert.deepEqual(
      missing.errors.map((e) => [e.status, e.phase]),
      [[404, "poll"]],
    );
    await poller.poll();
    assert.equal(roots(), 1, "a 404 on a young inventory does not rediscover at once");
    clock += 30_000;
    await poller.poll();
    assert.equal(roots(), 2, "a 404 rediscovers once the inventory is retryDiscoveryMs old");

    server.faults.clear();
    clock += 60_000;
    await poller.poll();
    assert.equal(roots(), 3, "rediscovers when due");
    await poller.poll();
    assert.equal(roots(), 3);
  });
});

describe("parseRedfishErrorBody", () => {
  it("reads ExtendedInfo entries, else the general code", () => {
    const body = redfishError("Base.1.16.0.PropertyNotWritable", "The property X is read-only.", "X");
    assert.deepEqual(parseRedfishErrorBody(body), [
      {
        messageId: "Base.1.16.0.PropertyNotWritable",
        message: "The property X is read-only.",
        severity: "Warning",
        resolution: "Correct the value and resubmit the request.",
        relatedProperties: ["#/X"],
      },
    ]);
    assert.deepEqual(parseRedfishErrorBody({ error: { code: "Base.1.16.0.GeneralError", message: "m" } }), [
      { messageId: "Base.1.16.0.GeneralError", message: "m" },
    ]);
    assert.deepEqual(parseRedfishErrorBody("<html>"), []);
  });
});
