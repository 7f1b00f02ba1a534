/**
 * The streaming core: one pass over a page with `charCodeAt`, one reused record handed to a
 * visitor per sample, names and repeated label values interned, no regular expressions.
 *
 * Grammars: Prometheus text 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/)
 * as Prometheus' parsers read it, and OpenMetrics 1.0
 * (https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md), ABNF
 * and family rules. Where the two Prometheus parsers — expfmt (promtool, client libraries) and
 * promparse (the scraper) — differ, see the notes at each rule.
 */
import { ParseError } from "./errors.ts";
import {
  canonicalType,
  expectedNames,
  type FamilyState,
  OM_SUFFIXES,
  OM_TYPES,
  PROM_SUFFIXES,
  PROM_TYPES,
  Role,
  roleOf,
} from "./families.ts";
import type { ExpositionFormat, MetricType } from "./format.ts";
import { copyString, InternTable } from "./intern.ts";
import { type LineMemo, LineMemos, MEMO_MAX_CHARS, MemoKind } from "./memo.ts";
import { isRealNumber, POW10, parseFloatToken, parseIntToken } from "./number.ts";

/** Limits and format of a scan. */
export interface ScanOptions {
  /** Default `prometheus` (text 0.0.4); pick with `formatFromContentType`. */
  format?: ExpositionFormat;
  /**
   * Longest line, in UTF-16 code units of the decoded page (at most as many as its UTF-8 bytes).
   * Default 65,536: real lines are under 1 KiB (`fixtures/dcgm/*` are the longest, ~300).
   */
  maxLineLength?: number;
  /** Most samples on one page, and most families. Default 200,000. */
  maxSamples?: number;
}

/**
 * One sample, as handed to {@link ExpositionVisitor.sample}. The scanner reuses the object and its
 * arrays for the next sample: copy what you keep.
 */
export interface SampleRecord {
  /** 1-based line of the sample. */
  line: number;
  /** The family the sample belongs to, e.g. `vllm:e2e_request_latency_seconds`. */
  family: string;
  type: MetricType;
  /** The sample's own name, e.g. `vllm:e2e_request_latency_seconds_bucket`. */
  name: string;
  /** Label names and values, flat and in page order: `[name0, value0, name1, value1, …]`. Only the first `2 * labelCount` entries are this sample's. */
  labels: string[];
  labelCount: number;
  value: number;
  /** Milliseconds since the epoch; NaN when the sample has none. */
  timestampMs: number;
  /** OpenMetrics only: the sample carries an exemplar (`# {…} value [timestamp]`). */
  hasExemplar: boolean;
  exemplarLabels: string[];
  exemplarLabelCount: number;
  exemplarValue: number;
  /** NaN when the exemplar has no timestamp. */
  exemplarTimestampMs: number;
}

/**
 * Receives a page as it is read. Metadata calls come as their lines do; every sample comes with
 * its resolved family. In OpenMetrics a family's lines are contiguous. In text 0.0.4 a sample may
 * join a family read earlier on the page (Prometheus' expfmt merges them), so group by
 * `sample.family`, not by arrival.
 */
export interface ExpositionVisitor {
  help?(family: string, text: string, line: number): void;
  type?(family: string, type: MetricType, line: number): void;
  unit?(family: string, unit: string, line: number): void;
  sample(sample: Readonly<SampleRecord>): void;
}

/** Counts from one page. */
export interface ScanResult {
  lines: number;
  samples: number;
  families: number;
}

/**
 * A reusable scanner: keep one per scrape target. It interns the page's names and label values,
 * and remembers each line's metadata and each sample's name and labels, so that the next scrape's
 * repeated lines are recognised by comparison instead of read again (a few MiB at most).
 */
export interface ExpositionScanner {
  /** Reads `text`, calling `visitor` as it goes; throws {@link ParseError} at the first fault. */
  scan(text: string, visitor: ExpositionVisitor): ScanResult;
}

/** A scanner with `options`; see {@link ExpositionScanner}. */
export function createExpositionScanner(options: ScanOptions = {}): ExpositionScanner {
  return new Scanner(options, true);
}

/** Scans one page with a fresh scanner, which remembers nothing of it. */
export function scanExposition(text: string, visitor: ExpositionVisitor, options?: ScanOptions): ScanResult {
  return new Scanner(options ?? {}, false).scan(text, visitor);
}

const LF = 10;
const TAB = 9;
const SP = 32;
const DQUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQ = 61;
const BSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;

// Character classes of ASCII: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* (both formats).
const NAME_START = 1;
const NAME_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  const digit = c >= 48 && c <= 57;
  if (alpha || c === 58) CLASS[c]! |= NAME_START | NAME_CHAR;
  if (digit) CLASS[c]! |= NAME_CHAR | LABEL_CHAR;
  if (alpha) CLASS[c]! |= LABEL_START | LABEL_CHAR;
}

const EXEMPLAR_MAX_CHARS = 128;

