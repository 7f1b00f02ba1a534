/**
 * Syslog in: kernel NVRM Xid and NVSwitch SXid lines, sent by rsyslog / syslog-ng over UDP or TCP
 * in RFC 5424 or RFC 3164 form, become XidEvents attached to a GPU or NVSwitch.
 */
export { type SyslogErrorCode, SyslogParseError } from "./errors.ts";
export { createFrameDecoder, type FrameDecoder, type FrameDropReason, type FrameSink } from "./framing.ts";
export { type ParseSyslogOptions, parseSyslog, type SdElement, type SyslogMessage } from "./message.ts";
export {
  createSyslogReceiver,
  type SyslogAddresses,
  type SyslogDropReason,
  type SyslogListen,
  type SyslogPeer,
  type SyslogReceiver,
  type SyslogReceiverOptions,
  type SyslogReceiverStats,
  type XidEvent,
} from "./receiver.ts";
export { normalizePciBusId, parseXidLine, type XidLine } from "./xid.ts";
export { type XidCatalogEntry, xidCatalogEntry } from "./xid-catalog.ts";
