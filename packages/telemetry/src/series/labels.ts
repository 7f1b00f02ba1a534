/**
 * The series index: label sets interned as symbols, one series = (metric name, rest-of-labels set).
 * Series of one entity share every label but `__name__` (a GPU's ~35 dcgm fields), so the rest
 * set is stored and indexed once for all of them and a series costs two symbols plus a hash slot.
 * Postings (label pair → rest sets, name → series) answer selectors the way Prometheus' index
 * does: intersect the equality matchers, then filter by the rest.
 */

/** A label set, Prometheus style: `{__name__: "DCGM_FI_DEV_POWER_USAGE", entity: "gpu:r01-dgx1/3"}`. */
export type Labels = Readonly<Record<string, string>>;

/** One PromQL label matcher; regexes are fully anchored, as in PromQL. */
export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

const EMPTY: readonly number[] = [];

export class LabelIndex {
  size = 0;
  private readonly symbols = new Map<string, number>();
  private readonly text: string[] = [];
  private symbolBytes = 0;
  /** Rest sets by a hash of their labels (candidates are compared pair by pair, so collisions are harmless). */
  private readonly restIds = new Map<number, number[]>();
  private readonly restPairs: Int32Array[] = [];
  private readonly restRefs: number[][] = [];
  private restBytes = 0;
  private nameOf = new Int32Array(256);
  private restOf = new Int32Array(256);
  /** Open addressing, ref + 1 per slot (0: empty), at most 3/4 full. */
  private table = new Int32Array(1024);
  private readonly byNameSym = new Map<number, number[]>();
  private readonly postings = new Map<number, Map<number, number[]>>();

  getOrCreate(labels: Labels): number {
    const { nameSym, restId } = this.resolve(labels, true);
    let slot = this.slot(nameSym, restId);
    if (this.table[slot] !== 0) return this.table[slot]! - 1;
    const ref = this.size++;
    if (ref >= this.nameOf.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(Math.ceil(a.length * 1.125) + 64);
        b.set(a);
        return b;
      };
      this.nameOf = grow(this.nameOf);
      this.restOf = grow(this.restOf);
    }
    this.nameOf[ref] = nameSym;
    this.restOf[ref] = restId;
    if (this.size * 4 > this.table.length * 3) {
      this.rehash();
      slot = this.slot(nameSym, restId);
    }
    this.table[slot] = ref + 1;
    push(this.byNameSym, nameSym, ref);
    this.restRefs[restId]!.push(ref);
    return ref;
  }

  /** The label set of `ref` less `__name__`, as a dense id: series of one entity share it. */
  restIdOf(ref: number): number {
    return this.restOf[ref]!;
  }

  get(labels: Labels): number | undefined {
    const { nameSym, restId } = this.resolve(labels, false);
    if (nameSym < 0 || restId < 0) return undefined;
    const v = this.table[this.slot(nameSym, restId)]!;
    return v === 0 ? undefined : v - 1;
  }

  labels(ref: number): Labels {
    const out: Record<string, string> = { __name__: this.text[this.nameOf[ref]!]! };
    const pairs = this.restPairs[this.restOf[ref]!]!;
    for (let i = 0; i < pairs.length; i += 2) out[this.text[pairs[i]!]!] = this.text[pairs[i + 1]!]!;
    return out;
  }

  byName(name: string): number[] {
    const sym = this.symbols.get(name);
    return sym === undefined ? [] : (this.byNameSym.get(sym) ?? []).slice();
  }

  select(matchers: readonly Matcher[]): number[] {
    let rests: Set<number> | undefined;
    let nameRefs: readonly number[] | undefined;
    for (const m of matchers) {
      if (m.op !== "=" || m.value === "") continue;
      const valueSym = this.symbols.get(m.value);
      if (m.name === "__name__") {
        nameRefs = valueSym === undefined ? EMPTY : (this.byNameSym.get(valueSym) ?? EMPTY);
        continue;
      }
      const nameSym = this.symbols.get(m.name);
      const list =
        nameSym === undefined || valueSym === undefined
          ? EMPTY
          : (this.postings.get(nameSym)?.get(valueSym) ?? EMPTY);
      rests = rests ? new Set(list.filter((r) => rests!.has(r))) : new Set(list);
    }
    let candidates: readonly number[];
    if (nameRefs) candidates = rests ? nameRefs.filter((r) => rests!.has(this.restOf[r]!)) : nameRefs;
    else if (rests) candidates = [...rests].flatMap((r) => this.restRefs[r]!);
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
    const pairs = this.restPairs[this.restOf[ref]!]!;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === sym) return this.text[pairs[i + 1]!]!;
    return "";
  }

  /**
   * Bytes held: typed arrays exactly; strings, Maps and arrays estimated from V8's layout (a string
   * 2 bytes a character plus a 24-byte header, a Map entry ~40 bytes, an array element 8 bytes).
   */
  bytes(): number {
    return (
      this.table.byteLength +
      this.nameOf.byteLength +
      this.restOf.byteLength +
      this.symbolBytes +
      this.restBytes +
      (this.size + this.byNameSym.size * 4) * 8
    );
  }

  private resolve(labels: Labels, create: boolean): { nameSym: number; restId: number } {
    const name = labels.__name__;
    if (!name) throw new Error(`series labels need a non-empty __name__: ${JSON.stringify(labels)}`);
    const keys = Object.keys(labels)
      .filter((k) => k !== "__name__" && labels[k] !== "")
      .sort();
    let hash = 0x811c9dc5;
    for (const k of keys) hash = fnv(fnv(hash, k), labels[k]!);
    let restId = this.findRest(hash, keys, labels);
    if (restId === undefined) {
      if (!create) return { nameSym: -1, restId: -1 };
      restId = this.restPairs.length;
      const pairs = new Int32Array(keys.length * 2);
      keys.forEach((k, i) => {
        pairs[2 * i] = this.symbol(k);
        pairs[2 * i + 1] = this.symbol(labels[k]!);
        let values = this.postings.get(pairs[2 * i]!);
        if (!values) {
          values = new Map();
          this.postings.set(pairs[2 * i]!, values);
        }
        push(values, pairs[2 * i + 1]!, restId!);
      });
      push(this.restIds, hash, restId);
      this.restPairs.push(pairs);
      this.restRefs.push([]);
      this.restBytes += 40 + 32 + 96 + pairs.byteLength + 32 + keys.length * 48;
    }
    const nameSym = create ? this.symbol(name) : (this.symbols.get(name) ?? -1);
    return { nameSym, restId };
  }

  private findRest(hash: number, keys: readonly string[], labels: Labels): number | undefined {
    for (const id of this.restIds.get(hash) ?? EMPTY) {
      const pairs = this.restPairs[id]!;
      if (pairs.length !== keys.length * 2) continue;
      if (keys.every((k, i) => this.text[pairs[2 * i]!] === k && this.text[pairs[2 * i + 1]!] === labels[k]))
        return id;
    }
    return undefined;
  }

  private symbol(s: string): number {
    let sym = this.symbols.get(s);
    if (sym === undefined) {
      sym = this.text.length;
      this.symbols.set(s, sym);
      this.text.push(s);
      this.symbolBytes += 40 + 24 + 2 * s.length + 8;
    }
    return sym;
  }

  private slot(nameSym: number, restId: number): number {
    const mask = this.table.length - 1;
    let h = (Math.imul(nameSym, 0x9e3779b1) ^ Math.imul(restId + 1, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.table[i]!;
      if (v === 0 || (this.nameOf[v - 1] === nameSym && this.restOf[v - 1] === restId)) return i;
    }
  }

  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    for (const v of old) if (v !== 0) this.table[this.slot(this.nameOf[v - 1]!, this.restOf[v - 1]!)] = v;
  }
}

