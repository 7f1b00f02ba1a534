/**
 * Syslog message text as a Linux host's rsyslog forwards a kernel line: RFC 5424
 * (`RSYSLOG_SyslogProtocol23Format`) or the traditional BSD form of RFC 3164
 * (`RSYSLOG_TraditionalForwardFormat`). Framing for the transport is in transport.ts.
 */

/** Syslog facility `kern` (RFC 5424 §6.2.1). */
export const FACILITY_KERN = 0;
/** Severity `warning`: NVRM prints its Xid lines at KERN_WARNING (`kern  :warn  :` in fixtures/xid/gpud-dmesg-decode-iso-xid13-and-more.log). */
export const SEVERITY_WARNING = 4;

/** The two message formats. */
export type SyslogFormat = "rfc5424" | "rfc3164";
export const SYSLOG_FORMATS: readonly SyslogFormat[] = ["rfc5424", "rfc3164"];

/** One message before formatting. */
export interface SyslogMessage {
  facility: number;
  severity: number;
  /** Wall-clock time of the event, ms since the Unix epoch (fractions keep microseconds). */
  timeMs: number;
  hostname: string;
  /** APP-NAME (RFC 5424) or TAG (RFC 3164): `kernel` for kernel lines. */
  appName: string;
  msg: string;
}

/**
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG` (RFC 5424 §6). The kernel
 * has no process id and rsyslog sets no MSGID or structured data: all three are NILVALUE. The
 * timestamp is UTC with microseconds, as rsyslog's `date-rfc3339` prints it. No BOM: the text is ASCII.
 *
 * @example `<4>1 2025-01-21T02:21:33.498559Z r01-dgx1 kernel - - - NVRM: Xid (PCI:0000:5d:00): 79, …`
 */
export function formatRfc5424(m: SyslogMessage): string {
  const host = headerField(m.hostname, 255);
  return `<${pri(m)}>1 ${rfc3339Micros(m.timeMs)} ${host} ${headerField(m.appName, 48)} - - - ${m.msg}`;
}

/**
 * `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG` (RFC 3164 §4.1), the day padded with a space, the time
 * in UTC (the twin has no time zone). Line breaks in MSG become spaces, so that LF framing holds.
 *
 * @example `<4>Jan 21 02:21:33 r01-dgx1 kernel: NVRM: Xid (PCI:0000:5d:00): 79, …`
 */
export function formatRfc3164(m: SyslogMessage): string {
  const d = new Date(Math.floor(m.timeMs));
  const day = String(d.getUTCDate()).padStart(2, " ");
  const time = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  const stamp = `${MONTHS[d.getUTCMonth()]} ${day} ${time}`;
  // RFC 3164 §4.1.3: the TAG is at most 32 alphanumeric characters.
  const tag = m.appName.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 32) || "-";
  return `<${pri(m)}>${stamp} ${headerField(m.hostname, 255)} ${tag}: ${m.msg.replace(/[\r\n]+/g, " ")}`;
}

/** Formats a message in the given format. */
export function formatSyslog(m: SyslogMessage, format: SyslogFormat): string {
  return format === "rfc3164" ? formatRfc3164(m) : formatRfc5424(m);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pri = (m: SyslogMessage) => m.facility * 8 + m.severity;

/** RFC 5424 header fields are printable US-ASCII without spaces; NILVALUE when empty. */
function headerField(value: string, maxLength: number): string {
  return value.replace(/[^\x21-\x7e]/g, "_").slice(0, maxLength) || "-";
}

function rfc3339Micros(timeMs: number): string {
  const micros = Math.round(timeMs * 1000);
  const seconds = Math.floor(micros / 1e6);
  const fraction = String(micros - seconds * 1e6).padStart(6, "0");
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}
