/**
 * The series index: label sets interned as symbols, one series = (metric name, rest-of-labels set).
 * Series of one entity share every label but `__name__` (a GPU's ~35 dcgm fields), so the rest
 * set is stored and indexed once for all of them. Everything but the symbol table lives in typed
 * arrays: the rest sets' label pairs in one pool, and the lists a query walks (series by name,
 * series by rest set, rest-set pairs by label value) as linked lists threaded through Int32Arrays,
 * so a series costs four integers. Selectors are answered the way Prometheus' index does:
 * intersect the equality matchers' postings, then filter by the rest.
 */
import { anchored, type Labels, type Matcher } from "./selector.ts";

export type { Labels, Matcher } from "./selector.ts";

/** End of a linked list. */
const END = -1;
/** Bytes charged per typed array for its object and buffer headers, as the store charges chunks. */
const ARRAY_HEADER = 100;

export class LabelIndex {
  size = 0;
  private readonly symbols = new Map<string, number>();
  private readonly text: string[] = [];
  private symbolBytes = 0;
  // Per symbol: the first and last series of the metric it names, how many, and the first pair
  // slot whose value it is.
  private nameHead = new Int32Array(64).fill(END);
  private nameTail = new Int32Array(64).fill(END);
  private nameCount = new Int32Array(64);
  private valueHead = new Int32Array(64).fill(END);
  // Per rest set: its pairs are pair slots restStart[id] .. restStart[id + 1]; its series list.
  private restCount = 0;
  private restStart = new Int32Array(65);
  private restHash = new Int32Array(64);
  private restHead = new Int32Array(64).fill(END);
  private restTail = new Int32Array(64).fill(END);
  private restSize = new Int32Array(64);
  /** Open addressing by hash, rest id + 1 per slot (0: empty), at most 3/4 full. */
  private restTable = new Int32Array(128);
  // Per pair slot: label name and value symbols, and the next slot with the same value.
  private pairCount = 0;
  private pairs = new Int32Array(128);
  private pairNext = new Int32Array(64);
  // Per series.
  private nameOf = new Int32Array(256);
  private restOf = new Int32Array(256);
  private nextByName = new Int32Array(256);
  private nextByRest = new Int32Array(256);

  getOrCreate(labels: Labels): number {
    const keys = restKeys(labels);
    const hash = hashRest(keys, labels);
    let restId = this.findRest(hash, keys, labels);
    if (restId < 0) restId = this.addRest(hash, keys, labels);
    const nameSym = this.symbol(labels.__name__!);
    const found = this.find(nameSym, restId);
    if (found >= 0) return found;
    const ref = this.size++;
    if (ref >= this.nameOf.length) {
      const cap = Math.ceil(this.nameOf.length * 1.125) + 64;
      this.nameOf = grow(this.nameOf, cap);
      this.restOf = grow(this.restOf, cap);
      this.nextByName = grow(this.nextByName, cap);
      this.nextByRest = grow(this.nextByRest, cap);
    }
    this.nameOf[ref] = nameSym;
    this.restOf[ref] = restId;
    this.nextByName[ref] = END;
    this.nextByRest[ref] = END;
    if (this.nameTail[nameSym] === END) this.nameHead[nameSym] = ref;
    else this.nextByName[this.nameTail[nameSym]!] = ref;
    this.nameTail[nameSym] = ref;
    this.nameCount[nameSym]!++;
    if (this.restTail[restId] === END) this.restHead[restId] = ref;
    else this.nextByRest[this.restTail[restId]!] = ref;
    this.restTail[restId] = ref;
    this.restSize[restId]!++;
    return ref;
  }

  /** The label set of `ref` less `__name__`, as a dense id: series of one entity share it. */
  restIdOf(ref: number): number {
    return this.restOf[ref]!;
  }

  get(labels: Labels): number | undefined {
    const keys = restKeys(labels);
    const restId = this.findRest(hashRest(keys, labels), keys, labels);
    const nameSym = this.symbols.get(labels.__name__!);
    if (restId < 0 || nameSym === undefined) return undefined;
    const ref = this.find(nameSym, restId);
    return ref < 0 ? undefined : ref;
  }

