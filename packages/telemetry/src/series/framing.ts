/**
 * Where each member's stream lies in a sealed chunk's bits: one array holding every stream's bit
 * length, then a checkpoint (the bit offset of member 16k) every 16 members. Lengths fit 16 bits
 * unless a stream is longer than 65,535 bits, in which case the whole framing is 32-bit. About
 * 2.25 bytes a member instead of a 4-byte offset; finding a stream sums at most 15 lengths.
 */

/** Members between checkpoints. */
const STRIDE = 16;

export type Framing = Uint16Array | Uint32Array;

/** The framing of `n` consecutive streams of bit lengths `lens[0..n)`. */
export function frame(lens: ArrayLike<number>, n: number): Framing {
  const marks = Math.ceil(n / STRIDE);
  let wide = false;
  for (let i = 0; i < n && !wide; i++) wide = lens[i]! > 0xffff;
  const f = wide ? new Uint32Array(n + marks) : new Uint16Array(n + 2 * marks);
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (i % STRIDE === 0) {
      const k = i / STRIDE;
      if (wide) f[n + k] = at;
      else {
        f[n + 2 * k] = Math.floor(at / 0x10000);
        f[n + 2 * k + 1] = at & 0xffff;
      }
    }
    f[i] = lens[i]!;
    at += lens[i]!;
  }
  return f;
}

/** Bit offset of stream `i` of the `n` framed by `f`. */
export function streamStart(f: Framing, n: number, i: number): number {
  const k = (i / STRIDE) | 0;
  let at = f.BYTES_PER_ELEMENT === 4 ? f[n + k]! : f[n + 2 * k]! * 0x10000 + f[n + 2 * k + 1]!;
  for (let j = k * STRIDE; j < i; j++) at += f[j]!;
  return at;
}
