/** The one error type of the syslog receiver: what was wrong with a line, and where. */

/** What part of a line was wrong. */
export type SyslogErrorCode =
  | "empty"
  | "pri"
  | "version"
  | "timestamp"
  | "hostname"
  | "app-name"
  | "procid"
  | "msgid"
  | "structured-data"
  | "header"
  | "xid";

/**
 * A line that cannot be read. `column` is 1-based, in characters of the decoded line; the message
 * reads `timestamp: month 13 out of range 01-12 at column 9`.
 */
export class SyslogParseError extends Error {
  readonly code: SyslogErrorCode;
  readonly column: number;
  readonly reason: string;
  constructor(code: SyslogErrorCode, column: number, reason: string) {
    super(`${code}: ${reason} at column ${column}`);
    this.name = "SyslogParseError";
    this.code = code;
    this.column = column;
    this.reason = reason;
  }
}

/** Throws a SyslogParseError at 0-based offset `index`. */
export function fail(code: SyslogErrorCode, index: number, reason: string): never {
  throw new SyslogParseError(code, index + 1, reason);
}

/** A short, printable quote of what was found at `index`, for error reasons. */
export function found(line: string, index: number): string {
  if (index >= line.length) return "end of line";
  return JSON.stringify(line.slice(index, index + 12));
}