/** A PromQL regex matcher's pattern, anchored at both ends as PromQL does. */
function anchored(m: Matcher): RegExp {
  try {
    return new RegExp(`^(?:${m.value})$`);
  } catch (err) {
    throw new Error(
      `bad regex in matcher ${m.name}${m.op}${JSON.stringify(m.value)}: ${(err as Error).message}`,
    );
  }
}

/** FNV-1a over a string's UTF-16 units, then a separator. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ 0xffff, 0x01000193) >>> 0;
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Parses a PromQL series selector: `name{a="x", b!="y", c=~"z.*", d!~"w"}`, `name`, or
 * `{__name__=~"DCGM_.*"}`. Throws an Error naming the position of the first bad character.
 */
export function parseSelector(text: string): Matcher[] {
  const out: Matcher[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`bad selector ${JSON.stringify(text)} at ${i}: ${what}`);
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const ident = (re: RegExp): string => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return "";
    i += m[0].length;
    return m[0];
  };
  skip();
  const name = ident(/[a-zA-Z_:][a-zA-Z0-9_:]*/y);
  if (name) out.push({ name: "__name__", op: "=", value: name });
  skip();
  if (text[i] === "{") {
    i++;
    for (;;) {
      skip();
      if (text[i] === "}") break;
      const label = ident(/[a-zA-Z_][a-zA-Z0-9_]*/y) || fail("expected a label name");
      skip();
      const op = (ident(/=~|!~|!=|=/y) || fail("expected =, !=, =~ or !~")) as Matcher["op"];
      skip();
      if (text[i] !== '"') fail("expected a double-quoted value");
      let value = "";
      for (i++; text[i] !== '"'; i++) {
        if (i >= text.length) fail("unterminated string");
        if (text[i] === "\\") {
          i++;
          value += text[i] === "n" ? "\n" : text[i];
        } else value += text[i];
      }
      i++;
      out.push({ name: label, op, value });
      skip();
      if (text[i] === ",") i++;
      else if (text[i] !== "}") fail("expected , or }");
    }
    i++;
  }
  skip();
  if (i < text.length) fail("unexpected text");
  if (out.length === 0) fail("empty selector");
  return out;
}
