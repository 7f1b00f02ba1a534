/**
 * The live series store (see types.ts for the contract). Layout:
 * - a scrape group owns a timestamp column: the open chunk's timestamps as a Float64Array, sealed
 *   chunks' as delta-of-delta bits — so a series stores no timestamps at all, only values;
 * - each series has at most one open chunk, a bit stream in its group's head arena (codec.ts);
 * - when the group cuts (every chunkSamples scrapes), its open chunks are packed bit-tight into one
 *   Uint32Array with a sorted ref list and each stream's 16-bit length (framing.ts): ~2.5 bytes a
 *   series a chunk beyond its bits;
 * - retention drops whole sealed chunks, never rewriting one.
 */
import { BitReader, BitWriter, copyBits } from "./bits.ts";
import {
  ChunkDecoder,
  ChunkEncoder,
  type ChunkRef,
  decodeTimestamps,
  encodeTimestamps,
  type HeadArena,
  MODE_REF,
  readChunkRef,
} from "./codec.ts";
import { type Framing, frame, streamStart } from "./framing.ts";
import { LabelIndex } from "./labels.ts";
import { extrapolatedIncrease } from "./promql.ts";
import { recodeWithReferences } from "./refs.ts";
import { type Labels, type Matcher, parseSelector } from "./selector.ts";
import { NONE, SeriesState } from "./state.ts";
import type {
  GroupRef,
  RejectReason,
  SeriesRange,
  SeriesRef,
  SeriesStore,
  SeriesStoreOptions,
  SeriesStoreStats,
  SeriesSum,
} from "./types.ts";

interface SealedChunk {
  /** Absolute index of the first timestamp in the group's column. */
  startIdx: number;
  count: number;
  minTs: number;
  maxTs: number;
  samples: number;
  ts: Uint32Array;
  /** Member series, ascending; shared with the previous chunk when unchanged. */
  refs: Int32Array;
  /** Where each member's stream lies in `data` (framing.ts). */
  framing: Framing;
  data: Uint32Array;
}

interface Group {
  key: string;
  lastTs: number;
  sealed: SealedChunk[];
  headStart: number;
  headTs: Float64Array;
  headCount: number;
  headSamples: number;
  members: number[];
  arena: HeadArena;
  mustCut: boolean;
}

const MAX_TIMESTAMP = 2 ** 52;
const SCRATCH = 256;

/** Creates an empty live series store. */
export function createSeriesStore(options: SeriesStoreOptions = {}): SeriesStore {
  return new Store(options);
}

class Store implements SeriesStore {
  private readonly retentionMs: number;
  private readonly lookbackMs: number;
  private readonly chunkSamples: number;
  private readonly chunkSpanMs: number;
  private readonly index = new LabelIndex();
  private readonly s = new SeriesState();
  private readonly encoder = new ChunkEncoder(this.s);
  private readonly decoder = new ChunkDecoder();
  private readonly groups: Group[] = [];
  private readonly groupIds = new Map<string, number>();
  private readonly stale = new Map<number, number[]>();
  private readonly rejects: Record<RejectReason, number> = {
    "out-of-order": 0,
    duplicate: 0,
    "bad-timestamp": 0,
    "too-old": 0,
    "unknown-series": 0,
    "wrong-group": 0,
  };
  private newestTs = Number.NEGATIVE_INFINITY;
  private nextSweepTs = Number.NEGATIVE_INFINITY;
  // Decode scratch: one chunk's samples, and the timestamps of the chunk they index into.
  private readonly rel = new Int32Array(SCRATCH);
  private readonly val = new Float64Array(SCRATCH);
  private readonly tsScratch = new Float64Array(SCRATCH);
  private tsCached: SealedChunk | undefined;
  private chunkTs: Float64Array = this.tsScratch;
  // Output of collect(), grown on demand.
  private outTs = new Float64Array(1024);
  private outVal = new Float64Array(1024);
  // A referencing chunk's reference, decoded first.
  private readonly xRel = new Int32Array(SCRATCH);
  private readonly xVal = new Float64Array(SCRATCH);
  private readonly chunkRef: ChunkRef = { x: -1, beta: 0 };
  private later = new Int32Array(256);

  constructor(options: SeriesStoreOptions) {
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.lookbackMs = options.lookbackMs ?? 300_000;
    this.chunkSamples = Math.min(250, Math.max(2, options.chunkSamples ?? 120));
    this.chunkSpanMs = options.chunkSpanMs ?? this.retentionMs / 3;
  }

