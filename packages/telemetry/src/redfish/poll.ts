/**
 * A poll: re-reads the leaf resources an inventory lists (each URI once, however many readings
 * share it) and turns them into a snapshot in SI units. A leaf that fails, or lacks the reading
 * it is read for, becomes an error entry; the others are still read (one target's failure is
 * counted, never fatal).
 */
import type { RedfishClient } from "./client.ts";
import { RedfishError, readErrorOf } from "./errors.ts";
import { at, energyJoulesOf, type Json, joulesPerUnit, numberAt, readingOf, stringAt } from "./json.ts";
import type {
  ChassisReading,
  ChassisTarget,
  CircuitReading,
  CircuitTarget,
  ControlReading,
  ControlTarget,
  GpuReading,
  GpuTarget,
  PowerDeviceReading,
  PowerDeviceTarget,
  PowerLimit,
  RedfishInventory,
  RedfishReadError,
  RedfishSnapshot,
} from "./types.ts";

/** Reads every leaf of `inventory` once. Never throws; discovery's errors are carried into the snapshot. */
export async function pollRedfish(
  client: RedfishClient,
  inventory: RedfishInventory,
  now: () => number = Date.now,
): Promise<RedfishSnapshot> {
  const timeMs = now();
  const cache = new Map<string, Promise<Json>>();
  const read = (uri: string): Promise<Json> => {
    let p = cache.get(uri);
    if (p === undefined) {
      p = client.get(uri).then((doc) => doc.body);
      cache.set(uri, p);
    }
    return p;
  };
  const errors: RedfishReadError[] = [];
  const each = async <T, R>(targets: readonly T[], one: (t: T) => Promise<R>, uriOf: (t: T) => string) => {
    const settled = await Promise.allSettled(targets.map(one));
    const out: R[] = [];
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") out.push(s.value);
      else errors.push(readErrorOf(failedUri(s.reason, uriOf(targets[i]!)), s.reason, "poll"));
    });
    return out;
  };
  const [gpus, chassis, controls, circuits, powerDevices] = await Promise.all([
    each(
      inventory.gpus,
      async (t) => gpuReading(t, await read(t.uri)),
      (t) => t.uri,
    ),
    each(
      inventory.chassis,
      (t) => chassisReading(t, read, errors),
      (t) => t.uri,
    ),
    each(
      inventory.controls,
      async (t) => controlReading(t, await read(t.uri)),
      (t) => t.uri,
    ),
    each(
      inventory.circuits,
      async (t) => circuitReading(t, await read(t.uri)),
      (t) => t.uri,
    ),
    each(
      inventory.powerDevices,
      async (t) => deviceReading(t, await read(t.uri)),
      (t) => t.uri,
    ),
  ]);
  // A URI shared by two readings that failed is one failure, reported once.
  const unique = dedupe(errors);
  return {
    timeMs,
    gpus,
    chassis,
    controls,
    circuits,
    powerDevices,
    errors: [...inventory.errors, ...unique],
  };
}

/** The resource that failed: a chassis read through its sensor reports the sensor. */
const failedUri = (err: unknown, fallback: string): string =>
  err instanceof RedfishError ? err.uri : fallback;