class Scanner implements ExpositionScanner {
  private readonly om: boolean;
  private readonly maxLineLength: number;
  private readonly maxSamples: number;
  private readonly intern = new InternTable();
  private readonly memos: LineMemos;
  private readonly remembers: boolean;
  /**
   * Every family of recent pages by name, each on the page being read when its `page` is
   * {@link page}. Cleared when it outgrows the pages (and {@link generation} counts up, so that
   * memos know their references stale).
   */
  private readonly states = new Map<string, FamilyState>();
  private generation = 0;
  private page = 0;
  /** Families on the page being read. */
  private familyCount = 0;
  private readonly rec: SampleRecord = {
    line: 0,
    family: "",
    type: "untyped",
    name: "",
    labels: [],
    labelCount: 0,
    value: 0,
    timestampMs: Number.NaN,
    hasExemplar: false,
    exemplarLabels: [],
    exemplarLabelCount: 0,
    exemplarValue: 0,
    exemplarTimestampMs: Number.NaN,
  };
  // Per page.
  private text = "";
  private lineNo = 0;
  private lineStart = 0;
  private lineEnd = 0;
  private current: FamilyState | undefined;
  private samples = 0;
  private eofSeen = false;
  /** Position of the next backslash at or after the current line's start, or -1 for none. */
  private nextBackslash = -2;
  /** Labels read by the last {@link labels} call. */
  private count = 0;
  /** The value read by the last successful {@link plainDecimal} call. */
  private decimal = 0;

  /** @param remember whether to remember lines for the pages to come. */
  constructor(options: ScanOptions, remember: boolean) {
    this.remembers = remember;
    this.memos = new LineMemos(remember ? MEMO_MAX_CHARS : 0);
    this.om = options.format === "openmetrics";
    this.maxLineLength = options.maxLineLength ?? 65_536;
    this.maxSamples = options.maxSamples ?? 200_000;
  }

  scan(text: string, visitor: ExpositionVisitor): ScanResult {
    this.text = text;
    this.lineNo = 0;
    if (this.states.size > 4096 && this.states.size > 2 * this.familyCount) {
      this.states.clear();
      this.generation++;
    }
    this.page++;
    this.familyCount = 0;
    this.current = undefined;
    this.samples = 0;
    this.eofSeen = false;
    this.nextBackslash = -2;
    const len = text.length;
    let pos = 0;
    try {
      while (pos < len) {
        this.lineNo++;
        let end = text.indexOf("\n", pos);
        if (end < 0) end = len;
        this.lineStart = pos;
        this.lineEnd = end;
        if (end - pos > this.maxLineLength) {
          this.fail(pos + this.maxLineLength, `line is longer than ${this.maxLineLength} characters`);
        }
        if (this.eofSeen) this.fail(pos, 'text after "# EOF"');
        this.readLine(visitor);
        pos = end + 1;
      }
      if (this.om && !this.eofSeen) {
        // The end of the input: the start of the line after a final LF, else the end of the last line.
        if (len === 0 || text.charCodeAt(len - 1) === LF) {
          this.lineNo++;
          this.lineStart = this.lineEnd = len;
        }
        this.fail(len, 'OpenMetrics page does not end with "# EOF"');
      }
      return { lines: this.lineNo, samples: this.samples, families: this.familyCount };
    } finally {
      this.text = "";
      this.current = undefined;
    }
  }

  private fail(pos: number, reason: string): never {
    throw new ParseError(this.lineNo, pos - this.lineStart + 1, reason);
  }

  private skipBlanks(p: number): number {
    const t = this.text;
    const end = this.lineEnd;
    while (p < end) {
      const c = t.charCodeAt(p);
      if (c !== SP && c !== TAB) break;
      p++;
    }
    return p;
  }

  /** End of the token at `p`: the next blank (0.0.4: space or tab; OpenMetrics: space) or the line end. */
  private tokenEnd(p: number): number {
    const t = this.text;
    const end = this.lineEnd;
    if (this.om) {
      while (p < end && t.charCodeAt(p) !== SP) p++;
    } else {
      while (p < end) {
        const c = t.charCodeAt(p);
        if (c === SP || c === TAB) break;
        p++;
      }
    }
    return p;
  }

  private readLine(visitor: ExpositionVisitor): void {
    const t = this.text;
    const start = this.lineStart;
    const end = this.lineEnd;
    const m = this.memos.get(this.lineNo);
    if (m !== undefined) {
      const len = m.text.length;
      if (m.kind === MemoKind.SAMPLE) {
        // The remembered name and labels, and for a bare name, not a longer one.
        if (
          start + len <= end &&
          t.slice(start, start + len) === m.text &&
          (m.braces || !isNameChar(t.charCodeAt(start + len)))
        ) {
          this.sample(start + m.nameAt, visitor, m);
          return;
        }
      } else if (end - start === len && t.slice(start, end) === m.text) {
        this.metadata(m, visitor);
        return;
      }
    }
    let p = start;
    // 0.0.4 takes blanks before a line's first token and blank lines (expfmt and promparse);
    // OpenMetrics has neither.
    if (!this.om) p = this.skipBlanks(p);
    if (p === this.lineEnd) {
      if (this.om) this.fail(p, "empty line");
      return;
    }
    if (t.charCodeAt(p) === HASH) {
      if (this.om) this.omComment(p, visitor);
      else this.promComment(p, visitor);
    } else {
      this.sample(p, visitor, undefined);
    }
  }

