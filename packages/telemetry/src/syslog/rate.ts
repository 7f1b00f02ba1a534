/** A token bucket: `ratePerSecond` sustained, `burst` at once; what it refuses is dropped by the caller. */

/** Takes one token if there is one. */
export interface TokenBucket {
  take(): boolean;
}

/** A full bucket on the given clock (ms). */
export function createTokenBucket(ratePerSecond: number, burst: number, nowMs: () => number): TokenBucket {
  let tokens = burst;
  let lastMs = nowMs();
  return {
    take() {
      const t = nowMs();
      if (t > lastMs) {
        tokens = Math.min(burst, tokens + ((t - lastMs) * ratePerSecond) / 1000);
        lastMs = t;
      }
      if (tokens < 1) return false;
      tokens--;
      return true;
    },
  };
}
