/**
 * Discovery: follows links from the service root to the leaf resources that carry power readings,
 * once, so that a poll re-reads only those leaves. It relies on the Redfish standard, not on any
 * one vendor's URLs:
 *
 *   ServiceRoot → Systems → Processors (ProcessorType GPU) → EnvironmentMetrics
 *   ServiceRoot → Chassis → EnvironmentMetrics | Sensors | Power | PowerSubsystem, and Controls (ControlType Power)
 *   ServiceRoot → PowerEquipment → RackPDUs | FloorPDUs | PowerShelves | … → Mains | Branches | Feeders | Subfeeds, Metrics
 *
 * NVIDIA HGX shapes (FACTS.md) fit these rules: GPU_SXM_n / GPU_n processors, GB200's
 * `Chassis/HGX_ProcessorModule_n/EnvironmentMetrics`, `HGX_Chassis_0/Controls/TotalGPU_Power_0`.
 */
import type { RedfishClient } from "./client.ts";
import { readErrorOf } from "./errors.ts";
import { at, type Json, joulesPerUnit, linkAt, linksAt, stringAt } from "./json.ts";
import type {
  ChassisEnergySource,
  ChassisPowerSource,
  ChassisTarget,
  CircuitKind,
  CircuitTarget,
  ControlTarget,
  GpuTarget,
  PowerDeviceTarget,
  RedfishInventory,
  RedfishReadError,
} from "./types.ts";

/** PowerEquipment collections of power distribution devices (DMTF PowerEquipment v1.2). */
const EQUIPMENT_COLLECTIONS = [
  "FloorPDUs",
  "RackPDUs",
  "PowerShelves",
  "Switchgear",
  "TransferSwitches",
  "ElectricalBuses",
] as const;

/** Circuit collections of a PowerDistribution. Outlets are left out: a branch already sums them. */
const CIRCUIT_COLLECTIONS: readonly [string, CircuitKind][] = [
  ["Mains", "mains"],
  ["Branches", "branch"],
  ["Feeders", "feeder"],
  ["Subfeeds", "subfeed"],
];

/** GB200 BMCs show per-GPU metrics on a processor module chassis (FACTS.md). */
const GB200_MODULE = /^HGX_ProcessorModule_\d+$/;

/** Reads each resource at most once per discovery and records what fails. */
interface Crawl {
  get(uri: string): Promise<Json | undefined>;
  members(uri: string | undefined): Promise<string[]>;
  errors: RedfishReadError[];
}

function crawl(client: RedfishClient): Crawl {
  const seen = new Map<string, Promise<Json | undefined>>();
  const errors: RedfishReadError[] = [];
  const get = (uri: string): Promise<Json | undefined> => {
    let p = seen.get(uri);
    if (p === undefined) {
      p = client.get(uri).then(
        (doc) => doc.body,
        (err: unknown) => {
          errors.push(readErrorOf(uri, err, "discovery"));
          return undefined;
        },
      );
      seen.set(uri, p);
    }
    return p;
  };
  const members = async (uri: string | undefined): Promise<string[]> => {
    const out: string[] = [];
    // Follows Members@odata.nextLink, which large collections page with (DSP0266 7.8).
    for (let next = uri, pages = 0; next !== undefined && pages < 1000; pages++) {
      const body = await get(next);
      out.push(...linksAt(body, "Members"));
      next = stringAt(body, "Members@odata.nextLink");
    }
    return out;
  };
  return { get, members, errors };
}

/**
 * Walks the service from its root and returns what to poll. Never throws: a link that cannot be
 * followed is listed in `errors`, and everything else is still found.
 */
export async function discoverRedfish(
  client: RedfishClient,
  now: () => number = Date.now,
): Promise<RedfishInventory> {
  const c = crawl(client);
  const root = await c.get(client.rootUri);
  const [gpusFound, equipment] = await Promise.all([
    discoverGpus(c, linkAt(root, "Systems")),
    discoverEquipment(c, linkAt(root, "PowerEquipment")),
  ]);
  // Chassis after GPUs: a chassis whose EnvironmentMetrics is a GPU's is that GPU, not a chassis.
  const chassisFound = await discoverChassis(c, linkAt(root, "Chassis"), gpusFound);
  const inventory: RedfishInventory = {
    rootUri: client.rootUri,
    discoveredAtMs: now(),
    gpus: [...gpusFound, ...chassisFound.gpus],
    chassis: chassisFound.chassis,
    controls: chassisFound.controls,
    circuits: equipment.circuits,
    powerDevices: equipment.devices,
    errors: c.errors,
  };
  return deepFreeze(inventory);
}

