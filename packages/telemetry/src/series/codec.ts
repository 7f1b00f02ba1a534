/**
 * The chunk codec: one series' samples within one scrape-group chunk as a bit stream.
 *
 * Layout: a 26-bit header (span of group-column indices covered, start offset in the group chunk,
 * initial Rice state, predictor order, reference flag; with the flag, 16 bits naming the reference
 * series and its coefficient as 32-bit float bits), a restart (the first value in full), then pairs of
 * [run of exactly-predicted samples, Elias gamma][residual token]. Samples the predictor gets right
 * cost nothing beyond their run, so a constant series costs a few bits a chunk; the run still open
 * at the head lives in SeriesState.pending and the span, never in the stream.
 *
 * Values take one of two modes, chosen per chunk and switchable by an escape:
 * - decimal: v = m / 10^e exactly for an integer |m| < 2^53 and -16 ≤ e ≤ 15 (what Prometheus
 *   text pages carry: integers, counters, fixed decimals; a negative e drops trailing zeros, as in
 *   nanosecond counters that move in whole seconds). Residuals are first differences or delta-of-delta of m
 *   (the Gorilla timestamp idea applied to values, Pelkonen et al., "Gorilla", VLDB 2015, §4.1.1),
 *   zigzag- and adaptive-Rice-coded (the LOCO-I / FLAC parameter rule).
 * - xor: Gorilla's XOR of consecutive IEEE-754 doubles (VLDB 2015, §4.1.2) for everything else —
 *   NaN, ±Inf, -0, values no decimal exponent fits. Bit-exact by construction.
 * An escape (Rice code 0 in decimal mode, '00' in xor mode) is followed by an op: a restart in
 * either mode, a gap (indices the series skipped, e.g. while stale) then a restart, or a switch of
 * predictor order (first differences suit noisy gauges, delta-of-delta suits steady counters; the
 * encoder tracks what each would cost and switches when one is SWITCH_BITS ahead) then the
 * residual as a gamma code.
 *
 * Cross-series prediction: fields of one device move together (utilization, tensor activity,
 * memory activity, PCIe rates and power all follow the load). A referencing chunk names another
 * series x of the same scrape group, whose chunk spans the same column indices, and a coefficient
 * β: the decimal predictor adds β·(x_t − x_{t−1}) (first differences) or β·Δx on top of the
 * previous difference (delta-of-delta; a counter accumulating x), so what is left is rounding noise.
 * The state keeps p = Δ_{t−1}·[dod] − β·x_{t−1} and predicts m̂_t = m_{t−1} + round(p + β·x_t). The
 * link holds from the chunk's first sample until the first restart; the encoder escapes with a
 * zero gap and restarts when x has no sample at an index, so decoding never guesses. The reference
 * itself never references (one level), and the store chooses references when it seals a chunk.
 */
import { BitReader, BitWriter, bitLength, unzigzag, zigzag } from "./bits.ts";
import { NONE, type SeriesState, TZ_UNSET } from "./state.ts";

/** A group's open chunks share one word arena, rebuilt at every seal. */
export interface HeadArena {
  words: Uint32Array;
  used: number;
  /** Words left behind by chunks that moved to a larger slot. */
  garbage: number;
}

/** Mode bits 0-4: the decimal exponent code (see scaleToInt); bit 5: XOR; bit 6: delta-of-delta; bit 7: linked to a reference. */
export const MODE_E = 0x1f;
export const MODE_XOR = 0x20;
export const MODE_DOD = 0x40;
export const MODE_REF = 0x80;
/** Header bits before the optional reference fields. */
const HEADER_BITS = 26;
const OP_DECIMAL = 0;
const OP_XOR = 1;
const OP_GAP = 2;
const OP_ORDER = 3;
/** Bits one predictor order must save over the other before the stream switches (hysteresis). */
const SWITCH_BITS = 32;
/** Exact powers of ten (10^e is exact in a double up to e = 22). */
const POW10 = Array.from({ length: 17 }, (_, e) => 10 ** e);
const MAX_M = 2 ** 53;
const MAX_R = 2 ** 52;
/** Past this many bits an open chunk asks its group to cut (headBits is a Uint16). */
export const HEAD_BITS_LIMIT = 60_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