  labels(ref: number): Labels {
    const out: Record<string, string> = { __name__: this.text[this.nameOf[ref]!]! };
    const id = this.restOf[ref]!;
    for (let p = this.restStart[id]!; p < this.restStart[id + 1]!; p++)
      out[this.text[this.pairs[2 * p]!]!] = this.text[this.pairs[2 * p + 1]!]!;
    return out;
  }

  byName(name: string): number[] {
    const sym = this.symbols.get(name);
    return sym === undefined ? [] : this.list(this.nameHead[sym]!, this.nextByName);
  }

  select(matchers: readonly Matcher[]): number[] {
    let rests: Set<number> | undefined;
    let nameRefs: readonly number[] | undefined;
    for (const m of matchers) {
      if (m.op !== "=" || m.value === "") continue;
      const valueSym = this.symbols.get(m.value);
      if (m.name === "__name__") {
        nameRefs = valueSym === undefined ? [] : this.list(this.nameHead[valueSym]!, this.nextByName);
        continue;
      }
      const nameSym = this.symbols.get(m.name);
      const found = new Set<number>();
      if (nameSym !== undefined && valueSym !== undefined)
        for (let p = this.valueHead[valueSym]!; p !== END; p = this.pairNext[p]!)
          if (this.pairs[2 * p] === nameSym) {
            const id = this.restOfPair(p);
            if (!rests || rests.has(id)) found.add(id);
          }
      rests = found;
    }
    let candidates: readonly number[];
    if (nameRefs) candidates = rests ? nameRefs.filter((r) => rests!.has(this.restOf[r]!)) : nameRefs;
    else if (rests) candidates = [...rests].flatMap((id) => this.list(this.restHead[id]!, this.nextByRest));
    else candidates = Array.from({ length: this.size }, (_, i) => i);
    const tests = matchers.map((m) => {
      const re = m.op === "=~" || m.op === "!~" ? anchored(m) : undefined;
      const want = m.op === "=" || m.op === "=~";
      return (v: string) => (re ? re.test(v) : v === m.value) === want;
    });
    const out = candidates.filter((ref) => matchers.every((m, i) => tests[i]!(this.value(ref, m.name))));
    return out.sort((a, b) => a - b);
  }

  /** The value of label `name` on `ref`, "" when absent (PromQL treats them alike). */
  value(ref: number, name: string): string {
    if (name === "__name__") return this.text[this.nameOf[ref]!]!;
    const sym = this.symbols.get(name);
    if (sym === undefined) return "";
    const id = this.restOf[ref]!;
    for (let p = this.restStart[id]!; p < this.restStart[id + 1]!; p++)
      if (this.pairs[2 * p] === sym) return this.text[this.pairs[2 * p + 1]!]!;
    return "";
  }

  /**
   * Bytes held: typed arrays exactly (capacity, plus ~100 bytes of headers each); the symbol table
   * estimated from V8's layout (a string 2 bytes a character plus a 24-byte header, a Map entry ~40
   * bytes, an array element 8 bytes).
   */
  bytes(): number {
    const arrays = [
      this.nameHead,
      this.nameTail,
      this.nameCount,
      this.valueHead,
      this.restStart,
      this.restHash,
      this.restHead,
      this.restTail,
      this.restSize,
      this.restTable,
      this.pairs,
      this.pairNext,
      this.nameOf,
      this.restOf,
      this.nextByName,
      this.nextByRest,
    ];
    let bytes = this.symbolBytes;
    for (const a of arrays) bytes += a.byteLength + ARRAY_HEADER;
    return bytes;
  }

  /** The series (nameSym, restId), or -1; walks the shorter of the name's and the rest set's lists. */
  private find(nameSym: number, restId: number): number {
    if (this.nameCount[nameSym]! <= this.restSize[restId]!) {
      for (let r = this.nameHead[nameSym]!; r !== END; r = this.nextByName[r]!)
        if (this.restOf[r] === restId) return r;
    } else
      for (let r = this.restHead[restId]!; r !== END; r = this.nextByRest[r]!)
        if (this.nameOf[r] === nameSym) return r;
    return -1;
  }

  private list(head: number, next: Int32Array): number[] {
    const out: number[] = [];
    for (let r = head; r !== END; r = next[r]!) out.push(r);
    return out;
  }