async function discoverGpus(c: Crawl, systemsUri: string | undefined): Promise<GpuTarget[]> {
  const systems = await c.members(systemsUri);
  const perSystem = await Promise.all(
    systems.map(async (systemUri) => {
      const processors = await c.members(linkAt(await c.get(systemUri), "Processors"));
      const found = await Promise.all(processors.map((uri) => discoverGpu(c, uri)));
      return found.filter((g): g is GpuTarget => g !== undefined);
    }),
  );
  return perSystem.flat();
}

async function discoverGpu(c: Crawl, processorUri: string): Promise<GpuTarget | undefined> {
  const proc = await c.get(processorUri);
  if (proc === undefined || stringAt(proc, "ProcessorType") !== "GPU") return undefined;
  let metrics = linkAt(proc, "EnvironmentMetrics");
  // Where the processor does not link its metrics, the chassis it sits in may (GB200 modules).
  for (const chassisUri of metrics === undefined ? linksAt(proc, "Links", "Chassis") : []) {
    metrics = linkAt(await c.get(chassisUri), "EnvironmentMetrics");
    if (metrics !== undefined) break;
  }
  if (metrics === undefined) {
    c.errors.push({
      uri: processorUri,
      reason: `${processorUri}: GPU without EnvironmentMetrics`,
      code: "missing-property",
      phase: "discovery",
    });
    return undefined;
  }
  const id = stringAt(proc, "Id") ?? lastSegment(processorUri);
  return { uri: metrics, id, name: stringAt(proc, "Name") ?? id, processorUri };
}

interface ChassisFound {
  chassis: ChassisTarget[];
  controls: ControlTarget[];
  gpus: GpuTarget[];
}

async function discoverChassis(c: Crawl, collectionUri: string | undefined, gpus: GpuTarget[]) {
  const gpuMetrics = new Set(gpus.map((g) => g.uri));
  const found: ChassisFound = { chassis: [], controls: [], gpus: [] };
  const members = await c.members(collectionUri);
  await Promise.all(
    members.map(async (uri) => {
      const body = await c.get(uri);
      if (body === undefined) return;
      const [controls, power] = await Promise.all([
        discoverControls(c, uri, linkAt(body, "Controls")),
        chassisPower(c, uri, body, gpuMetrics),
      ]);
      found.controls.push(...controls);
      if (power?.kind === "gpu") found.gpus.push(power.gpu);
      else if (power !== undefined) found.chassis.push(power.chassis);
    }),
  );
  // Collection order, not answer order: the inventory reads the same on every discovery.
  const order = new Map(members.map((m, i) => [m, i]));
  const rank = (uri: string) => order.get(uri) ?? 0;
  found.chassis.sort((a, b) => rank(a.uri) - rank(b.uri));
  found.controls.sort((a, b) => rank(a.chassisUri) - rank(b.chassisUri) || a.uri.localeCompare(b.uri));
  return found;
}

async function discoverControls(c: Crawl, chassisUri: string, controlsUri: string | undefined) {
  const members = await c.members(controlsUri);
  const bodies = await Promise.all(members.map((uri) => c.get(uri)));
  const out: ControlTarget[] = [];
  members.forEach((uri, i) => {
    const body = bodies[i];
    if (stringAt(body, "ControlType") !== "Power") return;
    const id = stringAt(body, "Id") ?? lastSegment(uri);
    out.push({ uri, id, name: stringAt(body, "Name") ?? id, chassisUri });
  });
  return out;
}

type ChassisPowerFound = { kind: "chassis"; chassis: ChassisTarget } | { kind: "gpu"; gpu: GpuTarget };

async function chassisPower(
  c: Crawl,
  uri: string,
  body: Json,
  gpuMetrics: Set<string>,
): Promise<ChassisPowerFound | undefined> {
  // A power distribution device's chassis: its readings come through PowerEquipment.
  if (linksAt(body, "Links", "PowerDistribution").length > 0) return undefined;
  const id = stringAt(body, "Id") ?? lastSegment(uri);
  const name = stringAt(body, "Name") ?? id;
  const metricsUri = linkAt(body, "EnvironmentMetrics");
  if (metricsUri !== undefined && gpuMetrics.has(metricsUri)) return undefined;
  if (metricsUri !== undefined && GB200_MODULE.test(id))
    return { kind: "gpu", gpu: { uri: metricsUri, id, name, processorUri: undefined } };

  const metrics = metricsUri === undefined ? undefined : await c.get(metricsUri);
  let power: ChassisPowerSource | undefined =
    metricsUri !== undefined && at(metrics, "PowerWatts") !== undefined
      ? { kind: "metrics", uri: metricsUri }
      : undefined;
  let energy: ChassisEnergySource | undefined =
    metricsUri !== undefined && (at(metrics, "EnergyJoules") ?? at(metrics, "EnergykWh")) !== undefined
      ? { kind: "metrics", uri: metricsUri }
      : undefined;
  if (power === undefined || energy === undefined) {
    const sensors = await chassisSensors(c, linkAt(body, "Sensors"));
    power ??= sensors.power;
    energy ??= sensors.energy;
  }
  power ??= await legacyPower(c, linkAt(body, "Power"));
  power ??= await supplyPower(c, linkAt(body, "PowerSubsystem"));
  if (power === undefined) return undefined;
  const containedBy = linkAt(body, "Links", "ContainedBy");
  const chassis: ChassisTarget = {
    uri,
    id,
    name,
    containedBy,
    power,
    energy,
    // Only metrics that answered: a failed one is retried by the next discovery, not every poll.
    metricsUri: metrics === undefined ? undefined : metricsUri,
  };
  return { kind: "chassis", chassis };
}