const riceK = (kState: number): number => Math.max(0, ((kState + 2) >> 2) - 1);
const nextK = (kState: number, u: number): number => kState + (((bitLength(u) << 2) - kState) >> 2);
const ctz = (x: number): number => 31 - Math.clz32(x & -x);

/** Exponent code c: 0-15 scale by 10^c (decimals), 16-31 by 10^-(c-15) (trailing zeros dropped). */
const exponentOf = (c: number): number => (c < 16 ? c : 15 - c);
const codeOf = (e: number): number => (e >= 0 ? e : 15 - e);

/** round(v · 10^e) for exponent code c. */
export function scaleToInt(v: number, c: number): number {
  return c < 16 ? Math.round(v * POW10[c]!) : Math.round(v / POW10[c - 15]!);
}
/** m · 10^-e for exponent code c, correctly rounded. */
export function scaleFromInt(m: number, c: number): number {
  return c < 16 ? m / POW10[c]! : m * POW10[c - 15]!;
}

/** m such that scaleFromInt(m, c) === v exactly, or NaN. */
function decimal(v: number, c: number): number {
  const m = scaleToInt(v, c);
  return scaleFromInt(m, c) === v && m < MAX_M && m > -MAX_M && (v !== 0 || 1 / v > 0) ? m : Number.NaN;
}

/** A chunk's reference: series `x` (-1: none) and coefficient `beta` (a float32 value). */
export interface ChunkRef {
  x: number;
  beta: number;
}

/** The reference named in the header of the chunk at `bitStart`, or x = -1. */
export function readChunkRef(words: Uint32Array, bitStart: number, self: number, out: ChunkRef): ChunkRef {
  const r = HEADER_READER;
  r.reset(words, bitStart + HEADER_BITS - 1);
  if (r.read(1) === 0) {
    out.x = -1;
    return out;
  }
  out.x = self - unzigzag(r.read(16));
  F32U[0] = r.read(32);
  out.beta = F32[0]!;
  return out;
}
const HEADER_READER = new BitReader();
const F32 = new Float32Array(1);
const F32U = new Uint32Array(F32.buffer);

/** Writes sample after sample into open chunks. */
export class ChunkEncoder {
  private readonly w = new BitWriter(48);
  private readonly f = new Float64Array(1);
  private readonly u = new Uint32Array(this.f.buffer);
  private readonly model: ChunkRef = { x: -1, beta: 0 };
  private restarted = false;
  constructor(private readonly s: SeriesState) {}

