/**
 * The BMS reader against a real Modbus TCP server: pymodbus (Debian's python3-pymodbus), started
 * here with a datastore of known registers.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { startModbusServer } from "../../../scripts/testing/modbus.ts";
import {
  BmsConfigError,
  type BmsMap,
  createBmsPoller,
  createModbusTcpClient,
  type ModbusClient,
  ModbusError,
  parseBmsMap,
  readBms,
  writeBmsPoint,
} from "../src/index.ts";

/** The registers of a value as a server stores them: `big` = high word first. */
function words(
  type: "float32" | "uint32" | "int32" | "int16",
  value: number,
  order: "big" | "little" = "big",
) {
  const view = new DataView(new ArrayBuffer(4));
  if (type === "int16") {
    view.setInt16(0, value);
    return [view.getUint16(0)];
  }
  if (type === "float32") view.setFloat32(0, value);
  else if (type === "uint32") view.setUint32(0, value);
  else view.setInt32(0, value);
  const w = [view.getUint16(0), view.getUint16(2)];
  return order === "big" ? w : w.reverse();
}

// Holding registers of unit 1, by address.
const HOLDING = [
  ...words("float32", 1234.5), // 0: facility kW, float32 big
  ...words("float32", 1234.5, "little"), // 2: the same, little word order
  ...words("uint32", 3_000_000), // 4: feed-a W, uint32 big
  ...words("uint32", 70_000, "little"), // 6: feed-b, 0.5 kW steps, uint32 little
  ...words("int16", -250), // 8: kW, int16
  ...words("int32", -123_456, "little"), // 9: W, int32 little
  ...words("uint32", 1_500), // 11: load target kW, uint32 big
  ...words("int32", -7, "big"), // 13: int32 big
  0, // 15
];
const INPUT = [
  ...words("float32", 812.75, "little"),
  ...words("int16", -1200),
  ...words("uint32", 65_536, "little"),
];
// Unit 2 is a second meter behind the same gateway.
const UNIT2 = { holding: [...words("float32", 0.5)], input: [42] };

const MAP = {
  points: [
    { name: "facilityPowerWatts", unitId: 1, table: "holding", address: 0, type: "float32", unit: "kW" },
    {
      name: "facilityPowerWatts:little",
      unitId: 1,
      table: "holding",
      address: 2,
      type: "float32",
      wordOrder: "little",
      unit: "kW",
    },
    { name: "feedPowerWatts:feed-a", unitId: 1, table: "holding", address: 4, type: "uint32", unit: "W" },
    {
      name: "feedPowerWatts:feed-b",
      unitId: 1,
      table: "holding",
      address: 6,
      type: "uint32",
      wordOrder: "little",
      scale: 0.5,
      unit: "kW",
    },
    { name: "exportPowerWatts", unitId: 1, table: "holding", address: 8, type: "int16", unit: "kW" },
    {
      name: "netPowerWatts",
      unitId: 1,
      table: "holding",
      address: 9,
      type: "int32",
      wordOrder: "little",
      unit: "W",
    },
    { name: "loadTargetWatts", unitId: 1, table: "holding", address: 11, type: "uint32", unit: "kW" },
    { name: "offsetWatts", unitId: 1, table: "holding", address: 13, type: "int32", offset: 10, unit: "W" },
    {
      name: "itPowerWatts",
      unitId: 1,
      table: "input",
      address: 0,
      type: "float32",
      wordOrder: "little",
      unit: "kW",
    },
    { name: "reactiveWatts", unitId: 1, table: "input", address: 2, type: "int16", scale: 0.5, unit: "W" },
    {
      name: "energyJoules",
      unitId: 1,
      table: "input",
      address: 3,
      type: "uint32",
      wordOrder: "little",
      unit: "kWh",
    },
    { name: "loadFraction", unitId: 2, table: "input", address: 0, type: "uint16", unit: "%" },
    { name: "coolingPowerWatts", unitId: 2, table: "holding", address: 0, type: "float32", unit: "MW" },
  ],
};

