/**
 * The enforcement loop: given one decision (every target's desired cap), it reads what the
 * controllers hold, writes only the caps that differ, reads each back to confirm it, and reports
 * per target whether the cap is confirmed, pending or failed. Level-triggered: a pass after a
 * crash or a failure converges again, and a confirmed cap is read again after `resyncMs`.
 *
 * A decision's lowered caps go first; its raised caps go out only once every lowered one is
 * confirmed and settled, so that power moved between GPUs is never drawn twice. A lowered cap
 * that fails holds the raises back until a later pass gets it through.
 *
 * A controller that stops answering while its caps hold is noticed by the heartbeat: with
 * `heartbeatMs`, a pass reads one confirmed cap of every controller not heard from for that
 * long (the stalest one, so the reads rotate); when it does not answer, every cap behind it
 * becomes unknown at once rather than at the next write or resync.
 *
 * Power safety (ARCHITECTURE, "what is unknown is assumed at its worst"): a target whose cap is
 * not confirmed counts at its maximum in {@link Reconciler.effectiveCapWatts}; a lowered cap
 * counts at the cap it replaces for `settleMs` after it is confirmed, since a BMC applies a limit
 * after a control delay (the twin: 2 s) while its read-back already shows the new set point.
 */
import type { CapDriver, CapReading } from "./driver.ts";
import { EnforceError, type EnforceErrorCode, enforceErrorOf } from "./errors.ts";
import { createLimiter, type Limiter } from "./limit.ts";

/** Where a target's cap stands after a pass. */
export type CapState =
  /** The controller reads back the desired cap. */
  | "confirmed"
  /** The controller accepted the cap but does not show it yet; read again next pass. */
  | "pending"
  /** It could not be set; `error` says why. */
  | "failed";

/** One target's outcome. */
export interface CapStatus {
  desiredWatts: number;
  /**
   * The cap known to be in force: the desired one once confirmed; after a `refused` write, the
   * one confirmed before (nothing changed); absent when unknown.
   */
  confirmedWatts?: number;
  state: CapState;
  error?: string;
  errorCode?: EnforceErrorCode;
  /** DMTF MessageIds of the controller's refusal, e.g. `Base.1.16.0.PropertyValueOutOfRange`. */
  messageIds?: readonly string[];
  /** The allowed range the controller showed, once read. */
  minWatts?: number;
  maxWatts?: number;
  /**
   * A raised cap not sent yet: the decision's lowered caps it waits for (not confirmed, or within
   * `settleMs`). It goes out on a later pass once they hold.
   */
  waitingFor?: readonly string[];
}

/** What one pass did with one decision. */
export interface ReconcileResult {
  /** 1 for the first pass, counting up. */
  pass: number;
  statuses: ReadonlyMap<string, CapStatus>;
  /** Targets by state, in the decision's order: what applied, what may yet, and what did not. */
  confirmed: readonly string[];
  pending: readonly string[];
  failed: readonly string[];
  /** Every cap of the decision is confirmed. */
  complete: boolean;
  /** Requests sent: reads and writes. */
  reads: number;
  writes: number;
}

/** Options of {@link createReconciler}. */
export interface ReconcilerOptions {
  driver: CapDriver;
  /** Targets worked on at once over all controllers. Default 64 (the endpoints' default concurrency). */
  concurrency?: number;
  /** Targets worked on at once per controller; each has at most one request in flight. Default 2. */
  perController?: number;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
  /** How long a lowered cap counts at the cap it replaced, after it is confirmed. Default 2000 ms. */
  settleMs?: number;
  /** A confirmed cap older than this is read again. Default 60000 ms. */
  resyncMs?: number;
  /** A pending cap still not read back after this is written again. Default 10000 ms. */
  rewriteAfterMs?: number;
  /** A read-back this close to the desired cap confirms it (BMCs keep whole watts). Default 0.5 W. */
  toleranceWatts?: number;
  /**
   * Each controller of a decision is heard from at least this often: a pass reads one of its
   * confirmed caps when nothing else went to it for this long. Default: no heartbeat.
   */
  heartbeatMs?: number;
}

/**
 * Pushes decisions through a driver, one pass at a time.
 *
 * Contract of `reconcile`: the decision is checked whole first (every key a target the driver
 * knows, every cap a finite positive number) and refused with EnforceError `bad-decision`, nothing
 * sent, when any part is bad. While a pass runs, a new decision waits for it; decisions that
 * arrive meanwhile are coalesced, the latest winning, into one next pass whose result they all get.
 *
 * @example
 *   const reconciler = createReconciler({ driver: createRedfishCapDriver({ bmcUrl }) });
 *   const result = await reconciler.reconcile(new Map([["gpu:r01-dgx1/0", 500]]));
 *   result.complete; // every cap read back
 *   reconciler.effectiveCapWatts("gpu:r01-dgx1/0", 700); // 500 once settled, 700 if unconfirmed
 */
