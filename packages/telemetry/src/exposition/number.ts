/**
 * Numbers of the exposition formats, read in place from the page without slicing it.
 *
 * 0.0.4 values are Go `strconv.ParseFloat` syntax without hex, `p` exponents or `_` separators
 * (Prometheus rejects those); OpenMetrics' ABNF `number` is the same set: decimal with optional
 * sign, fraction and exponent, `[+-]Inf`/`Infinity` and `NaN`, case-insensitive, no sign on NaN.
 */

// Exactly representable powers of ten: with a mantissa below 2^53 a single multiplication or
// division by one of these is correctly rounded (Clinger's fast path), so most values never
// reach Number().
export const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];
const MAX_FAST_DIGITS = 15;

/**
 * The float spelled by `s[start, end)`, or undefined when it is not one. A finite spelling that
 * overflows to infinity is undefined too, as Go reports it out of range.
 */
export function parseFloatToken(s: string, start: number, end: number): number | undefined {
  let i = start;
  let c = s.charCodeAt(i);
  let neg = false;
  if (c === 43 || c === 45) {
    neg = c === 45;
    if (++i >= end) return undefined;
    c = s.charCodeAt(i);
  }
  if ((c < 48 || c > 57) && c !== 46) return special(s, i, end, neg, i > start);
  let mant = 0;
  let sig = 0;
  let exp10 = 0;
  let digits = 0;
  for (; i < end; i++) {
    c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    digits++;
    if (sig < MAX_FAST_DIGITS) {
      mant = mant * 10 + c;
      if (mant !== 0) sig++;
    } else {
      sig++;
    }
  }
  if (i < end && s.charCodeAt(i) === 46) {
    for (i++; i < end; i++) {
      c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      digits++;
      if (sig < MAX_FAST_DIGITS) {
        mant = mant * 10 + c;
        exp10--;
        if (mant !== 0) sig++;
      } else {
        sig++;
      }
    }
  }
  if (digits === 0) return undefined;
  if (i < end) {
    c = s.charCodeAt(i);
    if (c !== 101 && c !== 69) return undefined;
    if (++i >= end) return undefined;
    c = s.charCodeAt(i);
    let expNeg = false;
    if (c === 43 || c === 45) {
      expNeg = c === 45;
      if (++i >= end) return undefined;
    }
    let e = 0;
    for (; i < end; i++) {
      c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      if (e < 100000) e = e * 10 + c;
    }
    exp10 += expNeg ? -e : e;
  }
  let v: number;
  if (sig <= MAX_FAST_DIGITS && exp10 >= -22 && exp10 <= 22) {
    v = exp10 < 0 ? mant / POW10[-exp10]! : mant * POW10[exp10]!;
  } else {
    v = Number(s.slice(start, end));
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) return undefined;
    return v;
  }
  return neg ? -v : v;
}

/** `inf`, `infinity` (optionally signed) and unsigned `nan`, any case. */
function special(s: string, i: number, end: number, neg: boolean, signed: boolean): number | undefined {
  const n = end - i;
  if (n === 3) {
    const w = lower3(s, i);
    if (w === "inf") return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    if (w === "nan" && !signed) return Number.NaN;
    return undefined;
  }
  if (n === 8 && s.slice(i, end).toLowerCase() === "infinity") {
    return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return undefined;
}

function lower3(s: string, i: number): string {
  return String.fromCharCode(s.charCodeAt(i) | 32, s.charCodeAt(i + 1) | 32, s.charCodeAt(i + 2) | 32);
}

/**
 * A 0.0.4 timestamp: a signed decimal integer of milliseconds. Undefined when malformed or past
 * what a double holds exactly (Go takes any int64; no real clock is beyond 2^53 ms).
 */
export function parseIntToken(s: string, start: number, end: number): number | undefined {
  let i = start;
  let c = s.charCodeAt(i);
  const neg = c === 45;
  if (c === 43 || c === 45) i++;
  if (i >= end) return undefined;
  let v = 0;
  for (; i < end; i++) {
    c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    v = v * 10 + c;
  }
  if (v > Number.MAX_SAFE_INTEGER) return undefined;
  return neg ? -v : v;
}

/** Whether `s[start, end)` is an OpenMetrics `realnumber`: a finite decimal, no Inf or NaN. */
export function isRealNumber(s: string, start: number, end: number): boolean {
  let i = start;
  const c = s.charCodeAt(i);
  if (c === 43 || c === 45) i++;
  const d = s.charCodeAt(i);
  return i < end && ((d >= 48 && d <= 57) || d === 46);
}