const EXPECTED: Record<string, number> = {
  facilityPowerWatts: 1_234_500,
  "facilityPowerWatts:little": 1_234_500,
  "feedPowerWatts:feed-a": 3_000_000,
  "feedPowerWatts:feed-b": 35_000_000,
  exportPowerWatts: -250_000,
  netPowerWatts: -123_456,
  loadTargetWatts: 1_500_000,
  offsetWatts: 3,
  itPowerWatts: 812_750,
  reactiveWatts: -600,
  energyJoules: 65_536 * 3.6e6,
  loadFraction: 0.42,
  coolingPowerWatts: 500_000,
};

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe("BMS over Modbus TCP against pymodbus", () => {
  let proc: ChildProcess;
  let client: ModbusClient;
  let map: BmsMap;

  before(async () => {
    const started = await startModbusServer({ "1": { holding: HOLDING, input: INPUT }, "2": UNIT2 });
    proc = started.proc;
    client = createModbusTcpClient({ host: "127.0.0.1", port: started.port, timeoutMs: 2000 });
    map = parseBmsMap(MAP);
  });
  after(() => {
    client?.close();
    proc?.kill();
  });

  it("reads every type in both word orders as exact SI values", async () => {
    const reading = await readBms(client, map);
    assert.deepEqual(reading.errors, {});
    assert.deepEqual(reading.values, EXPECTED);
  });

  it("keeps an illegal data address to its own point", async () => {
    const bad = parseBmsMap({
      points: [
        ...MAP.points.slice(0, 2),
        { name: "missingWatts", unitId: 1, table: "holding", address: 100, type: "float32", unit: "W" },
      ],
    });
    const reading = await readBms(client, bad);
    assert.deepEqual(Object.keys(reading.values), ["facilityPowerWatts", "facilityPowerWatts:little"]);
    const err = reading.errors.missingWatts;
    assert.ok(err instanceof ModbusError);
    assert.equal(err.kind, "exception");
    assert.equal(err.functionCode, 0x03);
    assert.equal(err.exceptionCode, 0x02);
    assert.match(err.message, /read holding registers \(0x03\).*illegal data address \(0x02\)/);
  });

  it("pipelines requests with transaction-id matching", async () => {
    const second = await startModbusServer({ "1": { holding: HOLDING, input: INPUT } });
    const piped = createModbusTcpClient({ host: "127.0.0.1", port: second.port, maxInFlight: 8 });
    try {
      const reads = await Promise.all(HOLDING.map((_, a) => piped.readHoldingRegisters(1, a, 1)));
      assert.deepEqual(reads.flat(), HOLDING);
    } finally {
      piped.close();
      second.proc.kill();
    }
  });

  it("writes a load target and reads it back", async () => {
    const target = map.points.find((p) => p.name === "loadTargetWatts")!;
    await writeBmsPoint(client, target, 1_250_000);
    const little = map.points.find((p) => p.name === "facilityPowerWatts:little")!;
    await writeBmsPoint(client, little, 999_750);
    const int16 = map.points.find((p) => p.name === "exportPowerWatts")!;
    await writeBmsPoint(client, int16, -3_000);
    const { values, errors } = await readBms(client, map);
    assert.deepEqual(errors, {});
    assert.equal(values.loadTargetWatts, 1_250_000);
    assert.equal(values["facilityPowerWatts:little"], 999_750);
    assert.equal(values.exportPowerWatts, -3_000);
    assert.deepEqual(await client.readHoldingRegisters(1, 11, 2), words("uint32", 1_250));
  });

  it("polls on an interval until stopped", async () => {
    const stop = new AbortController();
    const readings: number[] = [];
    const poller = createBmsPoller({
      client,
      map: parseBmsMap({ points: [MAP.points[2]] }),
      intervalMs: 10,
      onReading: (r) => {
        readings.push(r.values["feedPowerWatts:feed-a"]!);
        if (readings.length === 3) stop.abort();
      },
    });
    await poller.start(stop.signal);
    assert.deepEqual(readings, [3_000_000, 3_000_000, 3_000_000]);
  });

  it("gives a clear connection error when no server runs", async () => {
    const port = await closedPort();
    const dead = createModbusTcpClient({ host: "127.0.0.1", port, timeoutMs: 500 });
    const reading = await readBms(dead, map);
    assert.deepEqual(reading.values, {});
    const err = reading.errors.facilityPowerWatts!;
    assert.equal(err.kind, "connection");
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    dead.close();
  });
});

describe("BMS register map validation", () => {
  const good = MAP.points[0]!;
  const cases: [string, object, RegExp][] = [
    ["no points", {}, /^points: must be a list/],
    ["bad name", { points: [{ ...good, name: "9watts" }] }, /^points\[0\]\.name:/],
    ["duplicate", { points: [good, good] }, /^points\[1\]\.name: "facilityPowerWatts" is defined twice/],
    ["bad type", { points: [{ ...good, type: "float64" }] }, /^points\[0\]\.type: must be one of/],
    ["bad table", { points: [{ ...good, table: "coils" }] }, /^points\[0\]\.table:/],
    [
      "32-bit past the end",
      { points: [{ ...good, address: 65535 }] },
      /^points\[0\]\.address: must be an integer 0\.\.65534/,
    ],
    ["unit id", { points: [{ ...good, unitId: 256 }] }, /^points\[0\]\.unitId:/],
    ["zero scale", { points: [{ ...good, scale: 0 }] }, /^points\[0\]\.scale: must not be 0/],
    ["word order", { points: [{ ...good, wordOrder: "middle" }] }, /^points\[0\]\.wordOrder:/],
    ["unit", { points: [{ ...good, unit: "furlongs" }] }, /^points\[0\]\.unit: must be one of/],
  ];
  for (const [what, input, message] of cases) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseBmsMap(input),
        (e: unknown) => e instanceof BmsConfigError && message.test(e.message),
      );
    });
  }
});