  /** Scans a metric name at `p`; returns its end, or `p` when there is none. */
  private nameEnd(p: number): number {
    const t = this.text;
    const end = this.lineEnd;
    const c = t.charCodeAt(p);
    if (p >= end || c >= 128 || (CLASS[c]! & NAME_START) === 0) return p;
    for (p++; p < end; p++) {
      const d = t.charCodeAt(p);
      if (d >= 128 || (CLASS[d]! & NAME_CHAR) === 0) break;
    }
    return p;
  }

  /** A sample line from its name at `p`; `hit` is this line's entry when its text matched. */
  private sample(p: number, visitor: ExpositionVisitor, hit: LineMemo | undefined): void {
    const t = this.text;
    const end = this.lineEnd;
    const om = this.om;
    const rec = this.rec;
    const nameStart = p;
    let name: string;
    let n = 0;
    let memo = hit;
    if (hit?.braces) {
      name = hit.name;
      n = hit.labelCount;
      const from = hit.labels;
      const to = rec.labels;
      while (to.length < 2 * n) to.push("");
      for (let i = 0; i < 2 * n; i++) to[i] = from[i]!;
      p = this.lineStart + hit.text.length;
    } else {
      if (hit !== undefined) {
        name = hit.name;
        p = this.lineStart + hit.text.length;
      } else {
        const c = t.charCodeAt(p);
        if (c >= 128 || (CLASS[c]! & NAME_START) === 0)
          this.fail(p, `expected a metric name, found ${describe(c)}`);
        for (p++; p < end && isNameChar(t.charCodeAt(p)); p++);
        name = this.intern.get(t, nameStart, p);
      }
      const nameEnd = p;
      if (!om) p = this.skipBlanks(p);
      if (p < end && t.charCodeAt(p) === LBRACE) {
        p = this.labels(p + 1, rec.labels);
        n = this.count;
        memo = this.remember(nameStart, p, name, n);
      } else {
        if (p === nameEnd && p < end && t.charCodeAt(p) !== SP) {
          this.fail(p, `unexpected ${describe(t.charCodeAt(p))} after metric name "${name}"`);
        }
        if (hit === undefined) memo = this.remember(nameStart, nameEnd, name, -1);
      }
    }

    // Value. 0.0.4 needs no blank after "}" (expfmt and promparse agree); OpenMetrics needs one space.
    if (om) {
      if (p >= end || t.charCodeAt(p) !== SP) this.fail(p, "expected a space before the value");
      p++;
    } else {
      p = this.skipBlanks(p);
    }
    if (p >= end) this.fail(p, `expected a value for "${name}"`);
    let tokEnd = this.plainDecimal(p);
    let value = this.decimal;
    if (tokEnd < 0) {
      tokEnd = this.tokenEnd(p);
      const v = parseFloatToken(t, p, tokEnd);
      if (v === undefined) this.badToken(p, tokEnd, "value");
      value = v;
    }
    p = tokEnd;

    let ts = Number.NaN;
    let exemplarAt = -1;
    rec.hasExemplar = false;
    if (om) {
      if (p < end) {
        p++; // the space tokenEnd stopped at
        if (t.charCodeAt(p) !== HASH) {
          tokEnd = this.tokenEnd(p);
          if (p === tokEnd) this.fail(p, "expected a timestamp after the space");
          const sec = isRealNumber(t, p, tokEnd) ? parseFloatToken(t, p, tokEnd) : undefined;
          if (sec === undefined) this.badToken(p, tokEnd, "timestamp");
          ts = Math.round(sec * 1000);
          p = tokEnd;
          if (p < end) p++;
        }
        if (p < end || t.charCodeAt(p - 1) === SP) {
          exemplarAt = p;
          p = this.exemplar(p);
        }
      }
    } else {
      p = this.skipBlanks(p);
      if (p < end) {
        // 0.0.4: an integer of milliseconds; promparse takes trailing blanks after it, so do we.
        tokEnd = this.tokenEnd(p);
        const ms = parseIntToken(t, p, tokEnd);
        if (ms === undefined) this.badToken(p, tokEnd, "timestamp");
        ts = ms;
        p = this.skipBlanks(tokEnd);
        if (p < end) this.fail(p, `unexpected ${describe(t.charCodeAt(p))} after the timestamp`);
      }
    }

    // The family, then the rules that depend on it: as last time when the line's name and labels
    // are, and the current family is the one the sample joined then.
    let f = this.current;
    let role: Role;
    if (memo !== undefined && f !== undefined && f === memo.family && f.type === memo.familyType) {
      role = memo.role as Role;
    } else {
      role = f === undefined ? Role.NONE : roleOf(f, name, om);
      if (role === Role.NONE) {
        const own = memo === undefined ? undefined : this.stateOf(memo);
        // A name with no suffix that starts a family of its own, as last time: what familyOf
        // finds, without looking the name up.
        f =
          own !== undefined && own.name === name && own.page !== this.page && !memo!.suffixed
            ? this.addFamily(own, name, om ? "unknown" : "untyped", nameStart)
            : this.familyOf(name, nameStart);
        role = roleOf(f, name, om);
      }
      if (f!.type === "histogram" || f!.type === "gaugehistogram") {
        this.checkBound(rec.labels, n, "le", om && role === Role.BUCKET, nameStart, name);
      } else if (f!.type === "summary") {
        this.checkBound(rec.labels, n, "quantile", om && role === Role.BARE, nameStart, name);
      }
      if (memo !== undefined && role !== Role.NONE) {
        memo.family = f;
        memo.generation = this.generation;
        memo.familyType = f!.type;
        memo.role = role;
      }
    }
    const fam = f!;
    if (exemplarAt >= 0 && role !== Role.TOTAL && role !== Role.BUCKET) {
      this.fail(
        exemplarAt,
        `exemplar on ${fam.type} sample "${name}": only counter _total and histogram _bucket samples carry exemplars`,
      );
    }
    if (++this.samples > this.maxSamples)
      this.fail(nameStart, `more than ${this.maxSamples} samples on the page`);
    fam.samples++;

    rec.line = this.lineNo;
    rec.family = fam.name;
    rec.type = fam.type;
    rec.name = name;
    rec.labelCount = n;
    rec.value = value;
    rec.timestampMs = ts;
    visitor.sample(rec);
  }

