/**
 * The admission and placement engine: power as a scheduling primitive. Pure and in memory; a
 * front end (HTTP, the CLI, the Kubernetes extender's endpoints) wires it to the world.
 *
 * Power model. Every level of the budget tree carries its nodes' non-GPU draw at worst and every
 * idle GPU at its floor (where the allocator parks a GPU that runs nothing); a job adds, on every
 * level above its nodes, its GPUs' rise from that floor to its profile's cap. A job is admitted
 * only where every level above it stays within `admitFraction` of its limit, so the allocator can
 * always give every admitted job its profile's cap.
 *
 * @example
 * const engine = createPlacementEngine({ build, tree: deriveBudgets(build) });
 * const d = engine.place({ id: "pretrain", org: "acme", gpus: 16, shape: "same-leaf", profile: "max-q" });
 * if (d.status === "placed") console.log(d.nodes, d.headroom[0]);
 * else console.log(d.status, d.reason); // "queued", "floor PDU fpdu-a1 (row hall1/row1, side A) would reach 103% of its budget"
 */
import type { BuildResult } from "@flightdeck/model";
import type { BudgetTree, PowerProfile } from "@flightdeck/power";
import { capResolver } from "./caps.ts";
import type { Core, Window } from "./core.ts";
import { decide, decideOn, type Outcome } from "./decide.ts";
import { PlacementError } from "./errors.ts";
import {
  type ExtenderArgs,
  type ExtenderBindingArgs,
  type ExtenderBindingResult,
  type ExtenderFilterResult,
  extenderHandlers,
  type HostPriority,
} from "./extender.ts";
import { levelNamer, levelUse } from "./levels.ts";
import { type Hold, Occupancy } from "./occupancy.ts";
import { bad, type Checked, checkFields, checkWindow } from "./request.ts";
import { newScratch } from "./select.ts";
import { indexTopology } from "./topology.ts";
import type {
  Decision,
  Holding,
  JobTraits,
  LevelUse,
  PlacementRequest,
  ReservationRequest,
} from "./types.ts";

export interface PlacementEngineOptions {
  readonly build: BuildResult;
  /** From `deriveBudgets(build, …)`: overrides and facility targets shape what fits. */
  readonly tree: BudgetTree;
  /** Custom profiles (from `defineProfile`), usable by name besides the built-in ones. */
  readonly profiles?: readonly PowerProfile[];
  /** Clock in ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Fraction of each level's limit admission may fill, in (0, 1] (default 1). */
  readonly admitFraction?: number;
  /** How long a pod assumed by `prioritize` holds its node unbound (default 30 s). */
  readonly assumeTtlMs?: number;
}

/** A holder and the levels above its nodes, fullest first. */
export interface HoldingExplanation {
  readonly holding: Holding;
  readonly levels: readonly LevelUse[];
}

/** The engine. Every method is synchronous; ids are unique per kind (jobs, reservations). */
export interface PlacementEngine {
  /** Decides without holding anything. Throws `PlacementError` for a bad request. */
  plan(request: PlacementRequest): Decision;
  /** Decides and, when placed, holds the nodes and power for the job until `release`. */
  place(request: PlacementRequest): Decision;
  /** Holds given nodes for a job decided elsewhere; throws `conflict` when they cannot take it. */
  commit(request: PlacementRequest, nodes: readonly string[]): Holding;
  /** Records a job found running (observed): held as is, replacing pods assumed on its nodes. */
  adopt(jobId: string, nodes: readonly string[], traits: JobTraits): Holding;
  /** Frees a job's nodes and power (and every pod assumed for it); false when it held nothing. */
  release(jobId: string): boolean;
  /** Holds nodes and power for a future window (`status: "reserved"`), or says why not. */
  reserve(request: ReservationRequest): Decision;
  cancelReservation(id: string): boolean;
  reservations(): readonly Holding[];
  /** Jobs and assumed pods. */
  holdings(): readonly Holding[];
  /** A job's, pod's or reservation's nodes and the levels above them now. */
  explain(id: string): HoldingExplanation;
  /** Every level of the budget tree with its use at worst now (jobs, pods, active reservations). */
  levels(): readonly LevelUse[];
  /** Kubernetes scheduler extender verbs (see extender.ts). */
  filter(args: ExtenderArgs): ExtenderFilterResult;
  prioritize(args: ExtenderArgs): HostPriority[];
  bind(args: ExtenderBindingArgs): ExtenderBindingResult;
}

