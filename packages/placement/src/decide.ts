/**
 * One decision: can this job (or reservation) have nodes in its window, which, and if not, is it
 * only busy now (`queued`) or could it never fit (`rejected`)? Never changes the occupancy.
 */
import type { Caps } from "./caps.ts";
import { type Core, prepare, type Window } from "./core.ts";
import { formatPercent, levelUse } from "./levels.ts";
import type { Checked } from "./request.ts";
import { clear, type NotFound, refusal, search, take } from "./select.ts";
import type { Decision, Explanation, LevelUse, Placed, Refused } from "./types.ts";

/** A decision and, when placed, the chosen nodes and what each adds. */
export interface Outcome {
  readonly decision: Decision;
  readonly nodes?: Int32Array;
  readonly add?: Float64Array;
}

/** Decides `req` in `window`; `status` is what a success is called. */
export function decide(
  core: Core,
  req: Checked,
  window: Window,
  status: Placed["status"],
  caps: Caps,
): Outcome {
  const s = core.scratch;
  const org = req.orgNodes;
  const base = explanationBase(core, req, caps);
  // Whether a request could ever fit depends only on the factory, its budgets and the request:
  // remembered per org, shape, size and profile.
  const key = `${req.org}\u0000${req.shape}\u0000${req.gpus}\u0000${caps.ref}\u0000${req.kind}`;
  let memo = core.ever.get(key);
  if (!memo) {
    const never = structural(core, req, caps);
    if (never) memo = { never };
    if (core.ever.size >= 10_000) core.ever.clear();
    core.ever.set(key, memo ?? {});
  }
  if (memo?.never) return refused(req, "rejected", memo.never, base, 0, undefined);

  prepare(core, org, caps, window);
  let free = 0;
  for (const n of org.nodes) if (!s.blocked[n]) free++;
  const found = search(s, org, req.gpus, req.shape);
  if (found.ok) {
    const out = placed(core, req, caps, window, status, found.nodes, {
      ...base,
      freeNodes: free,
      groupsTried: found.tried,
      groupsFeasible: found.feasible,
      rule: found.rule,
    });
    clear(s);
    return out;
  }
  const now = failure(core, req, found);
  let ever = core.ever.get(key)!.empty;
  if (!ever) {
    prepare(core, org, caps, window, { empty: true });
    const found = search(s, org, req.gpus, req.shape);
    clear(s);
    ever = found.ok ? "fits" : found;
    core.ever.get(key)!.empty = ever;
  }
  if (ever !== "fits") {
    const why = failure(core, req, ever);
    return refused(
      req,
      "rejected",
      `${why.reason}, even with nothing else running`,
      base,
      free,
      ever,
      why.level,
    );
  }
  return refused(req, "queued", now.reason, base, free, found, now.level);
}

/**
 * Places `req` on given nodes (a reservation's, or a commit of a decision made elsewhere): each
 * must be the org's, free in the window and held by every level above it.
 */
export function decideOn(
  core: Core,
  req: Checked,
  window: Window,
  caps: Caps,
  nodes: Int32Array,
  own?: string,
): Outcome {
  const { topo, scratch: s, occ } = core;
  const base = explanationBase(core, req, caps);
  prepare(core, req.orgNodes, caps, window, own === undefined ? {} : { own });
  const explanation = { ...base, freeNodes: nodes.length, groupsTried: 1, groupsFeasible: 0 };
  for (const n of nodes) {
    if (s.blocked[n]) {
      clear(s);
      const holder = occ.holder[n];
      const why =
        topo.org[n] !== req.org
          ? `node ${topo.name[n]} is not in org ${req.org}'s racks`
          : holder
            ? `node ${topo.name[n]} is held by ${holder.kind} ${holder.job}`
            : `node ${topo.name[n]} is reserved in that window or has no ${req.profile} profile`;
      return refused(
        req,
        "queued",
        why,
        { ...explanation, rule: "the given nodes" },
        nodes.length,
        undefined,
      );
    }
    const b = refusal(s, n);
    if (b >= 0) {
      take(s, n);
      const level = levelUse(topo, core.levelName, b, s.base[b]! + s.delta[b]!);
      clear(s);
      return refused(
        req,
        "queued",
        powerReason(core, level),
        { ...explanation, rule: "the given nodes" },
        nodes.length,
        undefined,
        level,
      );
    }
    take(s, n);
  }
  const out = placed(core, req, caps, window, "placed", Array.from(nodes), {
    ...explanation,
    groupsFeasible: 1,
    rule: "the given nodes",
  });
  clear(s);
  return out;
}

function explanationBase(core: Core, req: Checked, caps: Caps) {
  const { topo } = core;
  const types: Record<string, { profile: string; capWatts: number }> = {};
  let eligible = 0;
  for (const n of req.orgNodes.nodes) {
    const t = topo.gpuType[n]!;
    if (Number.isNaN(caps.capWatts[t]!)) continue;
    eligible++;
    types[topo.gpuTypes[t]!] = { profile: caps.names[t]!, capWatts: caps.capWatts[t]! };
  }
  return { shape: req.shape, caps: types, orgNodes: eligible };
}