export interface Reconciler {
  reconcile(desired: ReadonlyMap<string, number>): Promise<ReconcileResult>;
  /** The cap to count `target` at in budgets: its confirmed cap, or `maxWatts` where unconfirmed. */
  effectiveCapWatts(target: string, maxWatts: number): number;
  /** The target's status after the last pass that had it. */
  status(target: string): CapStatus | undefined;
}

/** What the reconciler knows of one target between passes. */
interface Known {
  /** The cap known to be in force, and when it was last read. */
  confirmedWatts: number | undefined;
  observedAtMs: number;
  /** Until `holdsUntilMs`, the target counts at no less than `heldWatts` (Infinity: its maximum). */
  heldWatts: number;
  holdsUntilMs: number;
  /** A cap written and not yet read back, when, and what the target counted at before it. */
  writtenWatts: number | undefined;
  writtenAtMs: number;
  worstBeforeWrite: number;
  minWatts: number | undefined;
  maxWatts: number | undefined;
  status: CapStatus | undefined;
}

interface Pass {
  desired: ReadonlyMap<string, number>;
  resolve: (r: ReconcileResult) => void;
  reject: (e: unknown) => void;
  promise: Promise<ReconcileResult>;
}

/** A reconciler over `options.driver`. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { driver } = options;
  const now = options.now ?? Date.now;
  const settleMs = options.settleMs ?? 2000;
  const resyncMs = options.resyncMs ?? 60_000;
  const rewriteAfterMs = options.rewriteAfterMs ?? 10_000;
  const tolerance = options.toleranceWatts ?? 0.5;
  const perController = options.perController ?? 2;
  const global = createLimiter(options.concurrency ?? 64);
  createLimiter(perController); // checks the bound now
  const controllers = new Map<string, Limiter>();
  const heartbeatMs = options.heartbeatMs;
  /** Controller → when a request to it last got an answer. */
  const heard = new Map<string, number>();
  const known = new Map<string, Known>();
  let passes = 0;
  let running = false;
  let queued: Pass | undefined;

  const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= tolerance;

  const knownOf = (target: string): Known => {
    let k = known.get(target);
    if (k === undefined) {
      k = {
        confirmedWatts: undefined,
        observedAtMs: Number.NEGATIVE_INFINITY,
        heldWatts: Number.POSITIVE_INFINITY,
        holdsUntilMs: Number.NEGATIVE_INFINITY,
        writtenWatts: undefined,
        writtenAtMs: Number.NEGATIVE_INFINITY,
        worstBeforeWrite: Number.POSITIVE_INFINITY,
        minWatts: undefined,
        maxWatts: undefined,
        status: undefined,
      };
      known.set(target, k);
    }
    return k;
  };

  /** The most the target may be drawing under: Infinity where unknown. */
  const worst = (k: Known): number => {
    if (k.confirmedWatts === undefined) return Number.POSITIVE_INFINITY;
    return now() < k.holdsUntilMs ? Math.max(k.confirmedWatts, k.heldWatts) : k.confirmedWatts;
  };

  const observe = (k: Known, reading: CapReading) => {
    if (reading.minWatts !== undefined) k.minWatts = reading.minWatts;
    if (reading.maxWatts !== undefined) k.maxWatts = reading.maxWatts;
  };

  /** The cap reads back as `watts`: it counts from `settleMs` on, before that at what it replaced. */
  const confirm = (k: Known, watts: number, before: number) => {
    k.confirmedWatts = watts;
    k.observedAtMs = now();
    if (before > watts) {
      k.heldWatts = before;
      k.holdsUntilMs = k.observedAtMs + settleMs;
    }
    k.writtenWatts = undefined;
  };

  const statusOf = (
    k: Known,
    desiredWatts: number,
    state: CapState,
    err?: EnforceError,
    waitingFor?: readonly string[],
  ): CapStatus => {
    const s: CapStatus = { desiredWatts, state };
    if (waitingFor !== undefined) s.waitingFor = waitingFor;
    if (k.confirmedWatts !== undefined) s.confirmedWatts = k.confirmedWatts;
    if (err !== undefined) {
      s.error = err.message;
      s.errorCode = err.code;
      if (err.messageIds.length > 0) s.messageIds = err.messageIds;
    }
    if (k.minWatts !== undefined) s.minWatts = k.minWatts;
    if (k.maxWatts !== undefined) s.maxWatts = k.maxWatts;
    k.status = Object.freeze(s);
    return k.status;
  };

  /** One target within a pass: observe if needed, write if different, read back. */
  const step = async (target: string, watts: number, count: { reads: number; writes: number }) => {
    const k = knownOf(target);
    const fresh = now() - k.observedAtMs < resyncMs;
    if (fresh && near(k.confirmedWatts, watts)) return statusOf(k, watts, "confirmed");
    const awaiting = near(k.writtenWatts, watts) && now() - k.writtenAtMs < rewriteAfterMs;
    const read = async () => {
      count.reads++;
      const reading = await driver.read(target);
      observe(k, reading);
      return reading.setPointWatts;
    };
    let writing = false;
    let before = { confirmedWatts: k.confirmedWatts, observedAtMs: k.observedAtMs };
    try {
      if (awaiting || !fresh) {
        const setPoint = await read();
        if (near(setPoint, watts)) {
          confirm(k, watts, awaiting ? k.worstBeforeWrite : worst(k));
          return statusOf(k, watts, "confirmed");
        }
        if (awaiting) return statusOf(k, watts, "pending");
        // What the controller holds now, different from the decision.
        k.confirmedWatts = setPoint;
        k.observedAtMs = now();
      }
      k.worstBeforeWrite = worst(k);
      before = { confirmedWatts: k.confirmedWatts, observedAtMs: k.observedAtMs };
      writing = true;
      count.writes++;
      await driver.write(target, watts);
      writing = false;
      k.confirmedWatts = undefined;
      k.writtenWatts = watts;
      k.writtenAtMs = now();
      if (near(await read(), watts)) {
        confirm(k, watts, k.worstBeforeWrite);
        return statusOf(k, watts, "confirmed");
      }
      return statusOf(k, watts, "pending");
    } catch (cause) {
      const err = enforceErrorOf(target, cause);
      if (writing && err.code === "refused") {
        // The controller refused the write: what was in force still is.
        k.writtenWatts = undefined;
        k.confirmedWatts = before.confirmedWatts;
        k.observedAtMs = before.observedAtMs;
        return statusOf(k, watts, "failed", err);
      }
      return fail(k, watts, err);
    }
  };

  /** A failure after which the cap in force is unknown. */
  const fail = (k: Known, watts: number, err: EnforceError): CapStatus => {
    k.writtenWatts = undefined;
    k.confirmedWatts = undefined;
    k.observedAtMs = Number.NEGATIVE_INFINITY;
    return statusOf(k, watts, "failed", err);
  };

  const run = async (desired: ReadonlyMap<string, number>): Promise<ReconcileResult> => {
    const pass = ++passes;
    const count = { reads: 0, writes: 0 };
    const entries = [...desired];
    // Controllers that did not answer in this pass: their other targets fail at once rather than
    // each waiting out its own timeouts and retries.
    const down = new Map<string, EnforceError>();
    const attempt = async (target: string, watts: number, controller: string) => {
      const gone = down.get(controller);
      if (gone !== undefined) {
        const err = new EnforceError("unreachable", target, `not tried: ${gone.message}`, { cause: gone });
        return fail(knownOf(target), watts, err);
      }
      const mine = { reads: 0, writes: 0 };
      const status = await step(target, watts, mine);
      count.reads += mine.reads;
      count.writes += mine.writes;
      if (status.errorCode === "unreachable") {
        if (!down.has(controller))
          down.set(controller, new EnforceError("unreachable", target, status.error ?? "no answer"));
      } else if (mine.reads + mine.writes > 0) heard.set(controller, now());
      return status;
    };
    const apply = (part: [string, number][]) =>
      Promise.all(
        part.map(([target, watts]) => {
          const controller = driver.controllerOf(target);
          let limit = controllers.get(controller);
          if (limit === undefined) {
            limit = createLimiter(perController);
            controllers.set(controller, limit);
          }
          // The controller's slot first, then a global one: a slot is never held while waiting.
          return limit(() => global(() => attempt(target, watts, controller)));
        }),
      );
    if (heartbeatMs !== undefined) heartbeat(entries);
    // Lower caps first, raised ones only once every lowered one holds: power moved from one
    // GPU to another never has both at the higher cap (unknown caps count as lowered).
    const raises = entries.filter(([target, watts]) => {
      const k = known.get(target);
      return k !== undefined && watts > worst(k);
    });
    const raised = new Set(raises.map(([target]) => target));
    const lowers = entries.filter(([target]) => !raised.has(target));
    const byTarget = new Map<string, CapStatus>();
    (await apply(lowers)).forEach((status, i) => {
      byTarget.set(lowers[i]![0], status);
    });
    const holding = lowers.filter(([target]) => {
      const k = known.get(target)!;
      return byTarget.get(target)!.state !== "confirmed" || worst(k) > (k.confirmedWatts ?? 0);
    });
    if (holding.length === 0)
      (await apply(raises)).forEach((status, i) => {
        byTarget.set(raises[i]![0], status);
      });
    else {
      const waitingFor = holding.map(([target]) => target);
      for (const [target, watts] of raises) {
        const k = knownOf(target);
        byTarget.set(target, statusOf(k, watts, "pending", undefined, waitingFor));
      }
    }
    // A controller found down: the caps behind it that this pass did not reach are unknown too.
    for (const [target, watts] of entries) {
      const gone = down.get(driver.controllerOf(target));
      if (gone === undefined || byTarget.get(target)!.state !== "confirmed") continue;
      const err = new EnforceError("unreachable", target, `its controller did not answer: ${gone.message}`, {
        cause: gone,
      });
      byTarget.set(target, fail(knownOf(target), watts, err));
    }
    const statuses = entries.map(([target]) => byTarget.get(target)!);
    const lists: Record<CapState, string[]> = { confirmed: [], pending: [], failed: [] };
    entries.forEach(([target], i) => {
      lists[statuses[i]!.state].push(target);
    });
    return Object.freeze({
      pass,
      statuses: new Map(entries.map(([target], i) => [target, statuses[i]!])),
      confirmed: lists.confirmed,
      pending: lists.pending,
      failed: lists.failed,
      complete: lists.confirmed.length === entries.length,
      reads: count.reads,
      writes: count.writes,
    });
  };

  /** Marks the stalest confirmed cap of each controller not heard from lately to be read. */
  const heartbeat = (entries: readonly [string, number][]) => {
    const stalest = new Map<string, Known>();
    for (const [target, watts] of entries) {
      const k = known.get(target);
      // Only caps that hold as decided: any other gets a request in this pass anyway.
      if (k === undefined || !near(k.confirmedWatts, watts)) continue;
      const controller = driver.controllerOf(target);
      if (now() - (heard.get(controller) ?? Number.NEGATIVE_INFINITY) < heartbeatMs!) continue;
      const other = stalest.get(controller);
      if (other === undefined || k.observedAtMs < other.observedAtMs) stalest.set(controller, k);
    }
    for (const [controller, k] of stalest) {
      k.observedAtMs = Number.NEGATIVE_INFINITY;
      // Asked once per period whatever the answer; a failure shows in this pass's result.
      heard.set(controller, now());
    }
  };

  const start = (p: Pass) => {
    running = true;
    run(p.desired)
      .then(p.resolve, p.reject)
      .finally(() => {
        running = false;
        const next = queued;
        queued = undefined;
        if (next) start(next);
      });
  };

  return {
    reconcile(desired) {
      let checked: ReadonlyMap<string, number>;
      try {
        checked = check(desired, driver);
      } catch (err) {
        return Promise.reject(err);
      }
      if (queued) {
        queued.desired = checked;
        return queued.promise;
      }
      let resolve!: (r: ReconcileResult) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<ReconcileResult>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const p: Pass = { desired: checked, resolve, reject, promise };
      if (running) queued = p;
      else start(p);
      return promise;
    },
    effectiveCapWatts(target, maxWatts) {
      const k = known.get(target);
      return k === undefined ? maxWatts : Math.min(worst(k), maxWatts);
    },
    status: (target) => known.get(target)?.status,
  };
}

/** The decision, copied, when every part of it is good; else EnforceError `bad-decision` naming each bad part. */
function check(desired: ReadonlyMap<string, number>, driver: CapDriver): ReadonlyMap<string, number> {
  const problems: string[] = [];
  for (const [target, watts] of desired) {
    try {
      driver.controllerOf(target);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
      continue;
    }
    if (typeof watts !== "number" || !Number.isFinite(watts) || watts <= 0)
      problems.push(`${target}: cap ${watts} W is not a finite positive number`);
  }
  if (problems.length > 0)
    throw new EnforceError("bad-decision", "", `decision refused, nothing sent: ${problems.join("; ")}`);
  return new Map(desired);
}
