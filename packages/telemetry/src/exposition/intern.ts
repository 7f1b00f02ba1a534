/**
 * A bounded table of strings read from pages, so that the names and label values repeated on
 * every line of a page, and on every scrape of a target, are the same string without slicing the
 * page again. Lookups hash the characters as the scanner reads them. The table starts small and
 * doubles up to a fixed size; once that is half full new strings are copied and not kept, so a
 * hostile page cannot grow it.
 */
export class InternTable {
  private keys: (string | undefined)[];
  private hashes: Int32Array;
  private mask: number;
  private size = 0;
  private readonly maxCapacity: number;

  constructor(maxCapacityLog2 = 15) {
    this.maxCapacity = 1 << maxCapacityLog2;
    this.keys = new Array<string | undefined>(256).fill(undefined);
    this.hashes = new Int32Array(256);
    this.mask = 255;
  }

  /** The string `text[start, end)`. */
  get(text: string, start: number, end: number): string {
    const hash = sampledHash(text, start, end);
    const len = end - start;
    const keys = this.keys;
    let i = hash & this.mask;
    for (;;) {
      const k = keys[i];
      if (k === undefined) return this.add(text, start, end, hash, i);
      // A slice and a native comparison beat comparing in place with charCodeAt.
      if (this.hashes[i] === hash && k.length === len && text.slice(start, end) === k) return k;
      i = (i + 1) & this.mask;
    }
  }

  private add(text: string, start: number, end: number, hash: number, slot: number): string {
    const capacity = this.mask + 1;
    const s = copyString(text, start, end);
    if (2 * (this.size + 1) <= capacity) {
      this.keys[slot] = s;
      this.hashes[slot] = hash;
      this.size++;
    } else if (capacity < this.maxCapacity) {
      this.grow();
      this.place(s, hash);
      this.size++;
    }
    // Full: not kept here, but still a copy, as the scanner may remember it.
    return s;
  }

  private grow(): void {
    const { keys, hashes } = this;
    const n = keys.length * 2;
    this.keys = new Array<string | undefined>(n).fill(undefined);
    this.hashes = new Int32Array(n);
    this.mask = n - 1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k !== undefined) this.place(k, hashes[i]!);
    }
  }

  private place(s: string, hash: number): void {
    let i = hash & this.mask;
    while (this.keys[i] !== undefined) i = (i + 1) & this.mask;
    this.keys[i] = s;
    this.hashes[i] = hash;
  }
}

/**
 * `text[start, end)` as a string of its own. V8 makes a slice of 13 characters or more a view
 * into the page, which would keep the page alive for as long as the slice is kept; a slice of a
 * concatenation is cut from a new flat copy of it instead, which holds only these characters (and
 * is four times cheaper than a JSON round trip).
 */
export function copyString(text: string, start: number, end: number): string {
  return end - start < 13 ? text.slice(start, end) : ` ${text.slice(start, end)}`.slice(1);
}

/**
 * FNV-1a over the length and at most 20 characters (the first 8, 4 from the middle, the last 8):
 * names and label values on a page share long prefixes and differ at the ends, and a collision
 * costs one comparison, while hashing every character would cost as much as the scan itself.
 */
function sampledHash(t: string, start: number, end: number): number {
  const len = end - start;
  let h = Math.imul(0x811c9dc5 ^ len, 0x01000193);
  if (len <= 20) {
    for (let j = start; j < end; j++) h = Math.imul(h ^ t.charCodeAt(j), 0x01000193);
    return h;
  }
  for (let j = start; j < start + 8; j++) h = Math.imul(h ^ t.charCodeAt(j), 0x01000193);
  const mid = start + (len >> 1) - 2;
  for (let j = mid; j < mid + 4; j++) h = Math.imul(h ^ t.charCodeAt(j), 0x01000193);
  for (let j = end - 8; j < end; j++) h = Math.imul(h ^ t.charCodeAt(j), 0x01000193);
  return h;
}
