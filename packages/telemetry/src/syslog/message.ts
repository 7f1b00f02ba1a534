/**
 * A syslog message as read from one line, whichever of the two formats it came in, and the
 * entry point that tells the formats apart.
 */
import { fail, found } from "./errors.ts";
import { parseRfc3164 } from "./rfc3164.ts";
import { parseRfc5424 } from "./rfc5424.ts";

/** One STRUCTURED-DATA element (RFC 5424 §6.3): its SD-ID and its parameters in order. */
export interface SdElement {
  id: string;
  /** `[name, value]` pairs, values unescaped; a name may repeat (RFC 5424 §6.3.3). */
  params: readonly (readonly [string, string])[];
}

/** A parsed syslog message. Fields the line leaves out (or gives as NILVALUE) are undefined. */
export interface SyslogMessage {
  format: "rfc5424" | "rfc3164";
  /** 0-23; 0 is `kern` (RFC 5424 §6.2.1). */
  facility: number;
  /** 0 (emergency) - 7 (debug). */
  severity: number;
  /** Time from the header, ms since the Unix epoch; fractions keep microseconds. */
  timestampMs: number | undefined;
  hostname: string | undefined;
  /** APP-NAME (RFC 5424) or TAG (RFC 3164), e.g. `kernel`. */
  appName: string | undefined;
  /** PROCID (RFC 5424) or the `[pid]` of an RFC 3164 TAG. */
  procId: string | undefined;
  msgId: string | undefined;
  structuredData: readonly SdElement[];
  /** The free-form text, without a leading BOM. */
  msg: string;
}

/** How to read the parts a line leaves implicit. */
export interface ParseSyslogOptions {
  /** When the line arrived, ms since the epoch: gives BSD times their year (default now). */
  receivedAtMs?: number;
  /** Offset of the senders' clocks from UTC for BSD times, which carry no zone (default 0). */
  rfc3164UtcOffsetMinutes?: number;
}

/**
 * Parses one syslog line, RFC 5424 or RFC 3164 (told apart by a VERSION digit after PRI).
 * Throws SyslogParseError naming the part, the reason and the column.
 *
 * @example
 *   parseSyslog("<4>1 2025-01-21T02:21:33.498559Z r01-dgx1 kernel - - - NVRM: Xid …").hostname // "r01-dgx1"
 *   parseSyslog("<4>Jan 21 02:21:33 r01-dgx1 kernel: NVRM: Xid …").appName // "kernel"
 */
export function parseSyslog(line: string, options: ParseSyslogOptions = {}): SyslogMessage {
  if (line.length === 0) fail("empty", 0, "empty line");
  const { facility, severity, end } = readPri(line);
  // RFC 5424 §6.2.2: VERSION is NONZERO-DIGIT 0*2DIGIT followed by SP; a BSD line has a month
  // name or, from rsyslog, a year followed by '-'.
  if (/[1-9]\d{0,2} /y.test(line.slice(end, end + 4))) return parseRfc5424(line, end, facility, severity);
  return parseRfc3164(line, end, facility, severity, options);
}

/** `<PRIVAL>` (RFC 5424 §6.2.1, RFC 3164 §4.1.1): 1-3 digits, 0-191. */
function readPri(line: string): { facility: number; severity: number; end: number } {
  if (line[0] !== "<") fail("pri", 0, `expected '<' to open PRI, found ${found(line, 0)}`);
  const m = /<(\d{1,3})>/y.exec(line);
  if (!m) fail("pri", 1, `expected 1-3 digits and '>', found ${found(line, 1)}`);
  const value = Number(m[1]);
  if (value > 191) fail("pri", 1, `PRI ${value} out of range 0-191`);
  return { facility: value >> 3, severity: value & 7, end: m[0].length };
}