  /**
   * Appends the value at absolute group index `idx` (> the series' last index) for `ref`, opening
   * a chunk in `arena` when it has none; `chunkStart` is the group chunk's first index. `xv` is the
   * reference's value at `idx` (NaN: none); when undefined it is read from the reference's state.
   * `open` is the reference a new chunk should use. Returns true when the chunk is near its size
   * limit and the group should cut.
   */
  append(
    ref: number,
    arena: HeadArena,
    chunkStart: number,
    idx: number,
    v: number,
    xv?: number,
    open?: ChunkRef,
  ): boolean {
    const s = this.s;
    const w = this.w;
    if (s.headOff[ref] === NONE) return this.begin(ref, arena, chunkStart, idx, v, xv, open);
    const bits = s.headBits[ref]!;
    const shift = bits & 31;
    w.buf[0] = shift === 0 ? 0 : (arena.words[s.headOff[ref]! + (bits >>> 5)]! & (~0 << (32 - shift))) >>> 0;
    w.pos = shift;
    const gap = idx - s.lastIdx[ref]! - 1;
    const mode = s.mode[ref]!;
    let x = Number.NaN;
    if (mode & MODE_REF) {
      const m = readChunkRef(arena.words, s.headOff[ref]! * 32, ref, this.model);
      x = xv ?? (s.lastIdx[m.x] === idx ? s.lastValue[m.x]! : Number.NaN);
      if (!Number.isFinite(x)) x = Number.NaN;
    }
    this.restarted = false;
    if (gap > 0 || ((mode & MODE_REF) !== 0 && Number.isNaN(x))) {
      this.flush(ref);
      this.escape(ref);
      w.write(OP_GAP, 2);
      w.gamma(gap + 1);
      this.restart(ref, v);
    } else if (mode & MODE_XOR) this.xorValue(ref, v);
    else this.decimalValue(ref, v, x);
    if (this.restarted) this.relink(ref, arena, idx, xv);
    s.lastIdx[ref] = idx;
    s.lastValue[ref] = v;
    this.commit(ref, arena, shift);
    // Patch the span (first header byte) so the open chunk decodes like a sealed one.
    const off = s.headOff[ref]!;
    const head = arena.words[off]!;
    const span = idx - chunkStart - ((head >>> 16) & 0xff) + 1;
    arena.words[off] = ((head & 0x00ffffff) | (span << 24)) >>> 0;
    return s.headBits[ref]! > HEAD_BITS_LIMIT;
  }

  private begin(
    ref: number,
    arena: HeadArena,
    chunkStart: number,
    idx: number,
    v: number,
    xv: number | undefined,
    open: ChunkRef | undefined,
  ): boolean {
    const s = this.s;
    const w = this.w;
    // Order and exponent for this chunk come from what the previous chunk saw.
    const dod = (s.mode[ref]! & MODE_DOD) !== 0;
    let e = exponentOf(s.mode[ref]! & MODE_E);
    if (s.tzMin[ref]! !== TZ_UNSET) e = Math.max(-16, e - s.tzMin[ref]!);
    s.tzMin[ref] = TZ_UNSET;
    s.mode[ref] = (dod ? MODE_DOD : 0) | codeOf(e);
    s.pending[ref] = 0;
    const cap = Math.max(2, s.headCap[ref]!);
    s.headOff[ref] = alloc(arena, cap);
    s.headCap[ref] = cap;
    s.headBits[ref] = 0;
    let x = Number.NaN;
    const delta = open && open.x >= 0 ? zigzag(ref - open.x) : 0x10000;
    if (delta < 0x10000) {
      x = xv ?? (s.lastIdx[open!.x] === idx ? s.lastValue[open!.x]! : Number.NaN);
      if (!Number.isFinite(x)) x = Number.NaN;
    }
    const linked = !Number.isNaN(x);
    w.pos = 0;
    w.write(1, 8);
    w.write(idx - chunkStart, 8);
    w.write(s.kState[ref]!, 8);
    w.write(dod ? 1 : 0, 1);
    w.write(linked ? 1 : 0, 1);
    if (linked) {
      w.write(delta, 16);
      F32[0] = open!.beta;
      w.write(F32U[0]!, 32);
    }
    this.restart(ref, v);
    if (linked && !(s.mode[ref]! & MODE_XOR)) {
      s.mode[ref] = s.mode[ref]! | MODE_REF;
      s.prevDelta[ref] = -F32[0]! * x;
    }
    s.lastIdx[ref] = idx;
    s.lastValue[ref] = v;
    this.commit(ref, arena, 0);
    return false;
  }

  /** After a restart in a chunk that names a reference: one bit, set when the link resumes here. */
  private relink(ref: number, arena: HeadArena, idx: number, xv: number | undefined): void {
    const s = this.s;
    const m = readChunkRef(arena.words, s.headOff[ref]! * 32, ref, this.model);
    if (m.x < 0) return;
    const x = xv ?? (s.lastIdx[m.x] === idx ? s.lastValue[m.x]! : Number.NaN);
    const ok = Number.isFinite(x) && (s.mode[ref]! & MODE_XOR) === 0;
    this.w.write(ok ? 1 : 0, 1);
    if (!ok) return;
    s.mode[ref] = s.mode[ref]! | MODE_REF;
    s.prevDelta[ref] = -m.beta * x;
  }

