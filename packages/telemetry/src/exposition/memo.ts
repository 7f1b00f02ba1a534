/**
 * What a scanner remembers of the lines of the pages it read, so that the next scrape of the same
 * target recognises a repeated line by one native string comparison instead of reading it again
 * character by character. Exporters write every metadata line, and the name and labels of every
 * sample, identically scrape after scrape; only values and timestamps change. (Prometheus' scrape
 * cache keys its series by the same bytes.)
 *
 * Entries are keyed by line number: a target that adds or drops a line costs the lines after it
 * one ordinary read, after which they are remembered at their new numbers. An entry is only ever
 * the result of a successful read of exactly its text, so a hit needs no checks beyond equality.
 */
import type { FamilyState } from "./families.ts";
import { copyString } from "./intern.ts";

/** Which kind of line an entry holds. */
export const MemoKind = {
  /** A sample: `text` is its name and, where it has one, its label set through "}". */
  SAMPLE: 0,
  HELP: 1,
  TYPE: 2,
  UNIT: 3,
  /** A 0.0.4 comment that is not metadata, or metadata that stops short and is ignored. */
  COMMENT: 4,
} as const;
export type MemoKind = (typeof MemoKind)[keyof typeof MemoKind];

/** One remembered line. One shape for every kind, so that the scanner's reads stay monomorphic. */
export class LineMemo {
  kind: MemoKind = MemoKind.SAMPLE;
  /** Metadata: the whole line. Sample: the line from its start to the end of the name or label set. */
  text = "";
  /** Metadata: the family named. Sample: the sample's own name. */
  name = "";
  /** Offset of `name` from the line start. */
  nameAt = 0;
  /** Metadata: the help text (unescaped), the type or the unit. */
  value = "";
  /** Sample: `text` ends with a label set. Without one only the name is remembered. */
  braces = false;
  /** Sample: labels flat as in the sample record; the first `2 * labelCount` are this line's. */
  labels: string[] = [];
  labelCount = 0;
  /**
   * Metadata: the family named. Sample: the family it joined when last read, its type then, and
   * the sample's role in it (`Role`). When the scanner's current family is this one, with this
   * type, the role is the same, and so are the checks that depend on it, which passed.
   */
  family: FamilyState | undefined = undefined;
  /** The scanner's generation of family states `family` belongs to; older ones are stale. */
  generation = -1;
  familyType = "";
  /** Sample: the name ends with a suffix that may tie it to another family (`_bucket`, …). */
  suffixed = false;
  role = 0;
}

/** Bound on the characters remembered by one scanner. */
export const MEMO_MAX_CHARS = 1 << 22;
/** Lines past this number are not remembered. */
const MAX_LINES = 1 << 18;
/** What an entry costs besides its strings, counted as characters. */
const ENTRY_COST = 64;

/**
 * The entries of one scanner, bounded to `maxChars` characters of text and values (by default
 * about two copies of a 2 MiB page), so that a hostile page cannot grow it without limit. A bound
 * of 0 remembers nothing, for a scanner that reads one page.
 */
export class LineMemos {
  private readonly lines: (LineMemo | undefined)[] = [];
  private chars = 0;

  constructor(private readonly maxChars = MEMO_MAX_CHARS) {}

  /** The entry of 1-based `line`, if any. */
  get(line: number): LineMemo | undefined {
    return line < this.lines.length ? this.lines[line] : undefined;
  }

  /**
   * A fresh entry for `line` holding `text[start, end)` (copied, so as not to keep the page alive)
   * and `value` (which the caller has copied), or undefined when the bound is reached.
   */
  put(
    line: number,
    kind: MemoKind,
    text: string,
    start: number,
    end: number,
    value = "",
  ): LineMemo | undefined {
    if (line >= MAX_LINES || this.maxChars === 0) return undefined;
    const lines = this.lines;
    while (lines.length <= line) lines.push(undefined);
    let m = lines[line];
    if (m !== undefined) this.chars -= ENTRY_COST + m.text.length + m.value.length;
    const size = ENTRY_COST + end - start + value.length;
    if (this.chars + size > this.maxChars) {
      lines[line] = undefined;
      return undefined;
    }
    if (m === undefined) {
      m = new LineMemo();
      lines[line] = m;
    }
    this.chars += size;
    m.kind = kind;
    m.text = copyString(text, start, end);
    m.value = value;
    m.braces = false;
    m.labelCount = 0;
    m.family = undefined;
    m.generation = -1;
    m.familyType = "";
    m.suffixed = false;
    m.role = 0;
    return m;
  }
}