  getOrCreate(labels: Labels): SeriesRef {
    const ref = this.index.getOrCreate(labels);
    this.s.ensure(this.index.size);
    return ref;
  }
  get(labels: Labels): SeriesRef | undefined {
    return this.index.get(labels);
  }
  labels(ref: SeriesRef): Labels {
    return this.index.labels(ref);
  }
  byName(name: string): SeriesRef[] {
    return this.index.byName(name);
  }
  byEntity(entity: string): SeriesRef[] {
    return this.index.select([{ name: "entity", op: "=", value: entity }]);
  }
  select(selector: string | readonly Matcher[]): SeriesRef[] {
    return this.index.select(typeof selector === "string" ? parseSelector(selector) : selector);
  }

  group(key: string): GroupRef {
    let id = this.groupIds.get(key);
    if (id === undefined) {
      id = this.groups.length;
      this.groupIds.set(key, id);
      this.groups.push({
        key,
        lastTs: Number.NEGATIVE_INFINITY,
        sealed: [],
        headStart: 0,
        headTs: new Float64Array(this.chunkSamples),
        headCount: 0,
        headSamples: 0,
        members: [],
        arena: { words: new Uint32Array(16), used: 0, garbage: 0 },
        mustCut: false,
      });
    }
    return id;
  }

