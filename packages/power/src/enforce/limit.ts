/** Small concurrency and retry helpers shared by the driver and the reconciler. */

/** Runs at most `max` tasks at once, the others in arrival order. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`a concurrency bound must be a positive integer, got ${max}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so `active` never drops below the queue.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** How a request is retried: `retries` more tries after the first, waiting `delayMs`, doubled each time. */
export interface RetryPolicy {
  retries: number;
  delayMs: number;
  maxDelayMs: number;
}

/** Runs `attempt` until it succeeds, fails with an error that is not `retryable`, or runs out of tries. */
export async function withRetry<T>(
  policy: RetryPolicy,
  retryable: (err: unknown) => boolean,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= policy.retries || !retryable(err)) throw err;
      const delay = Math.min(policy.delayMs * 2 ** i, policy.maxDelayMs);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
