/**
 * When each target is read: every interval, at a fixed offset inside it taken from a hash of
 * the target's id (as Prometheus spreads its scrapes, so that 10,000 targets do not all fire at
 * once), with at most `concurrency` reads in flight over all targets. A read still running when
 * its next turn comes is not started twice: that turn is skipped and counted.
 */
import type { Target } from "./targets.ts";

export interface SchedulerOptions {
  concurrency: number;
  /** Spread targets over their interval (default true); without, all start at once. */
  jitter?: boolean;
  /** No timers: targets are read only by `runAll` (tests and benchmarks that step time themselves). */
  manual?: boolean;
  /** Runs one read; its promise settles when the read is done (errors are the runner's to record). */
  run: (target: Target) => Promise<void>;
}

export interface Scheduler {
  /** Replaces the set of targets: new ones start, removed ones stop, kept ones keep their phase. */
  setTargets(targets: readonly Target[]): void;
  /** Reads every target now, once (tests and the first pass), within the concurrency limit. */
  runAll(): Promise<void>;
  stop(): void;
  readonly stats: { started: number; skippedBusy: number; queued: number; inFlight: number };
}

/** FNV-1a over the id: a stable offset for each target. */
function offsetOf(id: string, intervalMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % intervalMs;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const jitter = options.jitter ?? true;
  const timers = new Map<string, { target: Target; timer: NodeJS.Timeout | undefined }>();
  /** Reads queued or running, by target id: a target is never read twice at once. */
  const pending = new Map<string, Promise<void>>();
  const queue: { target: Target; done: () => void }[] = [];
  const stats = { started: 0, skippedBusy: 0, queued: 0, inFlight: 0 };
  let stopped = false;

  const pump = (): void => {
    while (stats.inFlight < options.concurrency && queue.length > 0) {
      const { target, done } = queue.shift()!;
      stats.queued = queue.length;
      stats.inFlight++;
      stats.started++;
      options
        .run(target)
        .catch(() => undefined)
        .finally(() => {
          stats.inFlight--;
          pending.delete(target.id);
          done();
          pump();
        });
    }
  };

  /** Queues a read of `target`; while one is queued or running, returns that one (and counts a skip). */
  const enqueue = (target: Target, countSkip: boolean): Promise<void> => {
    const already = pending.get(target.id);
    if (already) {
      if (countSkip) stats.skippedBusy++;
      return already;
    }
    let done!: () => void;
    const p = new Promise<void>((resolve) => {
      done = resolve;
    });
    pending.set(target.id, p);
    queue.push({ target, done });
    stats.queued = queue.length;
    pump();
    return p;
  };

  const arm = (entry: { target: Target; timer: NodeJS.Timeout | undefined }): void => {
    const { intervalMs } = entry.target;
    const now = Date.now();
    const phase = jitter ? offsetOf(entry.target.id, intervalMs) : 0;
    // The next instant ≡ phase (mod interval), strictly after now.
    const next = now - ((((now - phase) % intervalMs) + intervalMs) % intervalMs) + intervalMs;
    entry.timer = setTimeout(() => {
      if (stopped || timers.get(entry.target.id) !== entry) return;
      void enqueue(entry.target, true);
      arm(entry);
    }, next - now);
    entry.timer.unref?.();
  };

  return {
    stats,
    setTargets(targets) {
      const wanted = new Map(targets.map((t) => [t.id, t]));
      for (const [id, entry] of timers) {
        const t = wanted.get(id);
        if (!t || t.url !== entry.target.url || t.intervalMs !== entry.target.intervalMs) {
          clearTimeout(entry.timer);
          timers.delete(id);
        } else entry.target = t;
      }
      for (const t of targets) {
        if (timers.has(t.id) || stopped) continue;
        const entry = { target: t, timer: undefined };
        timers.set(t.id, entry);
        if (!options.manual) arm(entry);
      }
    },
    async runAll() {
      await Promise.all([...timers.values()].map((e) => enqueue(e.target, false)));
    },
    stop() {
      stopped = true;
      for (const e of timers.values()) clearTimeout(e.timer);
      timers.clear();
      for (const q of queue) q.done();
      queue.length = 0;
    },
  };
}