/**
 * The chassis's own power and energy sensors: ReadingType Power / Energy* with PhysicalContext
 * Chassis, a `Total` electrical context first (DMTF mockup public-rackmount1 `Sensors/TotalPower`,
 * `Sensors/TotalEnergy`); sensors of CPUs, supplies or GPUs are parts of it.
 */
async function chassisSensors(c: Crawl, sensorsUri: string | undefined) {
  const members = await c.members(sensorsUri);
  const bodies = await Promise.all(members.map((uri) => c.get(uri)));
  const pick = (match: (type: string) => boolean): string | undefined => {
    let best: string | undefined;
    let bestScore = 0;
    members.forEach((uri, i) => {
      const s = bodies[i];
      if (stringAt(s, "PhysicalContext") !== "Chassis" || !match(stringAt(s, "ReadingType") ?? "")) return;
      const context = stringAt(s, "ElectricalContext");
      const score = context === "Total" ? 2 : context === undefined ? 1 : 0.5;
      if (score > bestScore) [best, bestScore] = [uri, score];
    });
    return best;
  };
  const powerUri = pick((t) => t === "Power");
  const energyUri = pick((t) => joulesPerUnit(t) !== undefined);
  return {
    power: powerUri === undefined ? undefined : ({ kind: "sensor", uri: powerUri } as const),
    energy: energyUri === undefined ? undefined : ({ kind: "sensor", uri: energyUri } as const),
  };
}

async function legacyPower(c: Crawl, uri: string | undefined): Promise<ChassisPowerSource | undefined> {
  if (uri === undefined) return undefined;
  const controls = at(await c.get(uri), "PowerControl");
  const has = Array.isArray(controls) && controls.some((pc) => at(pc, "PowerConsumedWatts") !== undefined);
  return has ? { kind: "legacy", uri } : undefined;
}

async function supplyPower(c: Crawl, uri: string | undefined): Promise<ChassisPowerSource | undefined> {
  if (uri === undefined) return undefined;
  const supplies = await c.members(linkAt(await c.get(uri), "PowerSupplies"));
  const bodies = await Promise.all(supplies.map((s) => c.get(s)));
  const uris = bodies.map((b) => linkAt(b, "Metrics")).filter((m): m is string => m !== undefined);
  return uris.length > 0 ? { kind: "supplies", uris } : undefined;
}

async function discoverEquipment(c: Crawl, equipmentUri: string | undefined) {
  const circuits: CircuitTarget[] = [];
  const devices: PowerDeviceTarget[] = [];
  if (equipmentUri === undefined) return { circuits, devices };
  const equipment = await c.get(equipmentUri);
  const deviceUris = (
    await Promise.all(EQUIPMENT_COLLECTIONS.map((name) => c.members(linkAt(equipment, name))))
  ).flat();
  const perDevice = await Promise.all(
    deviceUris.map(async (device) => {
      const body = await c.get(device);
      if (body === undefined) return { circuits: [], metrics: undefined };
      const deviceName = stringAt(body, "Name") ?? stringAt(body, "Id") ?? lastSegment(device);
      const equipmentType = stringAt(body, "EquipmentType");
      const lists = await Promise.all(
        CIRCUIT_COLLECTIONS.map(async ([property, kind]) =>
          (await c.members(linkAt(body, property))).map(
            (uri): CircuitTarget => ({ uri, kind, device, deviceName, equipmentType }),
          ),
        ),
      );
      const metricsUri = linkAt(body, "Metrics");
      const metrics: PowerDeviceTarget | undefined =
        metricsUri === undefined ? undefined : { uri: metricsUri, device, deviceName, equipmentType };
      return { circuits: lists.flat(), metrics };
    }),
  );
  for (const d of perDevice) {
    circuits.push(...d.circuits);
    if (d.metrics) devices.push(d.metrics);
  }
  return { circuits, devices };
}

function lastSegment(uri: string): string {
  const segment = uri.replace(/\/+$/, "").split("/").pop() ?? uri;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Freezes the inventory and everything in it: it is shared by every poll. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
