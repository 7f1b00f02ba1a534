/**
 * RFC 5424 §6: `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
 * STRUCTURED-DATA [SP MSG]`, header fields printable US-ASCII or NILVALUE `-`.
 */
import { fail, found } from "./errors.ts";
import type { SdElement, SyslogMessage } from "./message.ts";
import { readRfc3339 } from "./timestamp.ts";

/** Header fields after TIMESTAMP with their maximum lengths (RFC 5424 §6). */
const FIELDS = [
  ["hostname", 255],
  ["app-name", 48],
  ["procid", 128],
  ["msgid", 32],
] as const;

const BOM = "\uFEFF";

/** Parses the rest of an RFC 5424 line after PRI, which ends at `start`. */
export function parseRfc5424(line: string, start: number, facility: number, severity: number): SyslogMessage {
  let p = line.indexOf(" ", start);
  const version = Number(line.slice(start, p));
  if (version !== 1) fail("version", start, `unsupported VERSION ${version}, only 1 is known`);
  p++;
  let timestampMs: number | undefined;
  if (line[p] === "-" && (line[p + 1] === " " || p + 1 === line.length)) p++;
  else {
    const t = readRfc3339(line, p, true);
    timestampMs = t.timeMs;
    p = t.end;
  }
  const values: (string | undefined)[] = [];
  for (const [code, maxLength] of FIELDS) {
    if (line[p] !== " ") fail(code, p, `expected SP before ${code.toUpperCase()}, found ${found(line, p)}`);
    p++;
    const end = tokenEnd(line, p);
    const token = line.slice(p, end);
    if (token.length === 0)
      fail(code, p, `expected ${code.toUpperCase()} or NILVALUE '-', found ${found(line, p)}`);
    if (token.length > maxLength) fail(code, p, `${token.length} characters, at most ${maxLength}`);
    const bad = token.search(/[^\x21-\x7e]/);
    if (bad >= 0) fail(code, p + bad, `character ${JSON.stringify(token[bad])} is not printable US-ASCII`);
    values.push(token === "-" ? undefined : token);
    p = end;
  }
  if (line[p] !== " ")
    fail("structured-data", p, `expected SP before STRUCTURED-DATA, found ${found(line, p)}`);
  p++;
  const sd = readStructuredData(line, p);
  p = sd.end;
  let msg = "";
  if (p < line.length) {
    if (line[p] !== " ")
      fail("structured-data", p, `expected SP or end after STRUCTURED-DATA, found ${found(line, p)}`);
    msg = line.slice(p + 1);
    // §6.4: a UTF-8 MSG may start with a BOM; it marks the encoding and is not text.
    if (msg.startsWith(BOM)) msg = msg.slice(BOM.length);
  }
  return {
    format: "rfc5424",
    facility,
    severity,
    timestampMs,
    hostname: values[0],
    appName: values[1],
    procId: values[2],
    msgId: values[3],
    structuredData: sd.elements,
    msg,
  };
}

function tokenEnd(line: string, start: number): number {
  const end = line.indexOf(" ", start);
  return end < 0 ? line.length : end;
}

/** STRUCTURED-DATA (§6.3): NILVALUE, or one or more `[SD-ID *(SP SD-PARAM)]`. */
function readStructuredData(line: string, start: number): { elements: SdElement[]; end: number } {
  if (line[start] === "-") return { elements: [], end: start + 1 };
  if (line[start] !== "[")
    fail("structured-data", start, `expected NILVALUE '-' or '[', found ${found(line, start)}`);
  const elements: SdElement[] = [];
  const ids = new Set<string>();
  let p = start;
  while (line[p] === "[") {
    const idAt = p + 1;
    const id = readSdName(line, idAt, "SD-ID");
    // §6.3.2: the same SD-ID must not occur twice in a message.
    if (ids.has(id)) fail("structured-data", idAt, `SD-ID ${JSON.stringify(id)} repeated`);
    ids.add(id);
    p = idAt + id.length;
    const params: [string, string][] = [];
    while (line[p] === " ") {
      const name = readSdName(line, p + 1, "PARAM-NAME");
      p += 1 + name.length;
      if (line[p] !== "=")
        fail("structured-data", p, `expected '=' after PARAM-NAME, found ${found(line, p)}`);
      if (line[p + 1] !== '"')
        fail("structured-data", p + 1, `expected '"' to open PARAM-VALUE, found ${found(line, p + 1)}`);
      const value = readParamValue(line, p + 2);
      params.push([name, value.text]);
      p = value.end;
    }
    if (line[p] !== "]")
      fail("structured-data", p, `expected ' ' or ']' in SD-ELEMENT, found ${found(line, p)}`);
    p++;
    elements.push({ id, params });
  }
  return { elements, end: p };
}

/** SD-NAME (§6.3.2): 1-32 printable US-ASCII characters except '=', SP, ']' and '"'. */
function readSdName(line: string, start: number, what: string): string {
  let end = start;
  while (end < line.length && end - start <= 32 && isSdNameChar(line.charCodeAt(end))) end++;
  if (end === start) fail("structured-data", start, `expected ${what}, found ${found(line, start)}`);
  if (end - start > 32) fail("structured-data", start, `${what} longer than 32 characters`);
  return line.slice(start, end);
}

function isSdNameChar(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x3d && c !== 0x5d && c !== 0x22;
}

const VALUE_STOP = /["\\]/g;

/**
 * PARAM-VALUE up to its closing '"' (§6.3.3): `\"`, `\\` and `\]` stand for the character; a
 * backslash before anything else is kept as it is.
 */
function readParamValue(line: string, start: number): { text: string; end: number } {
  let text = "";
  let p = start;
  for (;;) {
    VALUE_STOP.lastIndex = p;
    const stop = VALUE_STOP.exec(line);
    if (!stop) fail("structured-data", start - 1, "PARAM-VALUE has no closing '\"'");
    text += line.slice(p, stop.index);
    p = stop.index;
    if (line[p] === '"') return { text, end: p + 1 };
    const escaped = line[p + 1];
    if (escaped === '"' || escaped === "\\" || escaped === "]") {
      text += escaped;
      p += 2;
    } else {
      text += "\\";
      p += 1;
    }
  }
}
