/**
 * Seal-time choice of reference series (see codec.ts, "Cross-series prediction"). When a group
 * cuts, the open chunks of its noisy series are decoded, and within each entity (series sharing
 * every label but `__name__`) a few bases are picked greedily: the series whose values, scaled by a
 * least-squares coefficient, predict the most bits away from the others. Bases are coded on their
 * own; the series they predict are re-encoded against them. The sealed chunk then carries each
 * choice in its headers, and the next open chunk of a series starts from the same choice.
 */
import { bitLength, zigzag } from "./bits.ts";
import {
  type ChunkDecoder,
  type ChunkEncoder,
  type ChunkRef,
  type HeadArena,
  MODE_DOD,
  MODE_E,
  MODE_XOR,
  readChunkRef,
  scaleFromInt,
  scaleToInt,
} from "./codec.ts";
import { NONE, type SeriesState, TZ_UNSET } from "./state.ts";

/** One member's chunk stream: `bits` bits from bit 0 of `words`. */
export interface Stream {
  words: Uint32Array;
  bits: number;
}

/** What the chooser needs from the store. */
export interface RecodeInput {
  s: SeriesState;
  encoder: ChunkEncoder;
  decoder: ChunkDecoder;
  /** The group's head arena and the chunk's first column index. */
  arena: HeadArena;
  chunkStart: number;
  /** Columns in the chunk. */
  count: number;
  /** Members, ascending, with each one's open chunk (word offset, bits) before the seal. */
  members: readonly number[];
  offs: Uint32Array;
  bits: Uint32Array;
  /** The entity (label set less `__name__`) of a series. */
  entityOf: (ref: number) => number;
}

interface Decoded {
  rel: Int32Array;
  val: Float64Array;
  /** Live header reference, -1 for none. */
  x: number;
}

interface Choice {
  x: number;
  beta: number;
  dod: boolean;
  cost: number;
}

/** Members needing fewer bits than this per sample are left as they are. */
const NOISY_BITS_PER_SAMPLE = 2;
/** A base must save at least this many estimated bits. */
const MIN_GAIN_BITS = 96;
const MAX_BASES = 3;

const costOf = (r: number): number => (r === 0 ? 0.5 : bitLength(zigzag(r)) + 1);

/**
 * Re-encodes members of a cutting group against reference series where that saves bits, and
 * breaks any chain (a reference that itself references). Returns the new streams by member index.
 */
export function recodeWithReferences(input: RecodeInput): Map<number, Stream> {
  const { s, members, offs, bits, count } = input;
  const out = new Map<number, Stream>();
  const decoded = new Map<number, Decoded>();
  const ref: ChunkRef = { x: -1, beta: 0 };
  const indexOf = new Map<number, number>();
  members.forEach((m, i) => {
    indexOf.set(m, i);
  });
  const decode = (i: number): Decoded => {
    let d = decoded.get(i);
    if (d) return d;
    const rel = new Int32Array(256);
    const val = new Float64Array(256);
    const x = readChunkRef(input.arena.words, offs[i]! * 32, members[i]!, ref).x;
    let n: number;
    if (x >= 0) {
      const xi = indexOf.get(x);
      if (xi === undefined) throw new Error(`series ${members[i]} references ${x}, which has no chunk here`);
      const xd = decode(xi);
      if (xd.x >= 0) throw new Error(`series ${members[i]} references ${x}, which references too`);
      n = input.decoder.decode(input.arena.words, offs[i]! * 32, bits[i]!, rel, val, xd.rel, xd.val);
    } else n = input.decoder.decode(input.arena.words, offs[i]! * 32, bits[i]!, rel, val);
    d = { rel: rel.slice(0, n), val: val.slice(0, n), x };
    decoded.set(i, d);
    return d;
  };

  // Noisy decimal members, by entity.
  const byEntity = new Map<number, number[]>();
  const finalRef = new Int32Array(members.length).fill(-1);
  for (let i = 0; i < members.length; i++) {
    const d = bits[i]! > 64 + NOISY_BITS_PER_SAMPLE * count ? decode(i) : undefined;
    finalRef[i] = d ? d.x : readChunkRef(input.arena.words, offs[i]! * 32, members[i]!, ref).x;
    if (!d || d.rel.length < 8 || s.mode[members[i]!]! & MODE_XOR) continue;
    const e = input.entityOf(members[i]!);
    const list = byEntity.get(e);
    if (list) list.push(i);
    else byEntity.set(e, [i]);
  }

  const encodeAs = (i: number, choice: Choice | undefined): Stream => {
    const y = members[i]!;
    const d = decode(i);
    const code = codeFor(d.val, s.mode[y]! & MODE_E);
    s.headOff[y] = NONE;
    s.headCap[y] = ((bits[i]! + 31) >>> 5) + 2;
    s.tzMin[y] = TZ_UNSET;
    s.mode[y] = (choice?.dod ? MODE_DOD : 0) | code;
    const scratch: HeadArena = { words: new Uint32Array(s.headCap[y]! + 8), used: 0, garbage: 0 };
    const xd = choice ? decode(indexOf.get(choice.x)!) : undefined;
    const open = choice ? { x: choice.x, beta: choice.beta } : undefined;
    let j = 0;
    for (let k = 0; k < d.rel.length; k++) {
      let xv = Number.NaN;
      if (xd) {
        while (j < xd.rel.length && xd.rel[j]! < d.rel[k]!) j++;
        if (xd.rel[j] === d.rel[k]) xv = xd.val[j]!;
      }
      input.encoder.append(y, scratch, input.chunkStart, input.chunkStart + d.rel[k]!, d.val[k]!, xv, open);
    }
    const n = s.headBits[y]!;
    const off = s.headOff[y]!;
    return { words: scratch.words.slice(off, off + ((n + 31) >>> 5)), bits: n };
  };

  for (const list of byEntity.values()) {
    if (list.length < 2) continue;
    const ints = list.map((i) => scaled(decode(i).val, s.mode[members[i]!]! & MODE_E));
    const own = ints.map((m) =>
      m ? Math.min(ownCost(m, false), ownCost(m, true)) : Number.POSITIVE_INFINITY,
    );
    const cross: (Choice | undefined)[][] = list.map((yi, a) =>
      list.map((xi, b) => {
        const m = ints[a];
        if (a === b || !m) return undefined;
        const x = aligned(decode(yi).rel, decode(xi));
        if (!x) return undefined;
        const one = fit(m, x, false);
        const two = fit(m, x, true);
        const best = one.cost <= two.cost ? one : two;
        return { ...best, x: members[xi]! };
      }),
    );
    const cur = own.slice();
    const role = new Int8Array(list.length); // 0 free, 1 base, 2 referencing
    const pick: (Choice | undefined)[] = list.map(() => undefined);
    for (let round = 0; round < MAX_BASES; round++) {
      let best = -1;
      let bestGain = MIN_GAIN_BITS;
      for (let b = 0; b < list.length; b++) {
        if (role[b] !== 0) continue;
        let gain = 0;
        for (let a = 0; a < list.length; a++) {
          const c = cross[a]![b];
          if (a !== b && role[a] !== 1 && c && c.cost < cur[a]!) gain += cur[a]! - c.cost;
        }
        if (gain > bestGain) {
          bestGain = gain;
          best = b;
        }
      }
      if (best < 0) break;
      role[best] = 1;
      pick[best] = undefined;
      for (let a = 0; a < list.length; a++) {
        const c = cross[a]![best];
        if (a !== best && role[a] !== 1 && c && c.cost < cur[a]!) {
          cur[a] = c.cost;
          role[a] = 2;
          pick[a] = c;
        }
      }
    }
    list.forEach((i, a) => {
      const choice = pick[a];
      if (!choice && decoded.get(i)!.x < 0) return;
      const stream = encodeAs(i, choice);
      // Keep the live chunk when it is smaller and needs no reference.
      if (decoded.get(i)!.x < 0 && stream.bits >= bits[i]!) {
        finalRef[i] = -1;
        return;
      }
      out.set(i, stream);
      finalRef[i] = choice ? choice.x : -1;
    });
  }

  // One level only: a series whose reference references is coded on its own.
  for (let i = 0; i < members.length; i++) {
    const x = finalRef[i]!;
    if (x < 0) continue;
    const xi = indexOf.get(x);
    if (xi !== undefined && finalRef[xi]! < 0) continue;
    out.set(i, encodeAs(i, undefined));
    finalRef[i] = -1;
  }
  return out;
}

