/**
 * Bit streams in Uint32Array words, most significant bit first: the raw material of every chunk.
 * Values are JS numbers, so fields wider than 32 bits (up to 53) are split into two writes.
 */

const TWO32 = 4294967296;

/** Number of bits needed for a non-negative integer up to 2^53. */
export function bitLength(x: number): number {
  return x < TWO32 ? 32 - Math.clz32(x) : 64 - Math.clz32(Math.floor(x / TWO32));
}

/** Zigzag: ...,-2,-1,0,1,2 → 3,1,0,2,4, for |r| < 2^52 (exact in doubles). */
export const zigzag = (r: number): number => (r >= 0 ? 2 * r : -2 * r - 1);
export const unzigzag = (u: number): number => (u % 2 === 0 ? u / 2 : -(u + 1) / 2);

/** Rice quotients at or past this are escaped to an explicit bit length, bounding a code at ~84 bits. */
const RICE_QMAX = 24;

/** Appends bits to a word buffer. The caller sizes `buf`; writes never read past `pos`. */
export class BitWriter {
  buf: Uint32Array;
  pos = 0;
  constructor(words: number) {
    this.buf = new Uint32Array(words);
  }

  /** Writes the low `n` bits of `x` (0 ≤ n ≤ 32). */
  write(x: number, n: number): void {
    if (n === 0) return;
    const v = n === 32 ? x >>> 0 : (x & ((1 << n) - 1)) >>> 0;
    const w = this.pos >>> 5;
    const free = 32 - (this.pos & 31);
    const buf = this.buf;
    if (n <= free) {
      const shifted = (v << (free - n)) >>> 0;
      buf[w] = free === 32 ? shifted : (buf[w]! | shifted) >>> 0;
    } else {
      buf[w] = (buf[w]! | (v >>> (n - free))) >>> 0;
      buf[w + 1] = (v << (32 - (n - free))) >>> 0;
    }
    this.pos += n;
  }

  /** Writes the low `n` bits (n ≤ 53) of a non-negative integer `x`. */
  writeBig(x: number, n: number): void {
    if (n > 32) {
      this.write(Math.floor(x / TWO32), n - 32);
      this.write(x >>> 0, 32);
    } else this.write(x >>> 0, n);
  }

  /** Elias gamma code of `x ≥ 1`: 1 bit for 1, 3 bits for 2–3, 2·log2(x)+1 bits in general. */
  gamma(x: number): void {
    const n = bitLength(x);
    let zeros = n - 1;
    while (zeros > 32) {
      this.write(0, 32);
      zeros -= 32;
    }
    this.write(0, zeros);
    this.writeBig(x, n);
  }

  /** Rice code of `u ≥ 0` with parameter `k`: unary quotient, then k low bits; huge quotients escape. */
  rice(u: number, k: number): void {
    const p = 2 ** k;
    const q = Math.floor(u / p);
    if (q < RICE_QMAX) {
      this.write(((1 << q) - 1) << 1, q + 1);
      this.writeBig(u - q * p, k);
    } else {
      this.write((1 << RICE_QMAX) - 1, RICE_QMAX);
      const n = bitLength(u);
      this.write(n, 6);
      this.writeBig(u, n);
    }
  }
}

/** Reads what a BitWriter wrote. */
export class BitReader {
  buf: Uint32Array = new Uint32Array(0);
  pos = 0;

  reset(buf: Uint32Array, pos: number): void {
    this.buf = buf;
    this.pos = pos;
  }

  /** The next 32 bits without consuming them (zeros past the end). */
  peek32(): number {
    const w = this.pos >>> 5;
    const off = this.pos & 31;
    const hi = this.buf[w] ?? 0;
    if (off === 0) return hi;
    return ((hi << off) | ((this.buf[w + 1] ?? 0) >>> (32 - off))) >>> 0;
  }

  read(n: number): number {
    if (n === 0) return 0;
    const v = this.peek32() >>> (32 - n);
    this.pos += n;
    return v;
  }

  readBig(n: number): number {
    if (n > 32) {
      const hi = this.read(n - 32);
      return hi * TWO32 + this.read(32);
    }
    return this.read(n);
  }

  gamma(): number {
    let zeros = 0;
    for (;;) {
      const p = this.peek32();
      if (p !== 0) {
        const z = Math.clz32(p);
        zeros += z;
        this.pos += z;
        break;
      }
      zeros += 32;
      this.pos += 32;
      if (this.pos > this.buf.length * 32)
        throw new Error("corrupt bit stream: gamma code runs past the end");
    }
    return this.readBig(zeros + 1);
  }

  rice(k: number): number {
    const ones = Math.clz32(~this.peek32());
    if (ones < RICE_QMAX) {
      this.pos += ones + 1;
      return ones * 2 ** k + this.readBig(k);
    }
    this.pos += RICE_QMAX;
    return this.readBig(this.read(6));
  }
}

/** Copies the next `n` bits of `src` to the writer's position. */
export function copyBits(src: BitReader, w: BitWriter, n: number): void {
  while (n >= 32) {
    w.write(src.read(32), 32);
    n -= 32;
  }
  w.write(src.read(n), n);
}
