/**
 * The BSD format of RFC 3164 §4.1: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`, with what real
 * senders do to it: the day padded with a space or not, no HOSTNAME (a local logger, some network
 * gear), `TAG[pid]:`, no TAG at all, and an RFC 3339 time in place of the BSD one (rsyslog's
 * `RSYSLOG_ForwardFormat`).
 */
import { fail, found } from "./errors.ts";
import type { ParseSyslogOptions, SyslogMessage } from "./message.ts";
import { readBsdTime, readRfc3339 } from "./timestamp.ts";

// RFC 3164 §4.1.3 has the TAG at most 32 alphanumerics; in practice tags carry '-', '_', '.', '/'
// and run longer (systemd units), so anything without space, ':' or brackets, then `[pid]`, then ':'.
const TAG = /^([^\s:[\]]{1,48})(?:\[([^\s\]]{0,128})\])?:$/;

/** Parses the rest of an RFC 3164 line after PRI, which ends at `start`. */
export function parseRfc3164(
  line: string,
  start: number,
  facility: number,
  severity: number,
  options: ParseSyslogOptions,
): SyslogMessage {
  const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
  const time = isDigit(line[start])
    ? readRfc3339(line, start, false)
    : readBsdTime(line, start, options.receivedAtMs ?? Date.now(), options.rfc3164UtcOffsetMinutes ?? 0);
  let p = time.end;
  const message: SyslogMessage = {
    format: "rfc3164",
    facility,
    severity,
    timestampMs: time.timeMs,
    hostname: undefined,
    appName: undefined,
    procId: undefined,
    msgId: undefined,
    structuredData: [],
    msg: "",
  };
  if (p === line.length) return message;
  if (line[p] !== " ") fail("header", p, `expected SP after TIMESTAMP, found ${found(line, p)}`);
  p++;
  let end = tokenEnd(line, p);
  let tag = TAG.exec(line.slice(p, end));
  if (!tag) {
    // Not a TAG, so the HOSTNAME (RFC 3164 §4.1.2: no spaces; printable).
    const host = line.slice(p, end);
    if (host.length === 0) fail("hostname", p, `expected HOSTNAME or TAG, found ${found(line, p)}`);
    if (host.length > 255) fail("hostname", p, `${host.length} characters, at most 255`);
    const bad = host.search(/[^\x21-\x7e]/);
    if (bad >= 0)
      fail("hostname", p + bad, `character ${JSON.stringify(host[bad])} is not printable US-ASCII`);
    message.hostname = host;
    p = end === line.length ? end : end + 1;
    end = tokenEnd(line, p);
    tag = TAG.exec(line.slice(p, end));
  }
  if (tag) {
    message.appName = tag[1];
    message.procId = tag[2] || undefined;
    p = end === line.length ? end : end + 1;
  }
  message.msg = line.slice(p);
  return message;
}

function tokenEnd(line: string, start: number): number {
  const end = line.indexOf(" ", start);
  return end < 0 ? line.length : end;
}