/** Builds an engine over a factory and its budget tree. */
export function createPlacementEngine(options: PlacementEngineOptions): PlacementEngine {
  const admitFraction = options.admitFraction ?? 1;
  if (!(admitFraction > 0 && admitFraction <= 1))
    throw bad("admitFraction", `admitFraction must be in (0, 1] (got ${admitFraction})`);
  const assumeTtlMs = options.assumeTtlMs ?? 30_000;
  if (!(assumeTtlMs > 0)) throw bad("assumeTtlMs", `assumeTtlMs must be positive (got ${assumeTtlMs})`);
  const topo = indexTopology(options.build, options.tree);
  const occ = new Occupancy(topo);
  const scratch = newScratch(topo, occ.rackBusy);
  for (let b = 0; b < topo.limit.length; b++) scratch.ceiling[b] = topo.limit[b]! * admitFraction;
  const now = options.now ?? Date.now;
  const core: Core = {
    topo,
    occ,
    scratch,
    now,
    caps: capResolver(topo, options.profiles ?? []),
    levelName: levelNamer(topo),
    admitFraction,
    assumeTtlMs,
    ever: new Map(),
  };
  const extender = extenderHandlers(core);

  const windowOf = (r: PlacementRequest): Window => {
    const t = now();
    if (r.startMs !== undefined && !Number.isFinite(r.startMs))
      throw bad("startMs", "startMs must be a time in ms since the epoch");
    if (r.durationSeconds !== undefined && !(r.durationSeconds > 0 && Number.isFinite(r.durationSeconds)))
      throw bad("durationSeconds", `durationSeconds must be positive (got ${r.durationSeconds})`);
    const startMs = Math.max(t, r.startMs ?? t);
    return {
      startMs,
      endMs: r.durationSeconds === undefined ? Number.POSITIVE_INFINITY : startMs + r.durationSeconds * 1000,
    };
  };

  const nodesOf = (names: readonly string[], field: string): Int32Array => {
    if (!Array.isArray(names) || names.length === 0) throw bad(field, `${field} must list node names`);
    const seen = new Set<number>();
    return Int32Array.from(names, (name) => {
      const n = topo.byName.get(name);
      if (n === undefined)
        throw new PlacementError("unknown-node", field, `no node with GPUs named "${name}" in this factory`);
      if (seen.has(n)) throw bad(field, `node ${name} is listed twice`);
      seen.add(n);
      return n;
    });
  };

  const holdJob = (req: Checked, window: Window, out: Outcome): void => {
    occ.hold({
      id: req.id,
      kind: "job",
      job: req.id,
      org: req.org,
      profile: req.profile,
      priority: req.priority,
      nodes: out.nodes!,
      add: out.add!,
      startMs: window.startMs,
      endMs: window.endMs,
    });
  };

  /** Decides a job: on its reservation's nodes, or anywhere its shape allows. */
  const decideJob = (request: PlacementRequest): { req: Checked; window: Window; out: Outcome } => {
    occ.expire(now());
    const req = checkFields(topo, request);
    const window = windowOf(request);
    const caps = core.caps(req.profile, req.kind);
    if (request.reservation === undefined)
      return { req, window, out: decide(core, req, window, "placed", caps) };
    const r = occ.reservations.get(request.reservation);
    if (!r)
      throw new PlacementError(
        "unknown-reservation",
        "reservation",
        `no reservation "${request.reservation}"`,
      );
    if (r.org !== req.org)
      throw bad("reservation", `reservation ${r.id} belongs to org ${r.org}, not ${req.org}`);
    const nodes: number[] = [];
    let gpus = 0;
    for (const n of r.nodes) {
      if (gpus >= req.gpus) break;
      nodes.push(n);
      gpus += topo.gpuCount[n]!;
    }
    if (gpus < req.gpus)
      throw bad("gpus", `reservation ${r.id} holds ${gpus} GPUs; the job asks for ${req.gpus}`);
    return { req, window, out: decideOn(core, req, window, caps, Int32Array.from(nodes), r.id) };
  };

  const explainHold = (h: Hold): HoldingExplanation => {
    const levels = new Set<number>();
    for (const n of h.nodes)
      for (let k = topo.pathStart[n]!; k < topo.pathStart[n + 1]!; k++) levels.add(topo.pathItems[k]!);
    const use = currentUse();
    return Object.freeze({
      holding: occ.describe(h),
      levels: Object.freeze(
        [...levels]
          .map((b) => levelUse(topo, core.levelName, b, use[b]!))
          .sort((a, b) => b.afterPercent - a.afterPercent),
      ),
    });
  };

  /** Jobs and pods, plus reservations active now. */
  const currentUse = (): Float64Array => {
    const use = occ.used.slice();
    const t = now();
    for (const r of occ.reservations.values())
      if (r.startMs <= t && t < r.endMs)
        r.nodes.forEach((n, k) => {
          for (let p = topo.pathStart[n]!; p < topo.pathStart[n + 1]!; p++)
            use[topo.pathItems[p]!]! += r.add[k]!;
        });
    return use;
  };

  return {
    plan: (request) => decideJob(request).out.decision,

    place(request) {
      if (occ.jobs.has(request?.id))
        throw new PlacementError("conflict", "id", `job ${request.id} already holds nodes; release it first`);
      const { req, window, out } = decideJob(request);
      if (out.decision.status === "placed") {
        holdJob(req, window, out);
        if (request.reservation !== undefined) occ.reservations.delete(request.reservation);
      }
      return out.decision;
    },

    commit(request, names) {
      occ.expire(now());
      const req = checkFields(topo, request);
      if (occ.jobs.has(req.id))
        throw new PlacementError("conflict", "id", `job ${req.id} already holds nodes; release it first`);
      const window = windowOf(request);
      const nodes = nodesOf(names, "nodes");
      const out = decideOn(core, req, window, core.caps(req.profile, req.kind), nodes);
      const d = out.decision;
      if (d.status !== "placed")
        throw new PlacementError(
          "conflict",
          "nodes",
          `cannot commit job ${req.id}: ${"reason" in d ? d.reason : d.status}`,
        );
      holdJob(req, window, out);
      return occ.describe(occ.jobs.get(req.id)!);
    },

    adopt(jobId, names, traits) {
      if (typeof jobId !== "string" || jobId === "") throw bad("id", "id must be a non-empty string");
      if (typeof traits?.org !== "string" || traits.org === "")
        throw bad("org", "org must be a non-empty string");
      const nodes = nodesOf(names, "nodes");
      for (const n of nodes) {
        const h = occ.holder[n];
        if (h?.kind === "job" && h.id !== jobId)
          throw new PlacementError("conflict", "nodes", `node ${topo.name[n]} is held by job ${h.id}`);
      }
      const profile = traits.profile ?? "max-p";
      const caps = core.caps(profile, traits.kind ?? "training");
      for (const n of nodes) {
        const h = occ.holder[n];
        if (h) occ.drop(h);
      }
      const old = occ.jobs.get(jobId);
      if (old) occ.drop(old);
      // A GPU whose profile is unknown for its type counts at its maximum (ARCHITECTURE: unknown at worst).
      const add = Float64Array.from(nodes, (n) => {
        const cap = caps.capWatts[topo.gpuType[n]!]!;
        return topo.gpuCount[n]! * ((Number.isNaN(cap) ? topo.maxCap[n]! : cap) - topo.minCap[n]!);
      });
      const t = now();
      occ.hold({
        id: jobId,
        kind: "job",
        job: jobId,
        org: traits.org,
        profile,
        priority: traits.priority ?? 0,
        nodes,
        add,
        startMs: t,
        endMs: traits.endMs ?? Number.POSITIVE_INFINITY,
      });
      return occ.describe(occ.jobs.get(jobId)!);
    },

    release(jobId) {
      let any = false;
      const job = occ.jobs.get(jobId);
      if (job) {
        occ.drop(job);
        any = true;
      }
      for (const pod of [...occ.pods.values()])
        if (pod.job === jobId) {
          occ.drop(pod);
          any = true;
        }
      return any;
    },

    reserve(request) {
      occ.expire(now());
      const req = checkFields(topo, request);
      checkWindow(request.startMs, request.endMs, now(), `reservation ${req.id}`);
      if (occ.reservations.has(req.id))
        throw new PlacementError("conflict", "id", `reservation ${req.id} exists; cancel it first`);
      const window = { startMs: request.startMs, endMs: request.endMs };
      const out = decide(core, req, window, "reserved", core.caps(req.profile, req.kind));
      if (out.decision.status === "reserved")
        occ.reservations.set(req.id, {
          id: req.id,
          kind: "reservation",
          job: req.id,
          org: req.org,
          profile: req.profile,
          priority: req.priority,
          nodes: out.nodes!,
          add: out.add!,
          ...window,
        });
      return out.decision;
    },

    cancelReservation: (id) => occ.reservations.delete(id),

    reservations() {
      const t = now();
      for (const [id, r] of occ.reservations) if (r.endMs <= t) occ.reservations.delete(id);
      return [...occ.reservations.values()].map((r) => occ.describe(r));
    },

    holdings() {
      occ.expire(now());
      return [...occ.jobs.values(), ...occ.pods.values()].map((h) => occ.describe(h));
    },

    explain(id) {
      occ.expire(now());
      const h = occ.jobs.get(id) ?? occ.reservations.get(id) ?? occ.pods.get(id);
      if (!h) throw new PlacementError("unknown-job", "id", `no job, reservation or pod "${id}" holds nodes`);
      return explainHold(h);
    },

    levels() {
      occ.expire(now());
      const use = currentUse();
      return topo.tree.budgets.map((_, b) => levelUse(topo, core.levelName, b, use[b]!));
    },

    filter: extender.filter,
    prioritize: extender.prioritize,
    bind: extender.bind,
  };
}
