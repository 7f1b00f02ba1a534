/**
 * A small seeded pseudo-random generator, so that the same seed replays the same factory:
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand), seeded through
 * splitmix32. Its whole state is four 32-bit words, kept in a typed array.
 */

/** Generator state; advance it only through the functions below. */
export interface Prng {
  readonly s: Uint32Array;
}

/** A generator seeded from any 32-bit integer (other numbers are reduced to one). */
export function createPrng(seed: number): Prng {
  let x = seed >>> 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    // splitmix32 spreads nearby seeds over the whole state.
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    s[i] = (z ^ (z >>> 16)) >>> 0;
  }
  const prng = { s };
  for (let i = 0; i < 12; i++) nextUint32(prng);
  return prng;
}

/** The next 32-bit unsigned integer. */
export function nextUint32(p: Prng): number {
  const s = p.s;
  const a = s[0]!;
  const b = s[1]!;
  const c = s[2]!;
  const d = s[3]!;
  const t = (((a + b) >>> 0) + d) >>> 0;
  s[3] = (d + 1) >>> 0;
  s[0] = b ^ (b >>> 9);
  s[1] = (c + (c << 3)) >>> 0;
  s[2] = (((c << 21) | (c >>> 11)) + t) >>> 0;
  return t;
}

/** Uniform in [0, 1). */
export function nextFloat(p: Prng): number {
  return nextUint32(p) / 4294967296;
}

/** Approximately standard normal: the sum of four uniforms, centred and scaled (Irwin–Hall). */
export function nextNormal(p: Prng): number {
  return (nextFloat(p) + nextFloat(p) + nextFloat(p) + nextFloat(p) - 2) * Math.sqrt(3);
}
