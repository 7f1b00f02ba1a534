export { createModbusTcpClient, type ModbusClient, type ModbusTcpOptions } from "./client.ts";
export { exceptionName, FunctionCode, functionName, ModbusError, type ModbusErrorKind } from "./pdu.ts";
