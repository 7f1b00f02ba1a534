/**
 * The safety loop's pure core: measured power at every level of the budget tree against its
 * limit, with two thresholds (Microsoft POLCA, FACTS.md "Oversubscription results") and
 * hysteresis on the way back.
 *
 * `decideSafety` is level-triggered: given the last state and one observation it returns the
 * cap every GPU should have now, the difference from what is applied (`actions`), and why. It
 * is meant to run once per telemetry interval, so an overload is acted on at the next sample;
 * protective devices tolerate short overloads (FACTS.md: a UPS 125% for 30 s or more), and the
 * loop brings a level back under its limit one interval after it acts.
 *
 * Rules, per level (a rack inside a row inside a feed; every level is checked, the deepest
 * first, and caps only go down on the way up the tree, so the tightest wins per GPU):
 * - above `firstThreshold` × limit: cap low-priority work (priority ≥ `lowPriorityFrom`, the
 *   highest priority number first; DPS convention, 0 = most important), each class sharing the
 *   cut in proportion to its headroom, just enough to bring the level under the first threshold;
 * - above `secondThreshold` × limit: cap every GPU under the level by the same fraction of its
 *   headroom, again down to the first threshold;
 * - below `releaseThreshold` × limit for `releaseAfterObservations` consecutive observations
 *   (at every level above a held GPU): raise held caps by one step (`releaseStepFraction` of each
 *   GPU's range), the most important first, never past what keeps the level under the release
 *   threshold if the raised GPUs drew their whole new cap; then wait as long again.
 *
 * Estimates. Cutting a GPU to c lowers its draw by (its draw − c): its measured draw where known,
 * bounded by its applied cap; its applied cap where unknown. A level with no reading counts at
 * its worst (ARCHITECTURE: "what is unknown is assumed at its worst"): at its limit, or, when
 * its non-GPU draw is declared (`fixedWatts`), at what its applied caps allow if that is less.
 */
import { PowerError } from "./errors.ts";

/** The loop's tuning; every value is a fraction of a level's limit except where named. */
export interface SafetyConfig {
  /** Above it, low-priority work is capped (POLCA's first threshold). */
  readonly firstThreshold: number;
  /** Above it, everything is capped in proportion (POLCA's second threshold). */
  readonly secondThreshold: number;
  /** Held caps are released only after the level has stayed below this. */
  readonly releaseThreshold: number;
  /** Consecutive observations below `releaseThreshold` before each release step. */
  readonly releaseAfterObservations: number;
  /** One release step: this fraction of a GPU's min..max range. */
  readonly releaseStepFraction: number;
  /** Priorities ≥ this are low-priority for the first threshold (0 = most important). */
  readonly lowPriorityFrom: number;
}

/** POLCA-like defaults: 95% / 100%, release below 90% after 5 observations, 10% steps. */
export const DEFAULT_SAFETY_CONFIG: SafetyConfig = Object.freeze({
  firstThreshold: 0.95,
  secondThreshold: 1.0,
  releaseThreshold: 0.9,
  releaseAfterObservations: 5,
  releaseStepFraction: 0.1,
  lowPriorityFrom: 1,
});

/** One level of the tree as observed now. */
export interface SafetyLevel {
  readonly id: string;
  /** The enclosing level's id; absent for a root. */
  readonly parent?: string;
  readonly limitWatts: number;
  /** What the level draws now; undefined when the reading is missing (worst case assumed). */
  readonly measuredWatts?: number;
  /** Non-GPU draw under the level at its worst, if known: lets a missing reading be bounded by caps. */
  readonly fixedWatts?: number;
}

/** One GPU as observed now. */
export interface SafetyGpu {
  readonly id: string;
  /** The deepest level it is under. */
  readonly level: string;
  /** Its job's priority: 0 is the most important, larger numbers less. */
  readonly priority: number;
  readonly minWatts: number;
  /** The highest cap it is allowed now (the allocator's cap, a profile's): never exceeded. */
  readonly maxWatts: number;
  /** The cap applied now. */
  readonly capWatts: number;
  /** Its measured draw, if known. */
  readonly drawWatts?: number;
}

export interface SafetyObservation {
  readonly atMs: number;
  readonly levels: readonly SafetyLevel[];
  readonly gpus: readonly SafetyGpu[];
}

/** The rule that set a cap. */
export type SafetyRule = "first-threshold" | "second-threshold" | "hold" | "release" | "allowed-maximum";