  /** Copies the scratch words back into the chunk, moving it to a larger slot when full. */
  private commit(ref: number, arena: HeadArena, shift: number): void {
    const s = this.s;
    const w = this.w;
    const need = (w.pos + 31) >>> 5;
    const word = s.headBits[ref]! >>> 5;
    let off = s.headOff[ref]!;
    if (word + need > s.headCap[ref]!) {
      const cap = Math.min(0xffff, Math.max(word + need, s.headCap[ref]! + (s.headCap[ref]! >>> 2) + 1));
      const moved = alloc(arena, cap);
      arena.words.copyWithin(moved, off, off + word);
      arena.garbage += s.headCap[ref]!;
      s.headOff[ref] = off = moved;
      s.headCap[ref] = cap;
    }
    arena.words.set(w.buf.subarray(0, need), off + word);
    s.headBits[ref] = s.headBits[ref]! + w.pos - shift;
  }

  /** Writes the run of zero residuals before a residual token. */
  private flush(ref: number): void {
    this.w.gamma(this.s.pending[ref]! + 1);
    this.s.pending[ref] = 0;
  }

  private escape(ref: number): void {
    if (this.s.mode[ref]! & MODE_XOR) this.w.write(0, 2);
    else this.w.rice(0, riceK(this.s.kState[ref]!));
  }

  /** Writes `v` in full: decimal when some exponent fits it exactly, else raw IEEE-754 bits. Ends a reference link. */
  private restart(ref: number, v: number): void {
    const s = this.s;
    const w = this.w;
    const from = s.mode[ref]! & MODE_E;
    let e = from;
    let m = decimal(v, e);
    for (let t = 1; t < 32 && Number.isNaN(m); t++) {
      e = (from + t) & MODE_E;
      m = decimal(v, e);
    }
    const keep = s.mode[ref]! & MODE_DOD;
    s.prevDelta[ref] = 0;
    this.restarted = true;
    if (!Number.isNaN(m)) {
      w.write(OP_DECIMAL, 2);
      w.write(e, 5);
      w.write(m < 0 ? 1 : 0, 1);
      w.gamma(Math.abs(m) + 1);
      s.mode[ref] = keep | e;
      this.trailingZeros(ref, m);
    } else {
      w.write(OP_XOR, 2);
      this.f[0] = v;
      w.write(this.u[HI]!, 32);
      w.write(this.u[LO]!, 32);
      s.mode[ref] = keep | from | MODE_XOR;
      s.xorLead[ref] = 0;
      s.xorLen[ref] = 0;
    }
  }

  /** Tracks the fewest trailing decimal zeros of the chunk's scaled integers (the exponent may drop by that many). */
  private trailingZeros(ref: number, m: number): void {
    if (m === 0) return;
    let t = 0;
    const limit = Math.min(this.s.tzMin[ref]!, exponentOf(this.s.mode[ref]! & MODE_E) + 16);
    while (t < limit && m % 10 === 0) {
      m /= 10;
      t++;
    }
    this.s.tzMin[ref] = t;
  }

