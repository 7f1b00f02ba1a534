/** A bound on tasks in flight: the Redfish client's per-BMC connections, and whoever else needs one. */

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