/** Why a GPU has its cap: the level, its reading against its limit, the threshold and the rule. */
export interface SafetyReason {
  readonly rule: SafetyRule;
  /** The level whose reading triggered the rule; absent for `allowed-maximum`. */
  readonly level?: string;
  readonly measuredWatts?: number;
  /** The reading was missing and this is the worst case assumed. */
  readonly assumed?: boolean;
  readonly limitWatts?: number;
  /** The threshold crossed (fraction of the limit). */
  readonly threshold?: number;
  readonly text: string;
}

/** A cap to apply: the new value differs from the applied one. */
export interface SafetyAction {
  readonly gpu: string;
  readonly fromWatts: number;
  readonly capWatts: number;
  readonly reason: SafetyReason;
}

/** A GPU the loop holds below its allowed maximum, and why. */
export interface SafetyHold {
  readonly capWatts: number;
  readonly reason: SafetyReason;
}

/** What the loop remembers between observations; frozen, plain data. */
export interface SafetyState {
  readonly atMs?: number;
  /** GPU id → the cap the loop holds it at (below its allowed maximum). */
  readonly held: Readonly<Record<string, SafetyHold>>;
  /** Level id → consecutive observations below the release threshold. */
  readonly below: Readonly<Record<string, number>>;
}

/** One level's reading and what the loop made of it. */
export interface SafetyLevelReport {
  readonly level: string;
  readonly measuredWatts: number;
  readonly assumed: boolean;
  readonly limitWatts: number;
  /** The band the reading is in: over the second, over the first, between, or under release. */
  readonly band: "second" | "first" | "between" | "release";
  /** The level's draw expected after the new caps, with the GPUs at their estimated draw. */
  readonly projectedWatts: number;
  /** Over a threshold and nothing left to cut under it. */
  readonly exhausted: boolean;
  readonly belowCount: number;
}

export interface SafetyDecision {
  readonly state: SafetyState;
  /** GPU id → the cap it should have now (every GPU of the observation). */
  readonly capWatts: Readonly<Record<string, number>>;
  /** The caps that differ from what is applied, with the reason for each. */
  readonly actions: readonly SafetyAction[];
  /** Every level's reading and band, parents before children. */
  readonly explanation: readonly SafetyLevelReport[];
}

/** The state before the first observation: nothing held. */
export function initialSafetyState(): SafetyState {
  return Object.freeze({ held: Object.freeze({}), below: Object.freeze({}) });
}

interface LevelWork {
  level: SafetyLevel;
  depth: number;
  /** Indices into the GPU list, the whole subtree. */
  gpus: number[];
  /** Levels from this one to the root. */
  path: number[];
}

function checkConfig(c: SafetyConfig): void {
  const ok =
    c.releaseThreshold > 0 &&
    c.releaseThreshold < c.firstThreshold &&
    c.firstThreshold <= c.secondThreshold &&
    Number.isInteger(c.releaseAfterObservations) &&
    c.releaseAfterObservations >= 1 &&
    c.releaseStepFraction > 0 &&
    c.releaseStepFraction <= 1;
  if (!ok) {
    throw new PowerError(
      "bad-target",
      `safety config: need 0 < release (${c.releaseThreshold}) < first (${c.firstThreshold}) ≤ second (${c.secondThreshold}), ` +
        `an integer releaseAfterObservations ≥ 1 and 0 < releaseStepFraction ≤ 1`,
    );
  }
}

