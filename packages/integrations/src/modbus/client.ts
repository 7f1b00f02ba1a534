/**
 * A Modbus TCP client: one TCP connection, opened on first use and again after it is lost,
 * requests matched to responses by MBAP transaction id (TCP §3.1.3). By default one request
 * is in flight at a time, because many devices and gateways answer only one; `maxInFlight` above 1
 * pipelines requests for servers that accept it (the TCP guide allows several outstanding
 * transactions on one connection, told apart by transaction id).
 */
import { Socket } from "node:net";
import {
  checkResponse,
  encodeAdu,
  FunctionCode,
  functionName,
  MAX_ADU_BYTES,
  MBAP_LENGTH,
  ModbusError,
  type RequestPdu,
  readRequest,
  writeMultipleRequest,
  writeSingleRequest,
} from "./pdu.ts";

/** Register access over Modbus; every method rejects with a `ModbusError`. */
export interface ModbusClient {
  /** FC 3: `count` holding registers from `address` (0-based protocol address). */
  readHoldingRegisters(unitId: number, address: number, count: number): Promise<number[]>;
  /** FC 4: `count` input registers from `address`. */
  readInputRegisters(unitId: number, address: number, count: number): Promise<number[]>;
  /** FC 6: one holding register. */
  writeSingleRegister(unitId: number, address: number, value: number): Promise<void>;
  /** FC 16: consecutive holding registers from `address`. */
  writeMultipleRegisters(unitId: number, address: number, values: readonly number[]): Promise<void>;
  /** Closes the connection and fails what is pending; a later request reconnects. */
  close(): void;
}

export interface ModbusTcpOptions {
  host: string;
  /** 502 by default, the port IANA registers for Modbus (TCP guide). */
  port?: number;
  /** How long one request waits for its response. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Requests sent before their responses arrive; 1 (default) = strictly one at a time. */
  maxInFlight?: number;
}

interface Pending {
  unitId: number;
  pdu: RequestPdu;
  resolve(data: Buffer): void;
  reject(error: ModbusError): void;
  timer?: NodeJS.Timeout;
}

/** Creates a Modbus TCP client; nothing connects until the first request. */
export function createModbusTcpClient(options: ModbusTcpOptions): ModbusClient {
  const port = options.port ?? 502;
  const where = `modbus tcp ${options.host}:${port}`;
  const timeoutMs = options.timeoutMs ?? 2000;
  const connectTimeoutMs = options.connectTimeoutMs ?? timeoutMs;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  const queue: Pending[] = [];
  const inFlight = new Map<number, Pending>();
  let socket: Socket | undefined;
  let connected = false;
  let nextTransactionId = 1;
  let buffer = Buffer.alloc(0);

  function drop(error: ModbusError): void {
    const s = socket;
    socket = undefined;
    connected = false;
    buffer = Buffer.alloc(0);
    s?.destroy();
    for (const p of [...inFlight.values(), ...queue.splice(0)]) fail(p, error);
    inFlight.clear();
  }

  function fail(p: Pending, error: ModbusError): void {
    clearTimeout(p.timer);
    p.reject(error);
  }

  function connect(): void {
    const s = new Socket();
    socket = s;
    const timer = setTimeout(
      () => drop(new ModbusError("connection", `${where}: connect timed out after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    s.setNoDelay(true);
    s.on("connect", () => {
      clearTimeout(timer);
      connected = true;
      pump();
    });
    s.on("data", (chunk) => {
      if (socket === s) onData(chunk);
    });
    s.on("error", (err) => {
      clearTimeout(timer);
      if (socket === s)
        drop(new ModbusError("connection", `${where}: ${err.message}`, undefined, undefined, { cause: err }));
    });
    s.on("close", () => {
      clearTimeout(timer);
      if (socket === s) drop(new ModbusError("connection", `${where}: connection closed by server`));
    });
    s.connect(port, options.host);
  }

  function pump(): void {
    if (!socket) connect();
    if (!connected) return;
    while (queue.length > 0 && inFlight.size < maxInFlight) {
      const p = queue.shift()!;
      let id = nextTransactionId;
      while (inFlight.has(id)) id = (id + 1) & 0xffff;
      nextTransactionId = (id + 1) & 0xffff;
      inFlight.set(id, p);
      // A silent server leaves the stream in an unknown state, so a timeout drops the connection;
      // the next request reconnects.
      p.timer = setTimeout(
        () =>
          drop(
            new ModbusError(
              "timeout",
              `${where}: ${functionName(p.pdu.functionCode)} timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      socket!.write(encodeAdu(id, p.unitId, p.pdu));
    }
  }

  function onData(chunk: Buffer): void {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= MBAP_LENGTH) {
      const length = buffer.readUInt16BE(4);
      const total = 6 + length;
      if (buffer.readUInt16BE(2) !== 0 || length < 2 || total > MAX_ADU_BYTES) {
        drop(new ModbusError("protocol", `${where}: malformed MBAP header`));
        return;
      }
      if (buffer.length < total) return;
      const adu = buffer.subarray(0, total);
      buffer = buffer.subarray(total);
      const p = inFlight.get(adu.readUInt16BE(0));
      // An unknown transaction id is a late answer to a request already given up on.
      if (!p) continue;
      inFlight.delete(adu.readUInt16BE(0));
      clearTimeout(p.timer);
      try {
        if (adu.readUInt8(6) !== p.unitId)
          throw new ModbusError(
            "protocol",
            `${where}: response from unit ${adu.readUInt8(6)}, asked ${p.unitId}`,
          );
        p.resolve(checkResponse(p.pdu, adu.subarray(MBAP_LENGTH)));
      } catch (err) {
        p.reject(err as ModbusError);
      }
    }
    pump();
  }

  function request(unitId: number, build: () => RequestPdu): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255)
        throw new ModbusError("request", `unit id must be 0..255, got ${unitId}`);
      queue.push({ unitId, pdu: build(), resolve, reject });
      pump();
    });
  }

  const registers = (data: Buffer) =>
    Array.from({ length: data.length / 2 }, (_, i) => data.readUInt16BE(i * 2));

  return {
    readHoldingRegisters: async (unitId, address, count) =>
      registers(await request(unitId, () => readRequest(FunctionCode.readHoldingRegisters, address, count))),
    readInputRegisters: async (unitId, address, count) =>
      registers(await request(unitId, () => readRequest(FunctionCode.readInputRegisters, address, count))),
    writeSingleRegister: async (unitId, address, value) => {
      await request(unitId, () => writeSingleRequest(address, value));
    },
    writeMultipleRegisters: async (unitId, address, values) => {
      await request(unitId, () => writeMultipleRequest(address, values));
    },
    close: () => drop(new ModbusError("connection", `${where}: client closed`)),
  };
}
