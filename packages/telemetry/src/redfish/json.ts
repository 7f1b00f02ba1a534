/** Small readers for Redfish JSON bodies: links, collection members and readings. */

/** A Redfish resource body. */
export type Json = Record<string, unknown>;

/** Joules in one kilowatt-hour (`EnergykWh` readings of DMTF mockup public-pdu circuits). */
export const JOULES_PER_KWH = 3_600_000;
/** Joules in one watt-hour (Sensor ReadingType `EnergyWh`). */
export const JOULES_PER_WH = 3_600;

const JOULES_PER_UNIT: Record<string, number> = {
  EnergyJoules: 1,
  EnergykWh: JOULES_PER_KWH,
  EnergyWh: JOULES_PER_WH,
};

/** Joules per unit of an energy Sensor's ReadingType (`EnergyJoules`, `EnergykWh`, `EnergyWh`). */
export const joulesPerUnit = (readingType: string): number | undefined => JOULES_PER_UNIT[readingType];

export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The value at `path` in `body`, through nested objects. */
export function at(body: unknown, ...path: string[]): unknown {
  let v: unknown = body;
  for (const key of path) {
    if (!isObject(v)) return undefined;
    v = v[key];
  }
  return v;
}

/** A finite number at `path`; Redfish reports an unavailable reading as null. */
export function numberAt(body: unknown, ...path: string[]): number | undefined {
  const v = at(body, ...path);
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function stringAt(body: unknown, ...path: string[]): string | undefined {
  const v = at(body, ...path);
  return typeof v === "string" ? v : undefined;
}

/** The `@odata.id` of the link at `path` (`{"@odata.id": ...}`). */
export function linkAt(body: unknown, ...path: string[]): string | undefined {
  return stringAt(body, ...path, "@odata.id");
}

/** The `@odata.id`s at `path`, which may hold one link or an array of them (Links.Chassis does both). */
export function linksAt(body: unknown, ...path: string[]): string[] {
  const v = at(body, ...path);
  const items = Array.isArray(v) ? v : [v];
  return items.map((item) => linkAt(item)).filter((id): id is string => id !== undefined);
}

/** `Reading` of an excerpt property such as `PowerWatts` (DMTF SensorPowerExcerpt and friends). */
export const readingOf = (body: unknown, property: string): number | undefined =>
  numberAt(body, property, "Reading");

/** Energy in joules from `EnergyJoules` or, failing that, `EnergykWh` (EnvironmentMetrics, Circuit). */
export function energyJoulesOf(body: unknown): number | undefined {
  const joules = readingOf(body, "EnergyJoules");
  if (joules !== undefined) return joules;
  const kWh = readingOf(body, "EnergykWh");
  return kWh === undefined ? undefined : kWh * JOULES_PER_KWH;
}
