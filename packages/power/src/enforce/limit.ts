/** Small concurrency and retry helpers shared by the driver and the reconciler. */
import { createLimiter, type Limiter } from "@flightdeck/telemetry";

export { createLimiter, type Limiter };

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