function dedupe(errors: RedfishReadError[]): RedfishReadError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.uri}\n${e.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function required(uri: string, value: number | undefined, property: string): number {
  if (value === undefined) throw new RedfishError("missing-property", uri, `no numeric ${property}`);
  return value;
}

/** `PowerLimitWatts` of an EnvironmentMetrics, undefined when absent. */
export function powerLimitOf(body: Json): PowerLimit | undefined {
  if (at(body, "PowerLimitWatts") === undefined) return undefined;
  return {
    setPointWatts: numberAt(body, "PowerLimitWatts", "SetPoint"),
    minWatts: numberAt(body, "PowerLimitWatts", "AllowableMin"),
    maxWatts: numberAt(body, "PowerLimitWatts", "AllowableMax"),
  };
}

function gpuReading(t: GpuTarget, body: Json): GpuReading {
  return {
    uri: t.uri,
    id: t.id,
    name: t.name,
    powerWatts: required(t.uri, readingOf(body, "PowerWatts"), "PowerWatts.Reading"),
    temperatureC: readingOf(body, "TemperatureCelsius"),
    energyJoules: energyJoulesOf(body),
    powerLimit: powerLimitOf(body),
  };
}

async function chassisReading(
  t: ChassisTarget,
  read: (uri: string) => Promise<Json>,
  errors: RedfishReadError[],
): Promise<ChassisReading> {
  const source = t.power;
  let powerWatts: number;
  if (source.kind === "metrics") {
    powerWatts = required(source.uri, readingOf(await read(source.uri), "PowerWatts"), "PowerWatts.Reading");
  } else if (source.kind === "sensor") {
    powerWatts = required(source.uri, numberAt(await read(source.uri), "Reading"), "Reading");
  } else if (source.kind === "legacy") {
    const controls = at(await read(source.uri), "PowerControl");
    const consumed = Array.isArray(controls)
      ? controls.map((pc) => numberAt(pc, "PowerConsumedWatts")).find((w) => w !== undefined)
      : undefined;
    powerWatts = required(source.uri, consumed, "PowerControl[].PowerConsumedWatts");
  } else {
    // Every supply must read: a sum missing one would understate the draw.
    const bodies = await Promise.all(source.uris.map(read));
    powerWatts = bodies.reduce(
      (sum, b, i) =>
        sum + required(source.uris[i]!, readingOf(b, "InputPowerWatts"), "InputPowerWatts.Reading"),
      0,
    );
  }
  // Energy and temperature are extras: losing them is reported but keeps the power reading.
  const extra = async (uri: string): Promise<Json | undefined> => {
    try {
      return await read(uri);
    } catch (err) {
      errors.push(readErrorOf(failedUri(err, uri), err, "poll"));
      return undefined;
    }
  };
  let energyJoules: number | undefined;
  if (t.energy?.kind === "metrics") energyJoules = energyJoulesOf(await extra(t.energy.uri));
  else if (t.energy?.kind === "sensor") {
    const s = await extra(t.energy.uri);
    const scale = joulesPerUnit(stringAt(s, "ReadingType") ?? "");
    const reading = numberAt(s, "Reading");
    energyJoules = scale === undefined || reading === undefined ? undefined : reading * scale;
  }
  const temperatureC =
    t.metricsUri === undefined ? undefined : readingOf(await extra(t.metricsUri), "TemperatureCelsius");
  return {
    uri: t.uri,
    id: t.id,
    name: t.name,
    containedBy: t.containedBy,
    source: source.kind,
    powerWatts,
    energyJoules,
    temperatureC,
  };
}

function controlReading(t: ControlTarget, body: Json): ControlReading {
  return {
    uri: t.uri,
    id: t.id,
    name: t.name,
    chassisUri: t.chassisUri,
    setPointWatts: required(t.uri, numberAt(body, "SetPoint"), "SetPoint"),
    minWatts: numberAt(body, "AllowableMin"),
    maxWatts: numberAt(body, "AllowableMax"),
    readingWatts: numberAt(body, "Sensor", "Reading"),
    mode: stringAt(body, "ControlMode"),
    physicalContext: stringAt(body, "PhysicalContext"),
  };
}

/** Lines of a wye (line-to-neutral) and of a delta (line-to-line) connection, DMTF Circuit PolyPhase*. */
const WYE = ["Line1ToNeutral", "Line2ToNeutral", "Line3ToNeutral"];
const DELTA = ["Line1ToLine2", "Line2ToLine3", "Line3ToLine1"];
const LINES = ["Line1", "Line2", "Line3"];

/**
 * Circuit power: `PowerWatts`, else the sum of `PolyPhasePowerWatts` per phase (line-to-neutral
 * legs in a wye; line-to-line in a delta), never both, which would count the load twice.
 */
function circuitPowerWatts(body: Json): number | undefined {
  const total = readingOf(body, "PowerWatts");
  if (total !== undefined) return total;
  for (const legs of [WYE, DELTA]) {
    const readings = legs.map((leg) => numberAt(body, "PolyPhasePowerWatts", leg, "Reading"));
    if (readings.some((r) => r !== undefined)) return readings.reduce<number>((sum, r) => sum + (r ?? 0), 0);
  }
  return undefined;
}

function circuitCurrentAmps(body: Json): number | undefined {
  const total = readingOf(body, "CurrentAmps");
  if (total !== undefined) return total;
  const lines = LINES.map((l) => numberAt(body, "PolyPhaseCurrentAmps", l, "Reading")).filter(
    (a): a is number => a !== undefined,
  );
  return lines.length > 0 ? Math.max(...lines) : undefined;
}

function circuitReading(t: CircuitTarget, body: Json): CircuitReading {
  const powerWatts = circuitPowerWatts(body);
  const currentAmps = circuitCurrentAmps(body);
  if (powerWatts === undefined && currentAmps === undefined)
    throw new RedfishError("missing-property", t.uri, "no PowerWatts or CurrentAmps reading");
  const id = stringAt(body, "Id") ?? t.uri;
  return {
    uri: t.uri,
    id,
    name: stringAt(body, "Name") ?? id,
    kind: t.kind,
    circuitType: stringAt(body, "CircuitType"),
    device: t.device,
    deviceName: t.deviceName,
    equipmentType: t.equipmentType,
    powerWatts,
    currentAmps,
    volts: readingOf(body, "Voltage"),
    energyJoules: energyJoulesOf(body),
    ratedAmps: numberAt(body, "RatedCurrentAmps"),
    breakerState: stringAt(body, "BreakerState"),
    powerState: stringAt(body, "PowerState"),
  };
}

function deviceReading(t: PowerDeviceTarget, body: Json): PowerDeviceReading {
  return {
    uri: t.uri,
    device: t.device,
    deviceName: t.deviceName,
    equipmentType: t.equipmentType,
    powerWatts: required(t.uri, readingOf(body, "PowerWatts"), "PowerWatts.Reading"),
    energyJoules: energyJoulesOf(body),
    temperatureC: readingOf(body, "TemperatureCelsius"),
  };
}