/** An exponent code every value fits, starting from `code` (the series' current one). */
function codeFor(val: Float64Array, code: number): number {
  return scaled(val, code) ? code : 0;
}

/** The values as integers at exponent code `code`, or undefined when one does not fit. */
function scaled(val: Float64Array, code: number): Float64Array | undefined {
  const m = new Float64Array(val.length);
  for (let i = 0; i < val.length; i++) {
    const v = val[i]!;
    const k = scaleToInt(v, code);
    if (!Number.isFinite(v) || scaleFromInt(k, code) !== v || Math.abs(k) >= 2 ** 52) return undefined;
    m[i] = k;
  }
  return m;
}

/** The reference's values at each of y's samples, or undefined when one is missing. */
function aligned(rel: Int32Array, x: Decoded): Float64Array | undefined {
  const out = new Float64Array(rel.length);
  let j = 0;
  for (let k = 0; k < rel.length; k++) {
    while (j < x.rel.length && x.rel[j]! < rel[k]!) j++;
    if (x.rel[j] !== rel[k] || !Number.isFinite(x.val[j]!)) return undefined;
    out[k] = x.val[j]!;
  }
  return out;
}

function ownCost(m: Float64Array, dod: boolean): number {
  let cost = 0;
  let prevD = 0;
  for (let t = 1; t < m.length; t++) {
    const d = m[t]! - m[t - 1]!;
    cost += costOf(dod ? d - prevD : d);
    prevD = d;
  }
  return cost;
}

/** Least-squares β of y's differences (first, or second with `dod`) on x's, and the estimated cost. */
function fit(m: Float64Array, x: Float64Array, dod: boolean): Omit<Choice, "x"> {
  let sxy = 0;
  let sxx = 0;
  let prevD = 0;
  for (let t = 1; t < m.length; t++) {
    const d = m[t]! - m[t - 1]!;
    const dy = dod ? d - prevD : d;
    const dx = x[t]! - x[t - 1]!;
    // The first second difference holds the whole first difference: leave it out of the fit.
    if (!dod || t > 1) {
      sxy += dx * dy;
      sxx += dx * dx;
    }
    prevD = d;
  }
  const beta = sxx > 0 ? Math.fround(sxy / sxx) : 0;
  if (!Number.isFinite(beta) || beta === 0) return { beta: 0, dod, cost: Number.POSITIVE_INFINITY };
  let cost = 80;
  let p = -beta * x[0]!;
  for (let t = 1; t < m.length; t++) {
    const pred = m[t - 1]! + Math.round(p + beta * x[t]!);
    cost += costOf(m[t]! - pred);
    p = (dod ? m[t]! - m[t - 1]! : 0) - beta * x[t]!;
  }
  return { beta, dod, cost };
}
