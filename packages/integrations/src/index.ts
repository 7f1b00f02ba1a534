/** Integrations with the systems around the factory; today the BMS over Modbus TCP. */
export {
  BmsConfigError,
  type BmsDataType,
  type BmsMap,
  type BmsPoint,
  type BmsPoller,
  type BmsPollerOptions,
  type BmsReading,
  type BmsTable,
  createBmsPoller,
  decodeRegisters,
  encodeRegisters,
  parseBmsMap,
  readBms,
  registerCount,
  toSi,
  writeBmsPoint,
} from "./bms.ts";
export {
  createModbusTcpClient,
  exceptionName,
  FunctionCode,
  functionName,
  type ModbusClient,
  ModbusError,
  type ModbusErrorKind,
  type ModbusTcpOptions,
} from "./modbus/index.ts";