  private decimalValue(ref: number, v: number, x: number): void {
    const s = this.s;
    const mode = s.mode[ref]!;
    const c = mode & MODE_E;
    const m = scaleToInt(v, c);
    const mPrev = scaleToInt(s.lastValue[ref]!, c);
    const prevD = s.prevDelta[ref]!;
    const dod = (mode & MODE_DOD) !== 0;
    if (mode & MODE_REF) {
      const beta = this.model.beta;
      const pred = mPrev + Math.round(prevD + beta * x);
      const r = m - pred;
      if (
        !(
          scaleFromInt(m, c) === v &&
          Math.abs(m) < MAX_M &&
          (v !== 0 || 1 / v > 0) &&
          Math.abs(pred) < MAX_M &&
          Math.abs(r) < MAX_R &&
          pred + r === m
        )
      ) {
        this.flush(ref);
        this.escape(ref);
        this.restart(ref, v);
        return;
      }
      s.prevDelta[ref] = (dod ? m - mPrev : 0) - beta * x;
      this.trailingZeros(ref, m);
      this.residual(ref, r);
      return;
    }
    const d = m - mPrev;
    const r = dod ? d - prevD : d;
    const dd = dod ? prevD + r : r;
    if (
      !(
        scaleFromInt(m, c) === v &&
        Math.abs(m) < MAX_M &&
        (v !== 0 || 1 / v > 0) &&
        Math.abs(r) < MAX_R &&
        mPrev + dd === m
      )
    ) {
      this.flush(ref);
      this.escape(ref);
      this.restart(ref, v);
      return;
    }
    const other = dod ? d : d - prevD;
    const bitsR = r === 0 ? 0 : bitLength(zigzag(r));
    const bitsO = other === 0 ? 0 : bitLength(Math.min(MAX_M, zigzag(other)));
    // score: what delta-of-delta saved over first differences lately, in bits (positive: dod wins).
    const score = Math.max(-30000, Math.min(30000, s.score[ref]! + (dod ? bitsO - bitsR : bitsR - bitsO)));
    s.score[ref] = score;
    s.prevDelta[ref] = dd;
    this.trailingZeros(ref, m);
    if (
      (dod ? score < -SWITCH_BITS : score > SWITCH_BITS) &&
      Math.abs(other) < MAX_R &&
      mPrev + (dod ? other : prevD + other) === m
    ) {
      this.flush(ref);
      this.escape(ref);
      this.w.write(OP_ORDER, 2);
      this.w.gamma(zigzag(other) + 1);
      s.mode[ref] = mode ^ MODE_DOD;
      s.score[ref] = 0;
      return;
    }
    this.residual(ref, r);
  }

  private residual(ref: number, r: number): void {
    const s = this.s;
    if (r === 0) {
      s.pending[ref] = s.pending[ref]! + 1;
      return;
    }
    this.flush(ref);
    const u = zigzag(r);
    this.w.rice(u, riceK(s.kState[ref]!));
    s.kState[ref] = nextK(s.kState[ref]!, u);
  }

  private xorValue(ref: number, v: number): void {
    const s = this.s;
    const w = this.w;
    this.f[0] = s.lastValue[ref]!;
    const ph = this.u[HI]!;
    const pl = this.u[LO]!;
    this.f[0] = v;
    const xh = (this.u[HI]! ^ ph) >>> 0;
    const xl = (this.u[LO]! ^ pl) >>> 0;
    if (xh === 0 && xl === 0) {
      s.pending[ref] = s.pending[ref]! + 1;
      return;
    }
    this.flush(ref);
    const lead = Math.min(31, xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl));
    const trail = xl !== 0 ? ctz(xl) : 32 + ctz(xh);
    const wl = s.xorLead[ref]!;
    const wn = s.xorLen[ref]!;
    if (wn > 0 && lead >= wl && trail >= 64 - wl - wn) {
      w.write(1, 1);
      writeSlice(w, xh, xl, wl, wn);
    } else {
      const len = 64 - lead - trail;
      w.write(1, 2);
      w.write(lead, 5);
      w.write(len - 1, 6);
      writeSlice(w, xh, xl, lead, len);
      s.xorLead[ref] = lead;
      s.xorLen[ref] = len;
    }
  }
}

function alloc(arena: HeadArena, words: number): number {
  if (arena.used + words > arena.words.length) {
    const next = new Uint32Array(Math.max(arena.used + words, Math.ceil(arena.words.length * 1.125) + 16));
    next.set(arena.words.subarray(0, arena.used));
    arena.words = next;
  }
  const at = arena.used;
  arena.used += words;
  return at;
}

