/**
 * Per-series columns (struct of arrays indexed by SeriesRef): what an append needs to encode the next
 * sample of a series without touching its chunk bytes, and what an instant query at "now" answers
 * from. About 40 bytes a series; growth is by 1.125× so capacity slack stays small.
 */

/** "No value" in the Uint32 columns. */
export const NONE = 0xffffffff;
/** tzMin before any non-zero value of the chunk. */
export const TZ_UNSET = 0xff;

export class SeriesState {
  capacity = 0;
  /** Scrape group the series is bound to, -1 before its first append. */
  group = new Int32Array(0);
  /** Absolute index, in its group's timestamp column, of the series' newest sample (NONE if none). */
  lastIdx = new Uint32Array(0);
  /** Newest value: the fast path of instant queries, and the predictor of the next sample. */
  lastValue = new Float64Array(0);
  /** Previous first difference of the scaled integer (delta-of-delta predictor). */
  prevDelta = new Float64Array(0);
  /** Word offset of the open chunk in the group's head arena (NONE: no open chunk). */
  headOff = new Uint32Array(0);
  /** Words reserved for the open chunk; after a seal, the predicted size of the next one. */
  headCap = new Uint16Array(0);
  /** Bits written to the open chunk. */
  headBits = new Uint16Array(0);
  /** Bits 0-4: decimal exponent code; bit 5: XOR (Gorilla) mode; bit 6: delta-of-delta order; bit 7: linked to a reference series. */
  mode = new Uint8Array(0);
  /** Fewest trailing decimal zeros of the scaled integers in this chunk (lets the exponent shrink). */
  tzMin = new Uint8Array(0);
  /** Adaptive Rice parameter, 4× the running mean bit length of residuals. */
  kState = new Uint8Array(0);
  /** Zero residuals not yet written (a run, flushed before the next non-zero residual). */
  pending = new Uint8Array(0);
  /** Gorilla XOR window of the previous value: leading zeros and meaningful bit count. */
  xorLead = new Uint8Array(0);
  xorLen = new Uint8Array(0);
  /** Bits delta-of-delta saved over first differences since the last order switch (positive: dod wins). */
  score = new Int16Array(0);

  ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, Math.ceil(this.capacity * 1.125), 256);
    const grow = <T extends Int32Array | Uint32Array | Float64Array | Uint16Array | Uint8Array | Int16Array>(
      a: T,
      fill?: number,
    ): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      if (fill !== undefined) b.fill(fill, a.length);
      return b;
    };
    this.group = grow(this.group, -1);
    this.lastIdx = grow(this.lastIdx, NONE);
    this.lastValue = grow(this.lastValue);
    this.prevDelta = grow(this.prevDelta);
    this.headOff = grow(this.headOff, NONE);
    this.headCap = grow(this.headCap);
    this.headBits = grow(this.headBits);
    this.mode = grow(this.mode);
    this.tzMin = grow(this.tzMin, TZ_UNSET);
    this.kState = grow(this.kState);
    this.pending = grow(this.pending);
    this.xorLead = grow(this.xorLead);
    this.xorLen = grow(this.xorLen);
    this.score = grow(this.score);
    this.capacity = cap;
  }

  bytes(): number {
    return this.capacity * 40;
  }
}
