/**
 * Syslog timestamps: RFC 3339 as RFC 5424 §6.2.3 restricts it, the same leniently for the
 * RFC 3164-style lines rsyslog sends with high-precision times, and the BSD `Mmm dd hh:mm:ss`
 * of RFC 3164 §4.1.2, which has neither year nor zone.
 */
import { fail } from "./errors.ts";

/** A time read from a line: ms since the Unix epoch (fractions keep microseconds), and where it ends. */
export interface ReadTime {
  timeMs: number;
  end: number;
}

// RFC 5424 §6.2.3: upper-case T and Z, at most 6 fraction digits, no leap second.
const RFC5424_TIME = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})/y;
// rsyslog's `date-rfc3339` in a 3164 line, and what `dmesg --time-format=iso` prints (comma fraction).
const LENIENT_TIME =
  /(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})/y;
const BSD_TIME = /([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/y;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const SKEW_MS = 7 * 86_400_000;

/** Reads an RFC 3339 time at `start`; `strict` applies RFC 5424's restrictions. Throws SyslogParseError. */
export function readRfc3339(line: string, start: number, strict: boolean): ReadTime {
  const re = strict ? RFC5424_TIME : LENIENT_TIME;
  re.lastIndex = start;
  const m = re.exec(line);
  if (!m)
    fail(
      "timestamp",
      start,
      strict
        ? "expected NILVALUE or an RFC 3339 time such as 2025-01-21T02:21:33.498559Z"
        : "expected an RFC 3339 time such as 2025-01-21T02:21:33.498559+00:00",
    );
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  checkRange(start + 5, "month", month, 1, 12);
  checkRange(start + 8, "day", day, 1, daysInMonth(year, month));
  checkRange(start + 11, "hour", hour, 0, 23);
  checkRange(start + 14, "minute", minute, 0, 59);
  checkRange(start + 17, "second", second, 0, 59);
  let offsetMinutes = 0;
  const zone = m[8]!;
  if (zone !== "Z" && zone !== "z") {
    const digits = zone.slice(1).replace(":", "");
    const zoneAt = m.index + m[0].length - zone.length;
    const h = Number(digits.slice(0, 2));
    const min = Number(digits.slice(2));
    checkRange(zoneAt + 1, "zone hour", h, 0, 23);
    checkRange(zoneAt + zone.length - 2, "zone minute", min, 0, 59);
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (h * 60 + min);
  }
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  const timeMs = Date.UTC(year, month - 1, day, hour, minute, second) + fraction - offsetMinutes * 60_000;
  return { timeMs, end: m.index + m[0].length };
}

/**
 * Reads a BSD time at `start`. The line has no year: the latest year that does not put it in the
 * future of `receivedAtMs` is taken, so a Dec 31 line received on Jan 1 keeps its year. It has no zone
 * either: the sender's offset from UTC is `utcOffsetMinutes`.
 */
export function readBsdTime(
  line: string,
  start: number,
  receivedAtMs: number,
  utcOffsetMinutes: number,
): ReadTime {
  BSD_TIME.lastIndex = start;
  const m = BSD_TIME.exec(line);
  if (!m) fail("timestamp", start, "expected a BSD time such as 'Jan 21 02:21:33' or an RFC 3339 time");
  const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
  if (month === 0) fail("timestamp", start, `unknown month ${JSON.stringify(m[1])}`);
  const dayAt = m.index + m[0].indexOf(m[2]!, 3);
  const [day, hour, minute, second] = m.slice(2, 6).map(Number) as [number, number, number, number];
  checkRange(dayAt, "day", day, 1, daysInMonth(2000, month));
  const timeAt = dayAt + m[2]!.length + 1;
  checkRange(timeAt, "hour", hour, 0, 23);
  checkRange(timeAt + 3, "minute", minute, 0, 59);
  checkRange(timeAt + 6, "second", second, 0, 59);
  const fraction = m[6] === undefined ? 0 : Number(`0.${m[6]}`) * 1000;
  // Logs are read after they are written: the latest year that is not in the future (within a
  // week of clock skew) is the one, as a stale Oct line in June is likelier than a clock months ahead.
  const year = new Date(receivedAtMs + utcOffsetMinutes * 60_000).getUTCFullYear();
  let best: number | undefined;
  for (const y of [year + 1, year, year - 1]) {
    if (day > daysInMonth(y, month)) continue; // Feb 29 only in leap years
    const t = Date.UTC(y, month - 1, day, hour, minute, second) + fraction - utcOffsetMinutes * 60_000;
    if (t <= receivedAtMs + SKEW_MS) {
      best = t;
      break;
    }
  }
  if (best === undefined)
    fail("timestamp", dayAt, "February 29 in none of the years around the time received");
  return { timeMs: best, end: m.index + m[0].length };
}

function checkRange(index: number, what: string, value: number, min: number, max: number): void {
  if (value < min || value > max) fail("timestamp", index, `${what} ${value} out of range ${min}-${max}`);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