/** Writes bits [lead, lead+len) of the 64-bit word (hi, lo), counted from the top. */
function writeSlice(w: BitWriter, hi: number, lo: number, lead: number, len: number): void {
  const s = 64 - lead - len;
  let nh = hi;
  let nl = lo;
  if (s >= 32) {
    nl = hi >>> (s - 32);
    nh = 0;
  } else if (s > 0) {
    nl = ((lo >>> s) | (hi << (32 - s))) >>> 0;
    nh = hi >>> s;
  }
  if (len > 32) {
    w.write(nh, len - 32);
    w.write(nl, 32);
  } else w.write(nl, len);
}

/** Reads one series chunk back. One decoder per reader; not reentrant. */
export class ChunkDecoder {
  private readonly r = new BitReader();
  private readonly f = new Float64Array(1);
  private readonly u = new Uint32Array(this.f.buffer);
  private xor = false;
  private c = 0;
  private m = 0;
  private prevD = 0;
  private hi = 0;
  private lo = 0;
  private lead = 0;
  private len = 0;
  private v = 0;
  private linked = false;
  /** The header names a reference: every later restart carries a relink bit. */
  private named = false;
  private beta = 0;
  private xRel: Int32Array = new Int32Array(0);
  private xVal: Float64Array = new Float64Array(0);
  private xAt = 0;

  /**
   * Decodes the chunk at bits [bitStart, bitStart+bitLen) of `words`: each sample's index relative
   * to its group chunk's start into `rel`, its value into `val` (both ≥ 256 long). Returns the count.
   * A referencing chunk (see readChunkRef) needs its reference's decoded samples in `xRel`/`xVal`.
   */
  decode(
    words: Uint32Array,
    bitStart: number,
    bitLen: number,
    rel: Int32Array,
    val: Float64Array,
    xRel?: Int32Array,
    xVal?: Float64Array,
  ): number {
    const r = this.r;
    r.reset(words, bitStart);
    const end = bitStart + bitLen;
    const span = r.read(8);
    let idx = r.read(8);
    let kState = r.read(8);
    let dod = r.read(1) === 1;
    const linked = r.read(1) === 1;
    this.named = linked;
    if (linked) {
      r.read(16);
      F32U[0] = r.read(32);
      this.beta = F32[0]!;
      if (!xRel || !xVal) throw new Error("a referencing chunk needs its reference's samples");
      this.xRel = xRel;
      this.xVal = xVal;
      this.xAt = 0;
    }
    const last = idx + span - 1;
    this.restart(r.read(2));
    if (linked && !this.xor) {
      this.linked = true;
      this.prevD = -this.beta * this.xValue(idx);
    }
    let n = 0;
    rel[n] = idx;
    val[n++] = this.v;
    while (idx < last) {
      if (r.pos < end) {
        let run = r.gamma() - 1;
        while (run-- > 0) {
          this.predict(dod, ++idx, 0);
          rel[n] = idx;
          val[n++] = this.v;
        }
        idx++;
        let escaped = false;
        if (this.xor) {
          // '1': reuse the previous window; '01': a new window; '00': escape.
          const control = r.read(2);
          if (control >= 2) {
            r.pos--;
            this.xorResidual(this.lead, this.len);
          } else if (control === 1) {
            this.lead = r.read(5);
            this.len = r.read(6) + 1;
            this.xorResidual(this.lead, this.len);
          } else escaped = true;
        } else {
          const u = r.rice(riceK(kState));
          if (u === 0) escaped = true;
          else {
            kState = nextK(kState, u);
            this.predict(dod, idx, unzigzag(u));
          }
        }
        if (escaped) {
          let op = r.read(2);
          if (op === OP_ORDER) {
            dod = !dod;
            const res = unzigzag(r.gamma() - 1);
            const d = dod ? this.prevD + res : res;
            this.m += d;
            this.prevD = d;
            this.v = scaleFromInt(this.m, this.c);
          } else {
            if (op === OP_GAP) {
              idx += r.gamma() - 1;
              op = r.read(2);
            }
            this.restart(op);
            if (this.named && r.read(1) === 1) {
              this.linked = true;
              this.prevD = -this.beta * this.xValue(idx);
            }
          }
        }
      } else this.predict(dod, ++idx, 0);
      rel[n] = idx;
      val[n++] = this.v;
    }
    return n;
  }

