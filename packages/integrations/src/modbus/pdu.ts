/**
 * Modbus PDUs for the register functions Flightdeck uses, and the MBAP framing that carries them
 * over TCP. References: "MODBUS Application Protocol Specification V1.1b3" (2012), cited as APP,
 * and "MODBUS Messaging on TCP/IP Implementation Guide V1.0b" (2006), cited as TCP.
 */

/** Function codes (APP §5.1, §6.3, §6.4, §6.6, §6.12). */
export const FunctionCode = {
  readHoldingRegisters: 0x03,
  readInputRegisters: 0x04,
  writeSingleRegister: 0x06,
  writeMultipleRegisters: 0x10,
} as const;
export type FunctionCode = (typeof FunctionCode)[keyof typeof FunctionCode];

const FUNCTION_NAMES: Record<number, string> = {
  3: "read holding registers",
  4: "read input registers",
  6: "write single register",
  16: "write multiple registers",
};

/** Exception codes (APP §7, table "MODBUS Exception Codes"). */
const EXCEPTION_NAMES: Record<number, string> = {
  1: "illegal function",
  2: "illegal data address",
  3: "illegal data value",
  4: "server device failure",
  5: "acknowledge",
  6: "server device busy",
  8: "memory parity error",
  10: "gateway path unavailable",
  11: "gateway target device failed to respond",
};

/** APP §6.3/§6.4: 1..125 registers per read; §6.12: 1..123 per multiple write. */
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;
/** TCP §3.1.3: the MBAP header is 7 bytes; the whole ADU is at most 260 bytes. */
export const MBAP_LENGTH = 7;
export const MAX_ADU_BYTES = 260;

export type ModbusErrorKind = "exception" | "timeout" | "connection" | "protocol" | "request";

/**
 * The one error of the Modbus client. `kind` says what failed: the server answered with an
 * exception (`functionCode`, `exceptionCode` set), no answer in time, the TCP connection could not
 * be made or was lost, the server's answer broke the protocol, or the request itself was invalid.
 */
export class ModbusError extends Error {
  override readonly name = "ModbusError";
  constructor(
    readonly kind: ModbusErrorKind,
    message: string,
    readonly functionCode?: number,
    readonly exceptionCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The readable name of a function code, e.g. "read holding registers (0x03)". */
export function functionName(code: number): string {
  return `${FUNCTION_NAMES[code] ?? "function"} (0x${hex(code)})`;
}

/** The readable name of an exception code, e.g. "illegal data address (0x02)". */
export function exceptionName(code: number): string {
  return `${EXCEPTION_NAMES[code] ?? "unknown exception"} (0x${hex(code)})`;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function u16(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new ModbusError("request", `${field} must be an integer 0..65535, got ${value}`);
  return value;
}

/** A request PDU: function code and data (APP §4.1). */
export interface RequestPdu {
  functionCode: FunctionCode;
  data: Buffer;
}

/** FC 3 / FC 4 request: starting address, quantity of registers (APP §6.3, §6.4). */
export function readRequest(functionCode: 0x03 | 0x04, address: number, count: number): RequestPdu {
  u16(address, "address");
  if (!Number.isInteger(count) || count < 1 || count > MAX_READ_REGISTERS)
    throw new ModbusError("request", `count must be 1..${MAX_READ_REGISTERS}, got ${count}`);
  if (address + count > 0x10000) throw new ModbusError("request", `address ${address} + ${count} > 65536`);
  const data = Buffer.alloc(4);
  data.writeUInt16BE(address, 0);
  data.writeUInt16BE(count, 2);
  return { functionCode, data };
}

/** FC 6 request: register address, value (APP §6.6). */
export function writeSingleRequest(address: number, value: number): RequestPdu {
  const data = Buffer.alloc(4);
  data.writeUInt16BE(u16(address, "address"), 0);
  data.writeUInt16BE(u16(value, "value"), 2);
  return { functionCode: FunctionCode.writeSingleRegister, data };
}

/** FC 16 request: starting address, quantity, byte count, values (APP §6.12). */
export function writeMultipleRequest(address: number, values: readonly number[]): RequestPdu {
  u16(address, "address");
  if (values.length < 1 || values.length > MAX_WRITE_REGISTERS)
    throw new ModbusError("request", `value count must be 1..${MAX_WRITE_REGISTERS}, got ${values.length}`);
  if (address + values.length > 0x10000)
    throw new ModbusError("request", `address ${address} + ${values.length} > 65536`);
  const data = Buffer.alloc(5 + values.length * 2);
  data.writeUInt16BE(address, 0);
  data.writeUInt16BE(values.length, 2);
  data.writeUInt8(values.length * 2, 4);
  values.forEach((v, i) => {
    data.writeUInt16BE(u16(v, `values[${i}]`), 5 + i * 2);
  });
  return { functionCode: FunctionCode.writeMultipleRegisters, data };
}

/** The ADU: MBAP header (transaction id, protocol id 0, length, unit id; TCP §3.1.3) + PDU. */
export function encodeAdu(transactionId: number, unitId: number, pdu: RequestPdu): Buffer {
  const adu = Buffer.alloc(MBAP_LENGTH + 1 + pdu.data.length);
  adu.writeUInt16BE(transactionId, 0);
  adu.writeUInt16BE(0, 2);
  // Length counts the unit id and the PDU (TCP §3.1.3).
  adu.writeUInt16BE(2 + pdu.data.length, 4);
  adu.writeUInt8(unitId, 6);
  adu.writeUInt8(pdu.functionCode, 7);
  pdu.data.copy(adu, 8);
  return adu;
}

/**
 * Checks a response PDU against its request and returns its data, or throws the server's exception
 * (function code + 0x80, then the exception code; APP §7) or a protocol error.
 */
export function checkResponse(request: RequestPdu, pdu: Buffer): Buffer {
  const fc = pdu.readUInt8(0);
  const what = functionName(request.functionCode);
  if (fc === (request.functionCode | 0x80)) {
    if (pdu.length !== 2)
      throw new ModbusError("protocol", `${what}: exception response of ${pdu.length} bytes`);
    const code = pdu.readUInt8(1);
    throw new ModbusError(
      "exception",
      `${what}: server answered exception ${exceptionName(code)}`,
      request.functionCode,
      code,
    );
  }
  if (fc !== request.functionCode)
    throw new ModbusError("protocol", `${what}: response has function code 0x${hex(fc)}`);
  const data = pdu.subarray(1);
  if (fc === FunctionCode.readHoldingRegisters || fc === FunctionCode.readInputRegisters) {
    const count = request.data.readUInt16BE(2);
    if (data.length < 1 || data.readUInt8(0) !== count * 2 || data.length !== 1 + count * 2)
      throw new ModbusError("protocol", `${what}: expected ${count * 2} data bytes, got ${data.length - 1}`);
    return data.subarray(1);
  }
  // Writes echo the address and value (FC 6) or address and quantity (FC 16) (APP §6.6, §6.12).
  if (!data.equals(request.data.subarray(0, 4)))
    throw new ModbusError("protocol", `${what}: response does not echo the request`);
  return data;
}