function buildLevels(obs: SafetyObservation): LevelWork[] {
  const index = new Map<string, number>();
  obs.levels.forEach((l, i) => {
    if (index.has(l.id)) throw new PowerError("bad-budget", `safety: level ${l.id} appears twice`);
    if (!(l.limitWatts > 0))
      throw new PowerError("bad-budget", `safety: level ${l.id} has no positive limit`);
    index.set(l.id, i);
  });
  const work: LevelWork[] = obs.levels.map((level) => ({ level, depth: 0, gpus: [], path: [] }));
  work.forEach((w, i) => {
    for (let k: number | undefined = i; k !== undefined; ) {
      if (w.path.includes(k))
        throw new PowerError("bad-budget", `safety: level ${w.level.id} is its own ancestor`);
      w.path.push(k);
      const parent: string | undefined = obs.levels[k]!.parent;
      if (parent === undefined) break;
      k = index.get(parent);
      if (k === undefined)
        throw new PowerError(
          "bad-budget",
          `safety: level ${obs.levels[w.path.at(-1)!]!.id} names unknown parent ${parent}`,
        );
    }
    w.depth = w.path.length - 1;
  });
  obs.gpus.forEach((g, i) => {
    const k = index.get(g.level);
    if (k === undefined)
      throw new PowerError("bad-budget", `safety: GPU ${g.id} is under unknown level ${g.level}`);
    if (!(g.minWatts <= g.maxWatts)) throw new PowerError("bad-job", `safety: GPU ${g.id} has min above max`);
    for (const p of work[k]!.path) work[p]!.gpus.push(i);
  });
  return work;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * One pass of the safety loop. Pure: the same state and observation give the same decision, and
 * an observation not newer than the state's (`atMs`) advances no counter.
 *
 * @example
 * let state = initialSafetyState();
 * const d = decideSafety(state, { atMs: 0, levels: [{ id: "rack", limitWatts: 2500, measuredWatts: 2600 }],
 *   gpus: [{ id: "g0", level: "rack", priority: 2, minWatts: 200, maxWatts: 700, capWatts: 700, drawWatts: 650 }] }, DEFAULT_SAFETY_CONFIG);
 * // d.actions[0]: g0 → 475 W, "rack 2600 W of 2500 W (104%) over the second threshold (100%): …"
 * state = d.state;
 */
export function decideSafety(
  state: SafetyState,
  observation: SafetyObservation,
  config: SafetyConfig = DEFAULT_SAFETY_CONFIG,
): SafetyDecision {
  checkConfig(config);
  const levels = buildLevels(observation);
  const gpus = observation.gpus;
  const fresh = state.atMs === undefined || observation.atMs > state.atMs;

  // Working caps: the allowed maximum, or lower where the loop holds the GPU.
  const cap = gpus.map((g) => {
    const held = state.held[g.id];
    return clamp(Math.min(g.maxWatts, held?.capWatts ?? g.maxWatts), g.minWatts, g.maxWatts);
  });
  const reason: (SafetyReason | undefined)[] = gpus.map((g, i) =>
    cap[i]! < g.maxWatts ? { ...state.held[g.id]!.reason, rule: "hold" as const } : undefined,
  );
  const applied = gpus.map((g) => g.capWatts);
  const estimate = (i: number, known: boolean) =>
    known ? Math.min(gpus[i]!.drawWatts ?? applied[i]!, applied[i]!) : applied[i]!;

  const reports = new Map<number, SafetyLevelReport>();
  const readings = levels.map((w) => {
    const l = w.level;
    if (l.measuredWatts !== undefined) return { watts: l.measuredWatts, assumed: false };
    let worst = l.limitWatts;
    if (l.fixedWatts !== undefined) {
      worst = Math.min(worst, l.fixedWatts + w.gpus.reduce((s, i) => s + applied[i]!, 0));
    }
    return { watts: worst, assumed: true };
  });

  // Cuts, deepest level first, so a parent sees what its children already cut.
  const order = levels.map((_, k) => k).sort((a, b) => levels[b]!.depth - levels[a]!.depth);
  for (const k of order) {
    const w = levels[k]!;
    const { watts, assumed } = readings[k]!;
    const limit = w.level.limitWatts;
    const known = !assumed;
    const projected = () => watts - w.gpus.reduce((s, i) => s + Math.max(0, estimate(i, known) - cap[i]!), 0);
    const band =
      watts > config.secondThreshold * limit
        ? "second"
        : watts > config.firstThreshold * limit
          ? "first"
          : watts < config.releaseThreshold * limit
            ? "release"
            : "between";
    let exhausted = false;
    if (band === "second" || band === "first") {
      const threshold = band === "second" ? config.secondThreshold : config.firstThreshold;
      const why: SafetyReason = {
        rule: band === "second" ? "second-threshold" : "first-threshold",
        level: w.level.id,
        measuredWatts: watts,
        assumed,
        limitWatts: limit,
        threshold,
        text:
          `${w.level.id} ${assumed ? "assumed " : ""}${Math.round(watts)} W of ${limit} W ` +
          `(${Math.round((100 * watts) / limit)}%) over the ${band} threshold (${Math.round(100 * threshold)}%): ` +
          (band === "second"
            ? "every GPU under it capped in proportion"
            : `low-priority work capped (priority ≥ ${config.lowPriorityFrom}, least important first)`),
      };
      let need = projected() - config.firstThreshold * limit;
      const classes =
        band === "second"
          ? [w.gpus]
          : [...new Set(w.gpus.map((i) => gpus[i]!.priority).filter((p) => p >= config.lowPriorityFrom))]
              .sort((a, b) => b - a)
              .map((p) => w.gpus.filter((i) => gpus[i]!.priority === p));
      for (const members of classes) {
        if (need <= 0) break;
        need = cutInProportion(
          members,
          need,
          (i) => Math.min(estimate(i, known), cap[i]!),
          gpus,
          cap,
          reason,
          why,
        );
      }
      exhausted = need > 1e-9;
    }
    reports.set(k, {
      level: w.level.id,
      measuredWatts: watts,
      assumed,
      limitWatts: limit,
      band,
      projectedWatts: projected(),
      exhausted,
      belowCount: 0,
    });
  }

  // Hysteresis: count observations below the release threshold, then release one step.
  const below: Record<string, number> = {};
  levels.forEach((w, k) => {
    const prev = state.below[w.level.id] ?? 0;
    const r = reports.get(k)!;
    below[w.level.id] = r.band !== "release" ? 0 : fresh ? prev + 1 : prev;
  });
  if (fresh) releaseStep(levels, readings, gpus, cap, reason, below, config);
  levels.forEach((w, k) => {
    reports.set(k, { ...reports.get(k)!, belowCount: below[w.level.id]! });
  });

  const held: Record<string, SafetyHold> = {};
  const capWatts: Record<string, number> = {};
  const actions: SafetyAction[] = [];
  gpus.forEach((g, i) => {
    const c = cap[i]!;
    capWatts[g.id] = c;
    let why = reason[i];
    if (c < g.maxWatts && why) held[g.id] = Object.freeze({ capWatts: c, reason: why });
    if (c !== g.capWatts) {
      why ??= {
        rule: "allowed-maximum",
        text: `${g.id} set to its allowed maximum ${g.maxWatts} W (nothing holds it lower)`,
      };
      actions.push(Object.freeze({ gpu: g.id, fromWatts: g.capWatts, capWatts: c, reason: why }));
    }
  });
  return Object.freeze({
    state: Object.freeze({
      atMs: fresh ? observation.atMs : state.atMs,
      held: Object.freeze(held),
      below: Object.freeze(below),
    }),
    capWatts: Object.freeze(capWatts),
    actions: Object.freeze(actions),
    explanation: Object.freeze(levels.map((_, k) => reports.get(k)!)),
  });
}

/** Cuts `members` by `need` watts of estimated draw, each in proportion to its headroom; returns what is left. */
function cutInProportion(
  members: readonly number[],
  need: number,
  draw: (i: number) => number,
  gpus: readonly SafetyGpu[],
  cap: number[],
  reason: (SafetyReason | undefined)[],
  why: SafetyReason,
): number {
  const room = members.map((i) => Math.max(0, draw(i) - gpus[i]!.minWatts));
  const total = room.reduce((s, r) => s + r, 0);
  if (total <= 0) return need;
  const fraction = Math.min(1, need / total);
  members.forEach((i, m) => {
    if (room[m]! <= 0) return;
    const next = Math.max(gpus[i]!.minWatts, draw(i) - room[m]! * fraction);
    if (next < cap[i]!) {
      cap[i] = next;
      reason[i] = why;
    }
  });
  return need - total * fraction;
}

/** Raises held caps one step where every level above them has waited long enough. */
function releaseStep(
  levels: readonly LevelWork[],
  readings: readonly { watts: number }[],
  gpus: readonly SafetyGpu[],
  cap: number[],
  reason: (SafetyReason | undefined)[],
  below: Record<string, number>,
  config: SafetyConfig,
): void {
  const ready = (k: number) => below[levels[k]!.level.id]! >= config.releaseAfterObservations;
  const room = levels.map((w, k) => config.releaseThreshold * w.level.limitWatts - readings[k]!.watts);
  const pathOf = new Map<number, number[]>();
  levels.forEach((w) => {
    for (const i of w.gpus)
      if (!pathOf.has(i) || pathOf.get(i)!.length < w.path.length) pathOf.set(i, w.path);
  });
  const candidates = gpus
    .map((_, i) => i)
    .filter((i) => cap[i]! < gpus[i]!.maxWatts && pathOf.get(i)!.every(ready))
    .sort((a, b) => gpus[a]!.priority - gpus[b]!.priority);
  const touched = new Set<number>();
  for (const i of candidates) {
    const g = gpus[i]!;
    const path = pathOf.get(i)!;
    const step = Math.min(
      g.maxWatts - cap[i]!,
      config.releaseStepFraction * (g.maxWatts - g.minWatts),
      ...path.map((k) => room[k]!),
    );
    if (step <= 0) continue;
    cap[i]! += step;
    for (const k of path) {
      room[k]! -= step;
      touched.add(k);
    }
    const top = levels[path[0]!]!.level;
    reason[i] = {
      rule: "release",
      level: top.id,
      measuredWatts: readings[path[0]!]!.watts,
      limitWatts: top.limitWatts,
      threshold: config.releaseThreshold,
      text:
        `released one step: every level above ${g.id} below ${Math.round(100 * config.releaseThreshold)}% ` +
        `for ${config.releaseAfterObservations} observations`,
    };
  }
  for (const k of touched) below[levels[k]!.level.id] = 0;
}