  /** The next value from the predictor plus residual `res` (0 inside a run). */
  private predict(dod: boolean, idx: number, res: number): void {
    if (this.xor) return;
    if (this.linked) {
      const x = this.xValue(idx);
      const mPrev = this.m;
      this.m = mPrev + Math.round(this.prevD + this.beta * x) + res;
      this.prevD = (dod ? this.m - mPrev : 0) - this.beta * x;
    } else {
      const d = (dod ? this.prevD : 0) + res;
      this.m += d;
      this.prevD = d;
    }
    this.v = scaleFromInt(this.m, this.c);
  }

  /** The reference's value at column index `idx` (relative to the chunk). */
  private xValue(idx: number): number {
    const rel = this.xRel;
    while (this.xAt < rel.length && rel[this.xAt]! < idx) this.xAt++;
    return rel[this.xAt] === idx ? this.xVal[this.xAt]! : Number.NaN;
  }

  private restart(op: number): void {
    const r = this.r;
    this.prevD = 0;
    this.linked = false;
    if (op === OP_DECIMAL) {
      this.xor = false;
      this.c = r.read(5);
      const negative = r.read(1) === 1;
      const a = r.gamma() - 1;
      this.m = negative ? -a : a;
      this.v = scaleFromInt(this.m, this.c);
    } else {
      this.xor = true;
      this.hi = r.read(32);
      this.lo = r.read(32);
      this.lead = 0;
      this.len = 0;
      this.setBits();
    }
  }

  private xorResidual(lead: number, len: number): void {
    const r = this.r;
    const s = 64 - lead - len;
    let h = 0;
    let l: number;
    if (len > 32) {
      h = r.read(len - 32);
      l = r.read(32);
    } else l = r.read(len);
    let xh = h;
    let xl = l;
    if (s >= 32) {
      xh = (l << (s - 32)) >>> 0;
      xl = 0;
    } else if (s > 0) {
      xh = ((h << s) | (l >>> (32 - s))) >>> 0;
      xl = (l << s) >>> 0;
    }
    this.hi = (this.hi ^ xh) >>> 0;
    this.lo = (this.lo ^ xl) >>> 0;
    this.setBits();
  }

  private setBits(): void {
    this.u[HI] = this.hi;
    this.u[LO] = this.lo;
    this.v = this.f[0]!;
  }
}

/** Delta-of-delta timestamps of a sealed group chunk (Gorilla §4.1.1), gamma-coded: 1 bit each when regular. */
export function encodeTimestamps(ts: Float64Array, n: number): Uint32Array {
  const w = new BitWriter(4 + n * 4);
  w.writeBig(ts[0]!, 53);
  let prev = ts[0]!;
  let prevD = 0;
  for (let i = 1; i < n; i++) {
    const d = ts[i]! - prev;
    w.gamma(zigzag(d - prevD) + 1);
    prevD = d;
    prev = ts[i]!;
  }
  return w.buf.slice(0, (w.pos + 31) >>> 5);
}

export function decodeTimestamps(words: Uint32Array, n: number, out: Float64Array): void {
  const r = new BitReader();
  r.reset(words, 0);
  let prev = r.readBig(53);
  out[0] = prev;
  let d = 0;
  for (let i = 1; i < n; i++) {
    d += unzigzag(r.gamma() - 1);
    prev += d;
    out[i] = prev;
  }
}