  /** The rest set holding pair slot `p`. */
  private restOfPair(p: number): number {
    let lo = 0;
    let hi = this.restCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.restStart[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private findRest(hash: number, keys: readonly string[], labels: Labels): number {
    const mask = this.restTable.length - 1;
    for (let i = hash & mask; this.restTable[i] !== 0; i = (i + 1) & mask) {
      const id = this.restTable[i]! - 1;
      if (this.restHash[id] !== hash) continue;
      const start = this.restStart[id]!;
      if (this.restStart[id + 1]! - start !== keys.length) continue;
      let same = true;
      for (let k = 0; k < keys.length && same; k++)
        same =
          this.text[this.pairs[2 * (start + k)]!] === keys[k] &&
          this.text[this.pairs[2 * (start + k) + 1]!] === labels[keys[k]!];
      if (same) return id;
    }
    return -1;
  }

  private addRest(hash: number, keys: readonly string[], labels: Labels): number {
    const id = this.restCount++;
    if (id + 2 > this.restStart.length) {
      const cap = Math.ceil(this.restHash.length * 1.25) + 16;
      this.restStart = grow(this.restStart, cap + 1);
      this.restHash = grow(this.restHash, cap);
      this.restHead = grow(this.restHead, cap, END);
      this.restTail = grow(this.restTail, cap, END);
      this.restSize = grow(this.restSize, cap);
    }
    const need = this.pairCount + keys.length;
    if (need > this.pairNext.length) {
      const cap = Math.max(need, Math.ceil(this.pairNext.length * 1.25) + 16);
      this.pairs = grow(this.pairs, 2 * cap);
      this.pairNext = grow(this.pairNext, cap);
    }
    for (const k of keys) {
      const p = this.pairCount++;
      const valueSym = this.symbol(labels[k]!);
      this.pairs[2 * p] = this.symbol(k);
      this.pairs[2 * p + 1] = valueSym;
      this.pairNext[p] = this.valueHead[valueSym]!;
      this.valueHead[valueSym] = p;
    }
    this.restStart[id + 1] = this.pairCount;
    this.restHash[id] = hash;
    if ((id + 1) * 4 > this.restTable.length * 3) {
      const old = this.restTable;
      this.restTable = new Int32Array(old.length * 2);
      for (const v of old) if (v !== 0) this.placeRest(v - 1);
    }
    this.placeRest(id);
    return id;
  }

  private placeRest(id: number): void {
    const mask = this.restTable.length - 1;
    let i = this.restHash[id]! & mask;
    while (this.restTable[i] !== 0) i = (i + 1) & mask;
    this.restTable[i] = id + 1;
  }

  private symbol(s: string): number {
    let sym = this.symbols.get(s);
    if (sym === undefined) {
      sym = this.text.length;
      this.symbols.set(s, sym);
      this.text.push(s);
      this.symbolBytes += 40 + 24 + 2 * s.length + 8;
      if (sym >= this.nameHead.length) {
        const cap = Math.ceil(this.nameHead.length * 1.25) + 16;
        this.nameHead = grow(this.nameHead, cap, END);
        this.nameTail = grow(this.nameTail, cap, END);
        this.nameCount = grow(this.nameCount, cap);
        this.valueHead = grow(this.valueHead, cap, END);
      }
    }
    return sym;
  }
}

/** The label names of a set but `__name__` and empty values, sorted. Throws without a name. */
function restKeys(labels: Labels): string[] {
  if (!labels.__name__) throw new Error(`series labels need a non-empty __name__: ${JSON.stringify(labels)}`);
  return Object.keys(labels)
    .filter((k) => k !== "__name__" && labels[k] !== "")
    .sort();
}

function hashRest(keys: readonly string[], labels: Labels): number {
  let hash = 0x811c9dc5;
  for (const k of keys) hash = fnv(fnv(hash, k), labels[k]!);
  return hash | 0;
}

/** FNV-1a over a string's UTF-16 units, then a separator. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ 0xffff, 0x01000193) >>> 0;
}

function grow(a: Int32Array, cap: number, fill?: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a.subarray(0, Math.min(a.length, cap)));
  if (fill !== undefined && cap > a.length) b.fill(fill, a.length);
  return b;
}
