/**
 * Facility meters and load targets read from a building management system over Modbus. The
 * register map says, per point, where the value lives and how to turn its registers into an SI
 * value: Modbus fixes the byte order inside a register (big-endian, APP §4.2) but not the order of
 * the two registers of a 32-bit value, so `wordOrder` is configured per point.
 */
import { type ModbusClient, ModbusError } from "./modbus/index.ts";

export type BmsDataType = "uint16" | "int16" | "uint32" | "int32" | "float32";
export type BmsTable = "holding" | "input";

/** Device units a point may be given in, with the factor to the SI unit (W, J, V, A, Hz, ratio). */
const UNITS: Record<string, { si: string; factor: number }> = {
  W: { si: "W", factor: 1 },
  kW: { si: "W", factor: 1e3 },
  MW: { si: "W", factor: 1e6 },
  J: { si: "J", factor: 1 },
  Wh: { si: "J", factor: 3600 },
  kWh: { si: "J", factor: 3.6e6 },
  MWh: { si: "J", factor: 3.6e9 },
  V: { si: "V", factor: 1 },
  kV: { si: "V", factor: 1e3 },
  A: { si: "A", factor: 1 },
  Hz: { si: "Hz", factor: 1 },
  "%": { si: "1", factor: 0.01 },
  "1": { si: "1", factor: 1 },
};

/** One point of the register map, with its defaults filled in. */
export interface BmsPoint {
  /** e.g. `facilityPowerWatts`, `loadTargetWatts`, `feedPowerWatts:feed-a`. */
  readonly name: string;
  readonly unitId: number;
  readonly table: BmsTable;
  /** The PDU address, 0..65535 (APP §4.4: data element n is addressed as n - 1). */
  readonly address: number;
  readonly type: BmsDataType;
  /** Order of the two registers of a 32-bit value: `big` = high word first. */
  readonly wordOrder: "big" | "little";
  /** device value = raw × scale + offset, in `unit`. */
  readonly scale: number;
  readonly offset: number;
  /** The device's unit; values are returned in its SI unit (`siUnit`). */
  readonly unit: string;
  readonly siUnit: string;
}

/** A validated register map. */
export interface BmsMap {
  readonly points: readonly BmsPoint[];
}

/** A register map that does not validate; the message names the field. */
export class BmsConfigError extends Error {
  override readonly name = "BmsConfigError";
}

const NAME = /^[A-Za-z][A-Za-z0-9]*(:[A-Za-z0-9._-]+)?$/;
const TYPES: readonly BmsDataType[] = ["uint16", "int16", "uint32", "int32", "float32"];

/** Registers a value of this type spans. */
export function registerCount(type: BmsDataType): 1 | 2 {
  return type === "uint16" || type === "int16" ? 1 : 2;
}

/**
 * Validates a register map (as parsed from YAML or JSON) and fills in defaults (`wordOrder` big,
 * `scale` 1, `offset` 0). Throws `BmsConfigError` naming the field, e.g. `points[1].address`.
 *
 * @example
 * parseBmsMap({ points: [{ name: "facilityPowerWatts", unitId: 1, table: "input", address: 0,
 *   type: "float32", unit: "kW" }] })
 */