/** Why the job could never fit the org's racks whatever runs: too few GPUs for its shape. */
function structural(core: Core, req: Checked, caps: Caps): string | undefined {
  const { topo } = core;
  const org = req.orgNodes;
  const ok = (n: number) => topo.org[n] === req.org && !Number.isNaN(caps.capWatts[topo.gpuType[n]!]!);
  let total = 0;
  for (const n of org.nodes) if (ok(n)) total += topo.gpuCount[n]!;
  if (total < req.gpus)
    return `org ${req.org} has ${total} GPUs${total < org.gpus ? ` with a ${req.profile} profile` : ""} in its racks; the job needs ${req.gpus}`;
  if (req.shape === "same-leaf") {
    let most = 0;
    for (const g of org.leaves) {
      let gpus = 0;
      for (const n of topo.leaves.members[g]!) if (ok(n)) gpus += topo.gpuCount[n]!;
      most = Math.max(most, gpus);
    }
    if (most < req.gpus)
      return `no leaf switch serves ${req.gpus} of org ${req.org}'s GPUs (at most ${most} under one)`;
  }
  if (req.shape === "nvl-domain") {
    let whole = 0;
    let domains = 0;
    for (const d of org.domains) {
      const m = topo.domains.members[d]!;
      if (!m.every(ok)) continue;
      domains++;
      for (const n of m) whole += topo.gpuCount[n]!;
    }
    if (whole < req.gpus)
      return `org ${req.org} has ${domains} whole NVLink domain(s) with ${whole} GPUs; the job needs ${req.gpus}`;
  }
  return undefined;
}

function powerReason(core: Core, level: LevelUse): string {
  const stop =
    core.admitFraction < 1 ? ` (admission stops at ${formatPercent(core.admitFraction * 100)})` : "";
  return `${level.name} would reach ${formatPercent(level.afterPercent)} of its budget${stop}`;
}

function failure(core: Core, req: Checked, nf: NotFound): { reason: string; level?: LevelUse } {
  if (nf.power) {
    const level = levelUse(core.topo, core.levelName, nf.power.budget, nf.power.watts);
    return { reason: powerReason(core, level), level };
  }
  const where =
    req.shape === "same-leaf"
      ? " under one leaf switch"
      : req.shape === "nvl-domain"
        ? " in whole free NVLink domains"
        : "";
  const most = req.shape === "same-leaf" || req.shape === "nvl-domain" ? "at most " : "";
  return {
    reason: `needs ${req.gpus} GPUs${where}; ${most}${nf.freeGpus} free in org ${req.org}'s racks`,
  };
}

function placed(
  core: Core,
  req: Checked,
  caps: Caps,
  window: Window,
  status: Placed["status"],
  nodes: number[],
  explanation: Omit<Explanation, "binding">,
): Outcome {
  const { topo, scratch: s } = core;
  const headroom = s.touched
    .map((b) => levelUse(topo, core.levelName, b, s.base[b]! + s.delta[b]!))
    .sort((a, b) => b.afterPercent - a.afterPercent || (a.id < b.id ? -1 : 1));
  let powerWatts = 0;
  let addedWatts = 0;
  const add = new Float64Array(nodes.length);
  nodes.forEach((n, k) => {
    powerWatts += topo.gpuCount[n]! * caps.capWatts[topo.gpuType[n]!]! + topo.fixedWatts[n]!;
    add[k] = s.add[n]!;
    addedWatts += add[k]!;
  });
  const decision: Placed = Object.freeze({
    status,
    id: req.id,
    org: req.org,
    nodes: Object.freeze(nodes.map((n) => topo.name[n]!)),
    gpus: Object.freeze(nodes.flatMap((n) => topo.gpuIds[n]!)),
    powerWatts,
    addedWatts,
    headroom: Object.freeze(headroom),
    ...(status === "reserved" && { startMs: window.startMs, endMs: window.endMs }),
    explanation: Object.freeze({ ...explanation, ...(headroom[0] && { binding: headroom[0] }) }),
  });
  return { decision, nodes: Int32Array.from(nodes), add };
}

function refused(
  req: Checked,
  status: Refused["status"],
  reason: string,
  base: ReturnType<typeof explanationBase> & Partial<Explanation>,
  free: number,
  nf: NotFound | undefined,
  level?: LevelUse,
): Outcome {
  const explanation: Explanation = Object.freeze({
    freeNodes: free,
    groupsTried: nf?.tried ?? 0,
    groupsFeasible: 0,
    rule: nf?.rule ?? "the org's racks cannot hold the job",
    ...base,
    ...(level && { binding: level }),
  });
  return {
    decision: Object.freeze({
      status,
      id: req.id,
      org: req.org,
      reason,
      ...(level && { level }),
      explanation,
    }),
  };
}