  /**
   * Remembers the sample at `nameStart` named `name`, its text through `end`: with `n` labels
   * (those in the record) ending in "}", or a bare name when `n` is -1.
   */
  private remember(nameStart: number, end: number, name: string, n: number): LineMemo | undefined {
    const m = this.memos.put(this.lineNo, MemoKind.SAMPLE, this.text, this.lineStart, end);
    if (m === undefined) return undefined;
    m.name = name;
    m.suffixed = hasSuffix(name, this.om ? OM_SUFFIXES : PROM_SUFFIXES);
    m.nameAt = nameStart - this.lineStart;
    if (n >= 0) {
      m.braces = true;
      m.labelCount = n;
      const from = this.rec.labels;
      const to = m.labels;
      while (to.length < 2 * n) to.push("");
      for (let i = 0; i < 2 * n; i++) to[i] = from[i]!;
    }
    return m;
  }

  /**
   * The common value, a plain decimal of at most 15 digits (`300`, `-8.969`), read in one pass:
   * its end, with the value in {@link decimal}; -1 when the token at `p` is anything else, for the
   * full grammar to read. The value is the one `parseFloatToken` gives: an exact mantissa divided
   * by an exact power of ten.
   */
  private plainDecimal(p: number): number {
    const t = this.text;
    const end = this.lineEnd;
    let i = p;
    let c = t.charCodeAt(i);
    const neg = c === 45;
    if (neg) i++;
    let mant = 0;
    let digits = 0;
    let dot = -1;
    for (; i < end; i++) {
      c = t.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        mant = mant * 10 + (c - 48);
        digits++;
      } else if (c === 46 && dot < 0) {
        dot = i;
      } else {
        break;
      }
    }
    if (digits === 0 || digits > 15) return -1;
    if (i < end && c !== SP && (this.om || c !== TAB)) return -1;
    const v = dot < 0 ? mant : mant / POW10[i - dot - 1]!;
    this.decimal = neg ? -v : v;
    return i;
  }

  /** Throws for an unreadable number token, naming a carriage return, the usual culprit. */
  private badToken(start: number, end: number, what: string): never {
    const tok = this.text.slice(start, end);
    const cr = tok.indexOf("\r");
    if (cr >= 0) this.fail(start + cr, "carriage return in line (lines must end with LF only)");
    return this.fail(start, `invalid ${what} ${JSON.stringify(tok)}`);
  }

  /** `le` / `quantile` must be a float where present, and present where `required`. */
  private checkBound(
    labels: string[],
    n: number,
    label: string,
    required: boolean,
    at: number,
    name: string,
  ): void {
    for (let i = 0; i < n; i++) {
      if (labels[2 * i] !== label) continue;
      const v = labels[2 * i + 1]!;
      if (parseFloatToken(v, 0, v.length) === undefined) {
        this.fail(at, `"${label}" label value ${JSON.stringify(v)} of "${name}" is not a number`);
      }
      return;
    }
    if (required) this.fail(at, `"${name}" has no "${label}" label`);
  }

  /** The family of `name` on the page being read, if any. */
  private family(name: string): FamilyState | undefined {
    const f = this.states.get(name);
    return f !== undefined && f.page === this.page ? f : undefined;
  }

  /** The state `m` refers to, when it is still the one kept for its name. */
  private stateOf(m: LineMemo): FamilyState | undefined {
    return m.generation === this.generation ? m.family : undefined;
  }

  /** The family sample `name` belongs to when it is not the current one's; makes it current. */
  private familyOf(name: string, at: number): FamilyState {
    const om = this.om;
    const seen = this.family(name);
    if (om) {
      const cur = this.current;
      if (seen !== undefined) {
        if (seen === cur) {
          this.fail(
            at,
            `sample "${name}" does not fit ${cur.type} family "${cur.name}" (expected ${expectedNames(cur, true)})`,
          );
        }
        this.fail(at, `metric family "${name}" appears again after other families`);
      }
      for (const s of OM_SUFFIXES) {
        if (!name.endsWith(s)) continue;
        const base = this.family(name.slice(0, -s.length));
        if (base !== undefined && roleOf(base, name, true) !== Role.NONE) {
          this.fail(at, `metric family "${base.name}" appears again after other families`);
        }
      }
      return this.newFamily(name, "unknown", at);
    }
    // 0.0.4, as expfmt: a suffixed sample of an earlier histogram or summary, or a sample of an
    // earlier family of the same name, joins it.
    for (const s of PROM_SUFFIXES) {
      if (!name.endsWith(s)) continue;
      const base = this.family(name.slice(0, -s.length));
      if (base !== undefined && roleOf(base, name, false) !== Role.NONE) {
        this.current = base;
        return base;
      }
    }
    if (seen !== undefined) {
      this.current = seen;
      return seen;
    }
    return this.newFamily(name, "untyped", at);
  }

  /** Starts family `name`, not on the page yet, and makes it current. */
  private newFamily(name: string, type: MetricType, at: number): FamilyState {
    return this.addFamily(this.states.get(name), name, type, at);
  }

  /** {@link newFamily} given the state kept for `name`, if any. */
  private addFamily(f: FamilyState | undefined, name: string, type: MetricType, at: number): FamilyState {
    if (this.familyCount >= this.maxSamples)
      this.fail(at, `more than ${this.maxSamples} metric families on the page`);
    if (f === undefined) {
      f = { name, page: 0, type, typed: false, help: undefined, unit: undefined, samples: 0 };
      this.states.set(name, f);
    } else {
      f.type = type;
      f.typed = false;
      f.help = undefined;
      f.unit = undefined;
      f.samples = 0;
    }
    f.page = this.page;
    this.familyCount++;
    this.current = f;
    return f;
  }

  /**
   * Reads `name="value"` pairs after a "{" at `p` into `out`; returns the position after "}" and
   * sets {@link count}. 0.0.4 takes blanks around tokens and a trailing comma (expfmt and
   * promparse both do); OpenMetrics takes neither (its ABNF: `"{" [label *(COMMA label)] "}"`).
   */
  private labels(p: number, out: string[]): number {
    const t = this.text;
    const end = this.lineEnd;
    const om = this.om;
    const intern = this.intern;
    let n = 0;
    for (;;) {
      if (!om) p = this.skipBlanks(p);
      if (p >= end) this.fail(p, "unterminated label set");
      let c = t.charCodeAt(p);
      if (c === RBRACE) {
        if (om && n > 0) this.fail(p - 1, "trailing comma in label set");
        this.count = n;
        return p + 1;
      }
      if (c >= 128 || (CLASS[c]! & LABEL_START) === 0)
        this.fail(p, `expected a label name, found ${describe(c)}`);
      const nameStart = p;
      for (p++; p < end; p++) {
        c = t.charCodeAt(p);
        if (c >= 128 || (CLASS[c]! & LABEL_CHAR) === 0) break;
      }
      const label = intern.get(t, nameStart, p);
      if (!om) p = this.skipBlanks(p);
      if (p >= end || t.charCodeAt(p) !== EQ) this.fail(p, `expected "=" after label name "${label}"`);
      p++;
      if (!om) p = this.skipBlanks(p);
      if (p >= end || t.charCodeAt(p) !== DQUOTE)
        this.fail(p, `expected '"' to start the value of label "${label}"`);
      const valueStart = ++p;
      // The closing quote by the native search; escapes only where the page's next backslash
      // falls inside, which on most pages is never.
      p = t.indexOf('"', p);
      if (p < 0 || p >= end) this.fail(valueStart - 1, `unterminated value of label "${label}"`);
      let value: string;
      if (this.backslashBefore(p)) {
        p = this.escapedValueEnd(valueStart, label);
        const u = this.unescape(valueStart, p, true);
        value = this.keep(u);
      } else {
        value = intern.get(t, valueStart, p);
      }
      p++;
      for (let i = 0; i < n; i++) {
        if (out[2 * i] === label) this.fail(nameStart, `duplicate label name "${label}"`);
      }
      if (label === "__name__") this.fail(nameStart, 'label name "__name__" is reserved');
      if (2 * n < out.length) {
        out[2 * n] = label;
        out[2 * n + 1] = value;
      } else {
        out.push(label, value);
      }
      n++;
      if (!om) p = this.skipBlanks(p);
      if (p >= end) this.fail(p, "unterminated label set");
      c = t.charCodeAt(p);
      if (c === COMMA) {
        p++;
      } else if (c === RBRACE) {
        this.count = n;
        return p + 1;
      } else {
        this.fail(p, `expected "," or "}" after a label value, found ${describe(c)}`);
      }
    }
  }

  /** Whether the page has a backslash before `p` on the current line (at or after the line start). */
  private backslashBefore(p: number): boolean {
    let b = this.nextBackslash;
    if (b < this.lineStart && b !== -1) {
      b = this.text.indexOf("\\", this.lineStart);
      this.nextBackslash = b;
    }
    return b >= 0 && b < p;
  }

  /** The closing quote of a label value that holds escapes. */
  private escapedValueEnd(p: number, label: string): number {
    const t = this.text;
    const end = this.lineEnd;
    for (;;) {
      if (p >= end) this.fail(p, `unterminated value of label "${label}"`);
      const c = t.charCodeAt(p);
      if (c === DQUOTE) return p;
      p += c === BSLASH ? 2 : 1;
    }
  }

  /**
   * Decodes `\\`, `\n` and (in label values, and OpenMetrics help) `\"`. Any other escape is an
   * error, as in expfmt and the OpenMetrics ABNF (promparse would keep it as written).
   */
  private unescape(start: number, end: number, quote: boolean): string {
    const t = this.text;
    let out = "";
    let from = start;
    for (let p = t.indexOf("\\", start); p >= 0 && p < end; p = t.indexOf("\\", p + 2)) {
      const c = p + 1 < end ? t.charCodeAt(p + 1) : -1;
      const rep = c === BSLASH ? "\\" : c === 110 ? "\n" : c === DQUOTE && quote ? '"' : undefined;
      if (rep === undefined) this.fail(p, `invalid escape sequence ${JSON.stringify(t.slice(p, p + 2))}`);
      out += t.slice(from, p) + rep;
      from = p + 2;
    }
    return out + t.slice(from, end);
  }

  /** `# {labels} value [timestamp]` at `p`; returns the line end. */
  private exemplar(p: number): number {
    const t = this.text;
    const end = this.lineEnd;
    const rec = this.rec;
    if (!t.startsWith("# {", p) || p + 3 > end) this.fail(p, 'expected an exemplar ("# {")');
    p = this.labels(p + 3, rec.exemplarLabels);
    const n = this.count;
    let chars = 0;
    for (let i = 0; i < 2 * n; i++) chars += rec.exemplarLabels[i]!.length;
    if (chars > EXEMPLAR_MAX_CHARS) {
      // The limit is in code points; count them only when UTF-16 units say it may be exceeded.
      chars = 0;
      for (let i = 0; i < 2 * n; i++) chars += [...rec.exemplarLabels[i]!].length;
      if (chars > EXEMPLAR_MAX_CHARS)
        this.fail(p - 1, `exemplar labels longer than ${EXEMPLAR_MAX_CHARS} characters`);
    }
    if (p >= end || t.charCodeAt(p) !== SP) this.fail(p, "expected a space before the exemplar value");
    p++;
    let tokEnd = this.tokenEnd(p);
    const value = parseFloatToken(t, p, tokEnd);
    if (value === undefined) this.badToken(p, tokEnd, "exemplar value");
    let ts = Number.NaN;
    p = tokEnd;
    if (p < end) {
      p++;
      tokEnd = this.tokenEnd(p);
      const sec = isRealNumber(t, p, tokEnd) ? parseFloatToken(t, p, tokEnd) : undefined;
      if (sec === undefined) this.badToken(p, tokEnd, "exemplar timestamp");
      ts = Math.round(sec * 1000);
      p = tokEnd;
      if (p < end) this.fail(p, "unexpected text after the exemplar");
    }
    rec.hasExemplar = true;
    rec.exemplarLabelCount = n;
    rec.exemplarValue = value;
    rec.exemplarTimestampMs = ts;
    return p;
  }

  /**
   * 0.0.4 comments, as expfmt reads them: `# HELP name text` and `# TYPE name type` are metadata;
   * a line that stops after the keyword or the name is ignored (expfmt: "not considered a syntax
   * error"); anything else after "#" is a comment.
   */
  private promComment(p: number, visitor: ExpositionVisitor): void {
    const t = this.text;
    const end = this.lineEnd;
    const q = this.skipBlanks(p + 1);
    if (q === p + 1 || q + 4 >= end) {
      this.ignored();
      return;
    }
    const help = t.startsWith("HELP", q);
    if (!help && !t.startsWith("TYPE", q)) {
      this.ignored();
      return;
    }
    const c = t.charCodeAt(q + 4);
    if (c !== SP && c !== TAB) {
      this.ignored();
      return;
    }
    const nameStart = this.skipBlanks(q + 4);
    if (nameStart === end) {
      this.ignored();
      return;
    }
    const nameEnd = this.nameEnd(nameStart);
    if (nameEnd === nameStart)
      this.fail(nameStart, `expected a metric name, found ${describe(t.charCodeAt(nameStart))}`);
    if (nameEnd < end && t.charCodeAt(nameEnd) !== SP && t.charCodeAt(nameEnd) !== TAB) {
      this.fail(nameEnd, `unexpected ${describe(t.charCodeAt(nameEnd))} in metric name`);
    }
    const textStart = this.skipBlanks(nameEnd);
    if (textStart === end) {
      this.ignored();
      return;
    }
    const name = this.intern.get(t, nameStart, nameEnd);
    const f = this.family(name) ?? this.newFamily(name, "untyped", nameStart);
    this.current = f;
    if (help) {
      if (f.help !== undefined) this.fail(nameStart, `second HELP line for metric family "${name}"`);
      f.help = this.helpText(textStart, false);
      this.rememberMetadata(MemoKind.HELP, name, nameStart, f.help);
      visitor.help?.(name, f.help, this.lineNo);
      return;
    }
    const typeEnd = this.tokenEnd(textStart);
    const type = t.slice(textStart, typeEnd);
    if (!PROM_TYPES.has(type)) this.fail(textStart, `unknown metric type ${JSON.stringify(type)}`);
    const after = this.skipBlanks(typeEnd);
    if (after < end) this.fail(after, `unexpected ${describe(t.charCodeAt(after))} after the metric type`);
    if (f.typed || f.samples > 0) {
      this.fail(nameStart, `second TYPE line for metric family "${name}", or TYPE after its samples`);
    }
    f.typed = true;
    f.type = canonicalType(type)!;
    this.rememberMetadata(MemoKind.TYPE, name, nameStart, f.type);
    visitor.type?.(name, f.type, this.lineNo);
  }

  /** Remembers the 0.0.4 comment being read as one that carries nothing. */
  private ignored(): void {
    this.rememberMetadata(MemoKind.COMMENT, "", this.lineStart, "");
  }

  /** `s`, copied when it may be remembered, so as not to keep the page alive. */
  private keep(s: string): string {
    return this.remembers ? copyString(s, 0, s.length) : s;
  }

  /** Help text from `start` to the line end, unescaped, as a string of its own. */
  private helpText(start: number, quote: boolean): string {
    const t = this.text;
    const end = this.lineEnd;
    const i = t.indexOf("\\", start);
    const help = i < 0 || i >= end ? t.slice(start, end) : this.unescape(start, end, quote);
    return this.keep(help);
  }

  /** Remembers the metadata line being read: `kind` of family `name` at `nameStart` is `value`. */
  private rememberMetadata(kind: MemoKind, name: string, nameStart: number, value: string): void {
    const m = this.memos.put(this.lineNo, kind, this.text, this.lineStart, this.lineEnd, value);
    if (m === undefined) return;
    m.name = name;
    m.nameAt = nameStart - this.lineStart;
    if (kind !== MemoKind.COMMENT) {
      m.family = this.current;
      m.generation = this.generation;
    }
  }

  /**
   * A metadata line whose text is that of `m`: what {@link promComment} and {@link omComment} do
   * past reading the line, in the same order, without the checks that only its text decides.
   */
  private metadata(m: LineMemo, visitor: ExpositionVisitor): void {
    const name = m.name;
    const nameStart = this.lineStart + m.nameAt;
    const line = this.lineNo;
    // The state kept for the name, which is on the page if its `page` says so.
    const own = this.stateOf(m);
    let f: FamilyState;
    if (this.om) {
      const cur = this.current;
      if (cur === undefined || cur.name !== name) {
        if (own === undefined ? this.family(name) !== undefined : own.page === this.page)
          this.fail(nameStart, `metric family "${name}" appears again after other families`);
        f =
          own === undefined
            ? this.newFamily(name, "unknown", nameStart)
            : this.addFamily(own, name, "unknown", nameStart);
      } else {
        f = cur;
      }
      const at = this.lineStart;
      const kw = m.kind === MemoKind.HELP ? "HELP" : m.kind === MemoKind.TYPE ? "TYPE" : "UNIT";
      if (f.samples > 0) this.fail(at, `${kw} for metric family "${name}" after its samples`);
      if (m.kind === MemoKind.HELP) {
        if (f.help !== undefined) this.fail(at, `second HELP line for metric family "${name}"`);
        f.help = m.value;
        visitor.help?.(name, m.value, line);
      } else if (m.kind === MemoKind.TYPE) {
        if (f.typed) this.fail(at, `second TYPE line for metric family "${name}"`);
        f.typed = true;
        f.type = m.value as MetricType;
        visitor.type?.(name, f.type, line);
      } else {
        if (f.unit !== undefined) this.fail(at, `second UNIT line for metric family "${name}"`);
        f.unit = m.value;
        visitor.unit?.(name, m.value, line);
      }
      return;
    }
    if (m.kind === MemoKind.COMMENT) return;
    if (own === undefined) f = this.family(name) ?? this.newFamily(name, "untyped", nameStart);
    else f = own.page === this.page ? own : this.addFamily(own, name, "untyped", nameStart);
    this.current = f;
    if (m.kind === MemoKind.HELP) {
      if (f.help !== undefined) this.fail(nameStart, `second HELP line for metric family "${name}"`);
      f.help = m.value;
      visitor.help?.(name, m.value, line);
    } else {
      if (f.typed || f.samples > 0) {
        this.fail(nameStart, `second TYPE line for metric family "${name}", or TYPE after its samples`);
      }
      f.typed = true;
      f.type = m.value as MetricType;
      visitor.type?.(name, f.type, line);
    }
  }

  /**
   * OpenMetrics descriptors: exactly `# HELP name text`, `# TYPE name type`, `# UNIT name unit`,
   * or `# EOF`; other comments are not part of the format. A family's descriptors come before its
   * samples, each at most once.
   */
  private omComment(p: number, visitor: ExpositionVisitor): void {
    const t = this.text;
    const end = this.lineEnd;
    if (end - p === 5 && t.startsWith("# EOF", p)) {
      this.eofSeen = true;
      return;
    }
    const kw = t.startsWith("# HELP ", p)
      ? "HELP"
      : t.startsWith("# TYPE ", p)
        ? "TYPE"
        : t.startsWith("# UNIT ", p)
          ? "UNIT"
          : "";
    if (kw === "")
      this.fail(p, 'only "# HELP", "# TYPE", "# UNIT" and "# EOF" lines may start with "#" in OpenMetrics');
    const nameStart = p + 7;
    const nameEnd = this.nameEnd(nameStart);
    if (nameEnd === nameStart)
      this.fail(nameStart, `expected a metric name, found ${describe(t.charCodeAt(nameStart))}`);
    if (nameEnd >= end || t.charCodeAt(nameEnd) !== SP) {
      this.fail(nameEnd, `expected a space after the metric name in ${kw}`);
    }
    const name = this.intern.get(t, nameStart, nameEnd);
    let f = this.current;
    if (f === undefined || f.name !== name) {
      if (this.family(name) !== undefined)
        this.fail(nameStart, `metric family "${name}" appears again after other families`);
      f = this.newFamily(name, "unknown", nameStart);
    }
    if (f.samples > 0) this.fail(p, `${kw} for metric family "${name}" after its samples`);
    const textStart = nameEnd + 1;
    if (kw === "HELP") {
      if (f.help !== undefined) this.fail(p, `second HELP line for metric family "${name}"`);
      f.help = this.helpText(textStart, true);
      this.rememberMetadata(MemoKind.HELP, name, nameStart, f.help);
      visitor.help?.(name, f.help, this.lineNo);
    } else if (kw === "TYPE") {
      if (f.typed) this.fail(p, `second TYPE line for metric family "${name}"`);
      const type = t.slice(textStart, end);
      if (!OM_TYPES.has(type)) this.fail(textStart, `unknown metric type ${JSON.stringify(type)}`);
      f.typed = true;
      f.type = canonicalType(type)!;
      this.rememberMetadata(MemoKind.TYPE, name, nameStart, f.type);
      visitor.type?.(name, f.type, this.lineNo);
    } else {
      if (f.unit !== undefined) this.fail(p, `second UNIT line for metric family "${name}"`);
      const unitEnd = textStart === end ? end : this.nameEnd(textStart);
      if (unitEnd < end) this.fail(unitEnd, `unexpected ${describe(t.charCodeAt(unitEnd))} in unit`);
      const unit = t.slice(textStart, end);
      // "The unit of a MetricFamily ... MUST be a suffix of the MetricFamily name", after "_".
      if (unit !== "" && !name.endsWith(`_${unit}`)) {
        this.fail(textStart, `unit "${unit}" is not a suffix of metric family "${name}"`);
      }
      f.unit = this.keep(unit);
      this.rememberMetadata(MemoKind.UNIT, name, nameStart, f.unit);
      visitor.unit?.(name, f.unit, this.lineNo);
    }
  }
}

function hasSuffix(name: string, suffixes: readonly string[]): boolean {
  for (const s of suffixes) if (name.endsWith(s)) return true;
  return false;
}

function isNameChar(c: number): boolean {
  return c < 128 && (CLASS[c]! & NAME_CHAR) !== 0;
}

/** A character for an error message. */
function describe(c: number): string {
  if (Number.isNaN(c) || c === LF) return "end of line";
  if (c === 13) return "carriage return (lines must end with LF only)";
  if (c > 32 && c < 127) return JSON.stringify(String.fromCharCode(c));
  return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}