export function parseBmsMap(input: unknown): BmsMap {
  if (!isObject(input) || !Array.isArray(input.points)) throw new BmsConfigError("points: must be a list");
  const seen = new Set<string>();
  const points = input.points.map((raw, i): BmsPoint => {
    const at = `points[${i}]`;
    if (!isObject(raw)) throw new BmsConfigError(`${at}: must be an object`);
    const name = raw.name;
    if (typeof name !== "string" || !NAME.test(name))
      throw new BmsConfigError(`${at}.name: must look like "facilityPowerWatts" or "feedPowerWatts:feed-a"`);
    if (seen.has(name)) throw new BmsConfigError(`${at}.name: "${name}" is defined twice`);
    seen.add(name);
    const type = raw.type;
    if (!TYPES.includes(type as BmsDataType))
      throw new BmsConfigError(`${at}.type: must be one of ${TYPES.join(", ")}`);
    const table = raw.table;
    if (table !== "holding" && table !== "input")
      throw new BmsConfigError(`${at}.table: must be holding or input`);
    const wordOrder = raw.wordOrder ?? "big";
    if (wordOrder !== "big" && wordOrder !== "little")
      throw new BmsConfigError(`${at}.wordOrder: must be big or little`);
    const unitId = integer(raw.unitId, `${at}.unitId`, 0, 255);
    const address = integer(raw.address, `${at}.address`, 0, 0x10000 - registerCount(type as BmsDataType));
    const scale = finite(raw.scale ?? 1, `${at}.scale`);
    if (scale === 0) throw new BmsConfigError(`${at}.scale: must not be 0`);
    const offset = finite(raw.offset ?? 0, `${at}.offset`);
    const unit = raw.unit;
    if (typeof unit !== "string" || !(unit in UNITS))
      throw new BmsConfigError(`${at}.unit: must be one of ${Object.keys(UNITS).join(", ")}`);
    const point: BmsPoint = {
      name,
      unitId,
      table,
      address,
      type: type as BmsDataType,
      wordOrder,
      scale,
      offset,
      unit,
      siUnit: UNITS[unit]!.si,
    };
    return Object.freeze(point);
  });
  return Object.freeze({ points: Object.freeze(points) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function integer(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new BmsConfigError(`${field}: must be an integer ${min}..${max}`);
  return v;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new BmsConfigError(`${field}: must be a finite number`);
  return v;
}

/** The raw number held by `registers`, per the point's type and word order. */
export function decodeRegisters(point: BmsPoint, registers: readonly number[]): number {
  const buf = Buffer.alloc(4);
  const [a = 0, b = 0] = registers;
  if (registerCount(point.type) === 1) {
    buf.writeUInt16BE(a, 0);
    return point.type === "int16" ? buf.readInt16BE(0) : buf.readUInt16BE(0);
  }
  const [hi, lo] = point.wordOrder === "big" ? [a, b] : [b, a];
  buf.writeUInt16BE(hi, 0);
  buf.writeUInt16BE(lo, 2);
  if (point.type === "uint32") return buf.readUInt32BE(0);
  if (point.type === "int32") return buf.readInt32BE(0);
  return buf.readFloatBE(0);
}

/** The registers that hold `raw`, the inverse of `decodeRegisters`. */
export function encodeRegisters(point: BmsPoint, raw: number): number[] {
  const buf = Buffer.alloc(4);
  const range = (min: number, max: number) => {
    if (raw < min || raw > max) throw new RangeError(`${point.name}: ${raw} does not fit ${point.type}`);
  };
  switch (point.type) {
    case "uint16":
      range(0, 0xffff);
      return [raw];
    case "int16":
      range(-0x8000, 0x7fff);
      buf.writeInt16BE(raw, 0);
      return [buf.readUInt16BE(0)];
    case "uint32":
      range(0, 0xffffffff);
      buf.writeUInt32BE(raw, 0);
      break;
    case "int32":
      range(-0x80000000, 0x7fffffff);
      buf.writeInt32BE(raw, 0);
      break;
    case "float32":
      buf.writeFloatBE(raw, 0);
  }
  const hi = buf.readUInt16BE(0);
  const lo = buf.readUInt16BE(2);
  return point.wordOrder === "big" ? [hi, lo] : [lo, hi];
}

/** The SI value of a point from its registers: (raw × scale + offset) × unit factor. */
export function toSi(point: BmsPoint, registers: readonly number[]): number {
  return (decodeRegisters(point, registers) * point.scale + point.offset) * UNITS[point.unit]!.factor;
}

/** One read of the whole map; a point that failed is in `errors`, never in `values`. */
export interface BmsReading {
  readonly atMs: number;
  /** SI values by point name. */
  readonly values: Readonly<Record<string, number>>;
  /** Why each failed point failed, by point name. */
  readonly errors: Readonly<Record<string, ModbusError>>;
}

/**
 * Reads every point of the map. Each point is its own request, so one bad register (an exception,
 * a timeout) costs only that point; the others are still returned.
 */
export async function readBms(
  client: ModbusClient,
  map: BmsMap,
  now: () => number = Date.now,
): Promise<BmsReading> {
  const values: Record<string, number> = {};
  const errors: Record<string, ModbusError> = {};
  const results = await Promise.allSettled(
    map.points.map((p) =>
      p.table === "holding"
        ? client.readHoldingRegisters(p.unitId, p.address, registerCount(p.type))
        : client.readInputRegisters(p.unitId, p.address, registerCount(p.type)),
    ),
  );
  results.forEach((r, i) => {
    const p = map.points[i]!;
    if (r.status === "fulfilled") values[p.name] = toSi(p, r.value);
    else
      errors[p.name] =
        r.reason instanceof ModbusError
          ? r.reason
          : new ModbusError("protocol", `${p.name}: ${String(r.reason)}`, undefined, undefined, {
              cause: r.reason,
            });
  });
  return { atMs: now(), values, errors };
}

/**
 * Writes an SI value (e.g. a load target in watts) to a holding-register point: FC 6 for one
 * register, FC 16 for two, so a 32-bit value is never half-written (APP §6.12).
 */
export async function writeBmsPoint(client: ModbusClient, point: BmsPoint, siValue: number): Promise<void> {
  if (point.table !== "holding") throw new BmsConfigError(`${point.name}: input registers are read-only`);
  if (!Number.isFinite(siValue)) throw new RangeError(`${point.name}: ${siValue} is not a finite value`);
  let raw = (siValue / UNITS[point.unit]!.factor - point.offset) / point.scale;
  if (point.type !== "float32") raw = Math.round(raw);
  const registers = encodeRegisters(point, raw);
  if (registers.length === 1) await client.writeSingleRegister(point.unitId, point.address, registers[0]!);
  else await client.writeMultipleRegisters(point.unitId, point.address, registers);
}

/** Reads the map every `intervalMs` and hands each reading on. */
export interface BmsPoller {
  /** Polls until `signal` aborts; resolves then. */
  start(signal: AbortSignal): Promise<void>;
  /** Takes a new register map from the next poll on. */
  applyConfig(map: BmsMap): void;
}

export interface BmsPollerOptions {
  client: ModbusClient;
  map: BmsMap;
  intervalMs: number;
  onReading: (reading: BmsReading) => void;
}

/** A poller over one client; polls never overlap (the next starts `intervalMs` after one ends). */
export function createBmsPoller(options: BmsPollerOptions): BmsPoller {
  let map = options.map;
  return {
    applyConfig(next) {
      map = next;
    },
    async start(signal) {
      while (!signal.aborted) {
        options.onReading(await readBms(options.client, map));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, options.intervalMs);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
          }
          signal.addEventListener("abort", done, { once: true });
        });
      }
    },
  };
}