  appendBatch(gid: GroupRef, ts: number, refs: ArrayLike<SeriesRef>, values: ArrayLike<number>): number {
    const g = this.groups[gid];
    const reason = g === undefined ? "unknown-series" : this.advance(g, ts);
    if (reason) {
      this.rejects[reason] += refs.length;
      return 0;
    }
    // Series predicted from another series of the group go second, so their reference's sample is there.
    let stored = 0;
    let deferred = 0;
    if (this.later.length < refs.length) this.later = new Int32Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      if (this.referencing(g!, gid, refs[i]!)) this.later[deferred++] = i;
      else if (this.put(g!, gid, refs[i]!, ts, values[i]!)) stored++;
    }
    for (let k = 0; k < deferred; k++) {
      const i = this.later[k]!;
      if (this.put(g!, gid, refs[i]!, ts, values[i]!)) stored++;
    }
    if (g!.arena.garbage * 8 > g!.arena.used) this.compactArena(g!);
    this.maybeSweep();
    return stored;
  }

  append(ref: SeriesRef, ts: number, value: number): boolean {
    if (!this.known(ref)) return false;
    let gid = this.s.group[ref]!;
    if (gid < 0) gid = this.group(`\u0000series:${ref}`);
    const g = this.groups[gid]!;
    const reason = this.advance(g, ts);
    if (reason) {
      this.rejects[reason]++;
      return false;
    }
    const ok = this.put(g, gid, ref, ts, value);
    this.maybeSweep();
    return ok;
  }

  markStale(ref: SeriesRef, ts: number): boolean {
    if (!this.known(ref)) return false;
    if (!Number.isInteger(ts) || ts < 0 || ts >= MAX_TIMESTAMP) return this.reject("bad-timestamp");
    const marks = this.stale.get(ref);
    const lastIdx = this.s.lastIdx[ref]!;
    const lastTs = lastIdx === NONE ? undefined : this.tsAt(this.groups[this.s.group[ref]!]!, lastIdx);
    if ((lastTs !== undefined && ts <= lastTs) || (marks && ts <= marks[marks.length - 1]!))
      return this.reject("out-of-order");
    if (marks) marks.push(ts);
    else this.stale.set(ref, [ts]);
    return true;
  }

  instant(ref: SeriesRef, atMs: number, lookbackMs = this.lookbackMs): number | undefined {
    const gid = this.s.group[ref];
    const lastIdx = this.s.lastIdx[ref];
    if (gid === undefined || gid < 0 || lastIdx === NONE) return undefined;
    const g = this.groups[gid]!;
    let t = this.tsAt(g, lastIdx!);
    let v = this.s.lastValue[ref]!;
    if (t === undefined || t > atMs) {
      // Older than the newest sample: walk chunks back from the one holding atMs.
      t = undefined;
      for (let ci = this.chunkAtOrBefore(g, atMs); ci >= 0 && t === undefined; ci--) {
        if (this.maxTs(g, ci) <= atMs - lookbackMs) break;
        const n = this.decodeChunk(g, ci, ref);
        for (let i = n - 1; i >= 0; i--) {
          const ti = this.chunkTs[this.rel[i]!]!;
          if (ti <= atMs) {
            t = ti;
            v = this.val[i]!;
            break;
          }
        }
      }
      if (t === undefined) return undefined;
    }
    if (t <= atMs - lookbackMs || this.staleIn(ref, t, atMs)) return undefined;
    return v;
  }

  range(ref: SeriesRef, startMs: number, endMs: number): SeriesRange {
    const n = this.collect(ref, startMs, endMs, false, true);
    return { timestampsMs: this.outTs.slice(0, n), values: this.outVal.slice(0, n) };
  }

  counterDelta(ref: SeriesRef, startMs: number, endMs: number): number | undefined {
    const n = this.collect(ref, startMs, endMs, true, false);
    if (n === 0) return undefined;
    const vals = this.outVal;
    let sum = 0;
    let prev = Number.NaN;
    for (let i = 0; i < n; i++) {
      const v = vals[i]!;
      if (Number.isNaN(v)) continue;
      if (!Number.isNaN(prev)) sum += v >= prev ? v - prev : v;
      prev = v;
    }
    return sum;
  }

  increase(ref: SeriesRef, startMs: number, endMs: number): number | undefined {
    const n = this.collect(ref, startMs, endMs, false, false);
    return extrapolatedIncrease(this.outTs, this.outVal, n, startMs, endMs);
  }

  rate(ref: SeriesRef, startMs: number, endMs: number): number | undefined {
    const inc = this.increase(ref, startMs, endMs);
    return inc === undefined ? undefined : inc / ((endMs - startMs) / 1000);
  }

  sumInstant(refs: ArrayLike<SeriesRef>, atMs: number, lookbackMs = this.lookbackMs): SeriesSum {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < refs.length; i++) {
      const v = this.instant(refs[i]!, atMs, lookbackMs);
      if (v === undefined || Number.isNaN(v)) continue;
      sum += v;
      count++;
    }
    return { sum, count };
  }

  sumCounterDelta(refs: ArrayLike<SeriesRef>, startMs: number, endMs: number): SeriesSum {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < refs.length; i++) {
      const v = this.counterDelta(refs[i]!, startMs, endMs);
      if (v === undefined) continue;
      sum += v;
      count++;
    }
    return { sum, count };
  }

  applyRetention(): void {
    const cutoff = this.newestTs - this.retentionMs;
    for (const g of this.groups) this.trim(g, cutoff);
    for (const [ref, marks] of this.stale) {
      const keep = marks.filter((t) => t >= cutoff);
      if (keep.length === 0) this.stale.delete(ref);
      else if (keep.length < marks.length) this.stale.set(ref, keep);
    }
  }

  stats(): SeriesStoreStats {
    let samples = 0;
    let sealedBytes = 0;
    let openBytes = 0;
    const seen = new Set<Int32Array>();
    const active = new Set<number>();
    for (const g of this.groups) {
      openBytes += g.arena.words.byteLength + g.headTs.byteLength + 200;
      samples += g.headSamples;
      for (const r of g.members) active.add(r);
      for (const c of g.sealed) {
        samples += c.samples;
        // Typed arrays: their bytes plus ~100 bytes of object and buffer headers each; the chunk object.
        sealedBytes += c.ts.byteLength + c.framing.byteLength + c.data.byteLength + 3 * 100 + 120;
        if (!seen.has(c.refs)) {
          seen.add(c.refs);
          sealedBytes += c.refs.byteLength + 100;
          for (const r of c.refs) active.add(r);
        }
      }
    }
    let staleBytes = 0;
    for (const marks of this.stale.values()) staleBytes += 64 + marks.length * 8;
    const seriesState = this.s.bytes();
    const index = this.index.bytes();
    const bytes = sealedBytes + openBytes + seriesState + index + staleBytes;
    return {
      series: this.index.size,
      activeSeries: active.size,
      samples,
      bytes,
      bytesPerSeries: active.size === 0 ? 0 : bytes / active.size,
      breakdown: { sealedChunks: sealedBytes, openChunks: openBytes, seriesState, index, stale: staleBytes },
      rejected: { ...this.rejects },
    };
  }

  // --- appends ---

  private known(ref: number): boolean {
    if (Number.isInteger(ref) && ref >= 0 && ref < this.index.size) return true;
    return this.reject("unknown-series");
  }

  private reject(reason: RejectReason): false {
    this.rejects[reason]++;
    return false;
  }

  /** Moves a group's column to `ts` (cutting its chunk when full), or says why it cannot. */
  private advance(g: Group, ts: number): RejectReason | undefined {
    if (!Number.isInteger(ts) || ts < 0 || ts >= MAX_TIMESTAMP) return "bad-timestamp";
    if (ts < g.lastTs) return "out-of-order";
    if (ts === g.lastTs) return undefined;
    if (ts < this.newestTs - this.retentionMs) return "too-old";
    if (
      g.headCount >= this.chunkSamples ||
      g.mustCut ||
      (g.headCount > 0 && ts - g.headTs[0]! >= this.chunkSpanMs)
    )
      this.seal(g);
    g.headTs[g.headCount++] = ts;
    g.lastTs = ts;
    if (ts > this.newestTs) this.newestTs = ts;
    return undefined;
  }

  private put(g: Group, gid: number, ref: number, ts: number, value: number): boolean {
    if (!this.known(ref)) return false;
    const s = this.s;
    const bound = s.group[ref]!;
    if (bound < 0) s.group[ref] = gid;
    else if (bound !== gid) return this.reject("wrong-group");
    const idx = g.headStart + g.headCount - 1;
    const last = s.lastIdx[ref]!;
    if (last !== NONE && last >= idx) return this.reject("duplicate");
    if (this.stale.size > 0) {
      const marks = this.stale.get(ref);
      if (marks && marks[marks.length - 1]! >= ts) return this.reject("out-of-order");
    }
    let open: ChunkRef | undefined;
    if (s.headOff[ref] === NONE) {
      g.members.push(ref);
      open = this.lastChunkRef(g, ref);
    }
    if (this.encoder.append(ref, g.arena, g.headStart, idx, value, undefined, open)) g.mustCut = true;
    g.headSamples++;
    return true;
  }

  /** True when `ref`'s open chunk is (or its next one will be) predicted from another series of `g`. */
  private referencing(g: Group, gid: number, ref: number): boolean {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.index.size) return false;
    if (this.s.headOff[ref] !== NONE) return (this.s.mode[ref]! & MODE_REF) !== 0;
    return this.s.group[ref] === gid && this.lastChunkRef(g, ref) !== undefined;
  }

  /** The reference `ref` used in its group's newest sealed chunk: where its next chunk starts. */
  private lastChunkRef(g: Group, ref: number): ChunkRef | undefined {
    const c = g.sealed[g.sealed.length - 1];
    if (!c || c.startIdx + c.count !== g.headStart) return undefined;
    const i = search(c.refs, ref);
    if (i < 0) return undefined;
    const out = readChunkRef(c.data, streamStart(c.framing, c.refs.length, i), ref, this.chunkRef);
    return out.x >= 0 ? out : undefined;
  }

  /** Packs a group's open chunks into one sealed chunk, re-encoding noisy series against references. */
  private seal(g: Group): void {
    const n = g.headCount;
    if (n === 0) return;
    const s = this.s;
    const members = g.members.sort((a, b) => a - b);
    const offs = new Uint32Array(members.length);
    const bits = new Uint32Array(members.length);
    members.forEach((ref, i) => {
      offs[i] = s.headOff[ref]!;
      bits[i] = s.headBits[ref]!;
    });
    const recoded = recodeWithReferences({
      s,
      encoder: this.encoder,
      decoder: this.decoder,
      arena: g.arena,
      chunkStart: g.headStart,
      count: n,
      members,
      offs,
      bits,
      entityOf: (ref) => this.index.restIdOf(ref),
    });
    let totalBits = 0;
    members.forEach((_, i) => {
      totalBits += recoded.get(i)?.bits ?? bits[i]!;
    });
    const w = new BitWriter(0);
    w.buf = new Uint32Array((totalBits + 31) >>> 5);
    const r = new BitReader();
    const lens = new Uint32Array(members.length);
    let nextArena = 16;
    members.forEach((ref, i) => {
      const stream = recoded.get(i);
      const len = stream ? stream.bits : bits[i]!;
      if (stream) r.reset(stream.words, 0);
      else r.reset(g.arena.words, offs[i]! * 32);
      copyBits(r, w, len);
      lens[i] = len;
      // The next chunk of this series likely needs as many words as this one: reserve exactly
      // that; a chunk that outgrows it moves (growing by 1/4), and compaction reclaims the gaps.
      const cap = Math.min(0xffff, (len + 31) >>> 5);
      s.headCap[ref] = cap;
      s.headOff[ref] = NONE;
      s.headBits[ref] = 0;
      nextArena += cap;
    });
    const prev = g.sealed[g.sealed.length - 1];
    const refs =
      prev && prev.refs.length === members.length && members.every((m, i) => prev.refs[i] === m)
        ? prev.refs
        : Int32Array.from(members);
    g.sealed.push({
      startIdx: g.headStart,
      count: n,
      minTs: g.headTs[0]!,
      maxTs: g.headTs[n - 1]!,
      samples: g.headSamples,
      ts: encodeTimestamps(g.headTs, n),
      refs,
      framing: frame(lens, members.length),
      data: w.buf,
    });
    g.headStart += n;
    g.headCount = 0;
    g.headSamples = 0;
    g.members = [];
    g.arena = { words: new Uint32Array(nextArena), used: 0, garbage: 0 };
    g.mustCut = false;
    this.trim(g, this.newestTs - this.retentionMs);
  }

  /** Rewrites a group's head arena without the slots chunks moved out of, leaving ~1/16 headroom each. */
  private compactArena(g: Group): void {
    const s = this.s;
    let total = 0;
    for (const ref of g.members) {
      const used = (s.headBits[ref]! + 31) >>> 5;
      s.headCap[ref] = Math.min(0xffff, used + (used >>> 4));
      total += s.headCap[ref]!;
    }
    const words = new Uint32Array(total + 16);
    let at = 0;
    for (const ref of g.members) {
      const off = s.headOff[ref]!;
      words.set(g.arena.words.subarray(off, off + ((s.headBits[ref]! + 31) >>> 5)), at);
      s.headOff[ref] = at;
      at += s.headCap[ref]!;
    }
    g.arena = { words, used: at, garbage: 0 };
  }

  private maybeSweep(): void {
    if (this.newestTs < this.nextSweepTs) return;
    this.nextSweepTs = this.newestTs + Math.min(this.chunkSpanMs, this.retentionMs / 4);
    this.applyRetention();
  }

  /** Drops a group's chunks whose newest timestamp is before `cutoff`. */
  private trim(g: Group, cutoff: number): void {
    let drop = 0;
    while (drop < g.sealed.length && g.sealed[drop]!.maxTs < cutoff) drop++;
    if (drop > 0) g.sealed.splice(0, drop);
    if (g.headCount > 0 && g.lastTs < cutoff) {
      for (const ref of g.members) {
        this.s.headOff[ref] = NONE;
        this.s.headBits[ref] = 0;
      }
      g.headStart += g.headCount;
      g.headCount = 0;
      g.headSamples = 0;
      g.members = [];
      g.arena = { words: new Uint32Array(16), used: 0, garbage: 0 };
    }
  }

  // --- reads ---

  /** Chunks of a group are numbered 0..sealed.length-1, then the open one (if any). */
  private chunkCount(g: Group): number {
    return g.sealed.length + (g.headCount > 0 ? 1 : 0);
  }
  private minTs(g: Group, ci: number): number {
    return ci < g.sealed.length ? g.sealed[ci]!.minTs : g.headTs[0]!;
  }
  private maxTs(g: Group, ci: number): number {
    return ci < g.sealed.length ? g.sealed[ci]!.maxTs : g.headTs[g.headCount - 1]!;
  }

  /** The last chunk starting at or before `t` (-1 if none). */
  private chunkAtOrBefore(g: Group, t: number): number {
    let lo = 0;
    let hi = this.chunkCount(g) - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.minTs(g, mid) <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The timestamp at absolute column index `idx`, undefined once retention dropped it. */
  private tsAt(g: Group, idx: number): number | undefined {
    if (idx >= g.headStart) return idx < g.headStart + g.headCount ? g.headTs[idx - g.headStart] : undefined;
    let lo = 0;
    let hi = g.sealed.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = g.sealed[mid]!;
      if (idx < c.startIdx) hi = mid - 1;
      else if (idx >= c.startIdx + c.count) lo = mid + 1;
      else {
        this.loadTs(c);
        return this.chunkTs[idx - c.startIdx];
      }
    }
    return undefined;
  }

  private loadTs(c: SealedChunk): void {
    if (this.tsCached !== c) {
      decodeTimestamps(c.ts, c.count, this.tsScratch);
      this.tsCached = c;
    }
    this.chunkTs = this.tsScratch;
  }

  /** Decodes `ref`'s samples in chunk `ci` into rel/val, pointing chunkTs at the chunk's timestamps. */
  private decodeChunk(g: Group, ci: number, ref: number): number {
    const head = ci >= g.sealed.length;
    const c = head ? undefined : g.sealed[ci]!;
    const at = this.locate(c, ref);
    if (at < 0) return 0;
    if (c) this.loadTs(c);
    else this.chunkTs = g.headTs;
    const words = c ? c.data : g.arena.words;
    const x = readChunkRef(words, at, ref, this.chunkRef).x;
    if (x < 0) return this.decoder.decode(words, at, this.bitLen, this.rel, this.val);
    const len = this.bitLen;
    const xAt = this.locate(c, x);
    if (xAt < 0) throw new Error(`series ${ref} references ${x}, which has no chunk there`);
    const xn = this.decoder.decode(words, xAt, this.bitLen, this.xRel, this.xVal);
    return this.decoder.decode(
      words,
      at,
      len,
      this.rel,
      this.val,
      this.xRel.subarray(0, xn),
      this.xVal.subarray(0, xn),
    );
  }

  /** Bit offset of `ref`'s stream in sealed chunk `c` (the open chunk when undefined), -1 if none; its length in bitLen. */
  private locate(c: SealedChunk | undefined, ref: number): number {
    if (!c) {
      const off = this.s.headOff[ref]!;
      if (off === NONE) return -1;
      this.bitLen = this.s.headBits[ref]!;
      return off * 32;
    }
    const i = search(c.refs, ref);
    if (i < 0) return -1;
    this.bitLen = c.framing[i]!;
    return streamStart(c.framing, c.refs.length, i);
  }
  private bitLen = 0;

  /**
   * Samples of `ref` into outTs/outVal: those in [start, end] (`inclusive`) or (start, end], and
   * with `baseline` the newest sample at or before `start` first.
   */
  private collect(ref: number, start: number, end: number, baseline: boolean, inclusive: boolean): number {
    const gid = this.s.group[ref];
    if (gid === undefined || gid < 0) return 0;
    const g = this.groups[gid]!;
    let n = 0;
    const first = this.chunkAtOrBefore(g, start);
    if (baseline) {
      for (let ci = first; ci >= 0 && n === 0; ci--) {
        const k = this.decodeChunk(g, ci, ref);
        for (let i = k - 1; i >= 0; i--) {
          const t = this.chunkTs[this.rel[i]!]!;
          if (t <= start) {
            n = this.push(n, t, this.val[i]!);
            break;
          }
        }
      }
    }
    const count = this.chunkCount(g);
    for (let ci = Math.max(0, first); ci < count && this.minTs(g, ci) <= end; ci++) {
      if (this.maxTs(g, ci) < start) continue;
      const k = this.decodeChunk(g, ci, ref);
      for (let i = 0; i < k; i++) {
        const t = this.chunkTs[this.rel[i]!]!;
        if (t > end) break;
        if (t > start || (inclusive && t === start)) n = this.push(n, t, this.val[i]!);
      }
    }
    return n;
  }

  private push(n: number, t: number, v: number): number {
    if (n === this.outTs.length) {
      const ts = new Float64Array(n * 2);
      ts.set(this.outTs);
      this.outTs = ts;
      const vs = new Float64Array(n * 2);
      vs.set(this.outVal);
      this.outVal = vs;
    }
    this.outTs[n] = t;
    this.outVal[n] = v;
    return n + 1;
  }

  /** True when a staleness marker falls in (t, at]. */
  private staleIn(ref: number, t: number, at: number): boolean {
    const marks = this.stale.size > 0 ? this.stale.get(ref) : undefined;
    if (!marks) return false;
    for (let i = marks.length - 1; i >= 0; i--) {
      const m = marks[i]!;
      if (m <= t) return false;
      if (m <= at) return true;
    }
    return false;
  }
}

function search(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
