/**
 * Choosing nodes for one request over prepared per-request state (`Scratch`): which nodes are
 * usable, what each adds to every level above it, and each level's use and ceiling.
 *
 * Candidates are groups: a leaf group for `same-leaf` and `any` (whose units are nodes), a leaf
 * group of whole NVLink domains for `nvl-domain`, the org's racks in turn for `spread`. Within a
 * group, units are taken greedily in preference order (racks already in use first, for packing;
 * then racks away from upcoming reservations; then the most power headroom), each only if every
 * level above it still holds it together with the units already taken. Among groups that can
 * take the job, the best score wins (ties: the first in model order):
 *
 *   score = 0.6 · headroom after + 0.4 · fit − 0.5 · [near an upcoming reservation]
 *
 * where headroom after is the least free fraction of any level on the chosen nodes' paths once
 * they are placed, and fit is the job's GPUs over the group's free GPUs (best fit keeps whole
 * groups free for large jobs). `any` and multi-domain `nvl-domain` jobs that no single group
 * holds spill over groups in the same order.
 */
import type { OrgNodes, Topology } from "./topology.ts";
import type { Shape } from "./types.ts";

/** Per-request working state, owned by the engine and reused between requests. */
export interface Scratch {
  readonly topo: Topology;
  /** 1: not usable by this request (held or reserved in its window, another org's, no profile variant). */
  readonly blocked: Uint8Array;
  /** Watts the node adds to every level above it at the request's profile. */
  readonly add: Float64Array;
  /** 1: the node's rack, domain or leaf group has an upcoming reservation. */
  readonly steer: Uint8Array;
  /** Held nodes per rack, for packing. */
  readonly rackBusy: Int32Array;
  /** Each level's use in the request's window before it, and what the request may fill it to. */
  readonly base: Float64Array;
  readonly ceiling: Float64Array;
  /** What the nodes taken so far add to each level; `touched` lists the levels with any. */
  readonly delta: Float64Array;
  readonly touched: number[];
  readonly mark: Uint8Array;
}

export function newScratch(topo: Topology, rackBusy: Int32Array): Scratch {
  const levels = topo.limit.length;
  return {
    topo,
    blocked: new Uint8Array(topo.count),
    add: new Float64Array(topo.count),
    steer: new Uint8Array(topo.count),
    rackBusy,
    base: new Float64Array(levels),
    ceiling: new Float64Array(levels),
    delta: new Float64Array(levels),
    touched: [],
    mark: new Uint8Array(levels),
  };
}

/** Floating-point slack when comparing watts. */
const EPS = 1e-6;

/** The first level (deepest first) that cannot take `node` on top of what is taken, or -1. */
export function refusal(s: Scratch, node: number): number {
  const { pathStart, pathItems } = s.topo;
  const a = s.add[node]!;
  for (let k = pathStart[node]!; k < pathStart[node + 1]!; k++) {
    const b = pathItems[k]!;
    if (s.base[b]! + s.delta[b]! + a > s.ceiling[b]! + EPS) return b;
  }
  return -1;
}

/** Counts `node` in (sign 1) or out of (sign −1) the levels above it. */
export function take(s: Scratch, node: number, sign = 1): void {
  const { pathStart, pathItems } = s.topo;
  const a = sign * s.add[node]!;
  for (let k = pathStart[node]!; k < pathStart[node + 1]!; k++) {
    const b = pathItems[k]!;
    if (!s.mark[b]) {
      s.mark[b] = 1;
      s.touched.push(b);
    }
    s.delta[b]! += a;
  }
}

export function clear(s: Scratch): void {
  for (const b of s.touched) {
    s.delta[b] = 0;
    s.mark[b] = 0;
  }
  s.touched.length = 0;
}

/** The least free fraction of any touched level, with what is taken. */
function headroomAfter(s: Scratch): number {
  let least = 1;
  for (const b of s.touched) {
    const limit = s.topo.limit[b]!;
    if (limit > 0) least = Math.min(least, (s.ceiling[b]! - s.base[b]! - s.delta[b]!) / limit);
  }
  return least;
}

/** The touched level filled the most (as a fraction of its limit), with what is taken. */
export function fullest(s: Scratch): { budget: number; watts: number } | undefined {
  let best: { budget: number; watts: number } | undefined;
  let most = Number.NEGATIVE_INFINITY;
  for (const b of s.touched) {
    const watts = s.base[b]! + s.delta[b]!;
    const f = watts / s.topo.limit[b]!;
    if (f > most) {
      most = f;
      best = { budget: b, watts };
    }
  }
  return best;
}

/** Free fraction of the levels above a node before the request (its rack's headroom). */
function headroomOf(s: Scratch, node: number): number {
  const { pathStart, pathItems, limit } = s.topo;
  let least = 1;
  for (let k = pathStart[node]!; k < pathStart[node + 1]!; k++) {
    const b = pathItems[k]!;
    if (limit[b]! > 0) least = Math.min(least, (s.ceiling[b]! - s.base[b]!) / limit[b]!);
  }
  return least;
}

/** A candidate list: nodes, or whole NVLink domains. */
interface Order {
  readonly domains: boolean;
  readonly units: number[];
}

function unitNodes(s: Scratch, order: Order, u: number): ArrayLike<number> {
  return order.domains ? s.topo.domains.members[u]! : [u];
}

function usable(s: Scratch, nodes: ArrayLike<number>): boolean {
  for (let k = 0; k < nodes.length; k++) if (s.blocked[nodes[k]!]) return false;
  return true;
}

function freeGpus(s: Scratch, order: Order): number {
  let gpus = 0;
  for (const u of order.units) {
    const nodes = unitNodes(s, order, u);
    if (!usable(s, nodes)) continue;
    for (let k = 0; k < nodes.length; k++) gpus += s.topo.gpuCount[nodes[k]!]!;
  }
  return gpus;
}

/**
 * Takes units in order until `need` GPUs; with `power`, only units every level above still
 * holds. Leaves what it took in `delta` (the caller clears). Null when it falls short.
 */
function pick(s: Scratch, order: Order, need: number, power: boolean): number[] | null {
  const chosen: number[] = [];
  let got = 0;
  for (const u of order.units) {
    if (got >= need) break;
    const nodes = unitNodes(s, order, u);
    if (!usable(s, nodes)) continue;
    let k = 0;
    for (; k < nodes.length; k++) {
      if (power && refusal(s, nodes[k]!) >= 0) break;
      take(s, nodes[k]!);
    }
    if (k < nodes.length) {
      for (let r = 0; r < k; r++) take(s, nodes[r]!, -1);
      continue;
    }
    for (let r = 0; r < nodes.length; r++) {
      chosen.push(nodes[r]!);
      got += s.topo.gpuCount[nodes[r]!]!;
    }
  }
  return got >= need ? chosen : null;
}

/** Spread: one node per rack in turn, racks in preference order. */
function pickSpread(s: Scratch, racks: number[], need: number, power: boolean): number[] | null {
  const members = s.topo.racks.members;
  const cursor = new Int32Array(racks.length);
  const chosen: number[] = [];
  let got = 0;
  for (let progress = true; progress && got < need; ) {
    progress = false;
    for (let r = 0; r < racks.length && got < need; r++) {
      const m = members[racks[r]!]!;
      while (cursor[r]! < m.length) {
        const n = m[cursor[r]!++]!;
        if (s.blocked[n] || (power && refusal(s, n) >= 0)) continue;
        take(s, n);
        chosen.push(n);
        got += s.topo.gpuCount[n]!;
        progress = true;
        break;
      }
    }
  }
  return got >= need ? chosen : null;
}

/** What a search found: the nodes (left counted in `delta`) and how it chose. */
export interface Found {
  readonly ok: true;
  readonly nodes: number[];
  readonly tried: number;
  readonly feasible: number;
  readonly rule: string;
}

/** Why a search found nothing: the closest a power level came, or the free GPUs in the best group. */
export interface NotFound {
  readonly ok: false;
  /** Set when some candidate had the free GPUs but a level could not hold the job there. */
  readonly power?: { budget: number; watts: number };
  /** Most free GPUs in one candidate (the whole org for `any` and `spread`). */
  readonly freeGpus: number;
  readonly tried: number;
  readonly rule: string;
}

const W_HEADROOM = 0.6;
const W_FIT = 0.4;
const W_STEER = 0.5;

/** Finds nodes for `need` GPUs of `org` in the given shape. */
export function search(s: Scratch, org: OrgNodes, need: number, shape: Shape): Found | NotFound {
  if (shape === "spread") return searchSpread(s, org, need);
  const domains = shape === "nvl-domain";
  // Orders are built only for groups with room: a quick count of free GPUs bounds what whole
  // domains can give, so most groups are passed over without sorting anything for a large job.
  const groups = Array.from(org.leaves, (g) => {
    let bound = 0;
    for (const n of s.topo.leaves.members[g]!) if (!s.blocked[n]) bound += s.topo.gpuCount[n]!;
    return { g, bound, built: undefined as Order | undefined };
  });
  const orderOf = (e: (typeof groups)[number]): Order => {
    e.built ??= groupOrder(s, e.g, domains);
    return e.built;
  };
  let best: { order: Order; score: number } | undefined;
  let feasible = 0;
  let mostFree = 0;
  let totalFree = 0;
  let closest: { budget: number; watts: number; fraction: number } | undefined;
  const consider = (order: Order): void => {
    const free = freeGpus(s, order);
    mostFree = Math.max(mostFree, free);
    totalFree += free;
    if (free < need) return;
    const nodes = pick(s, order, need, true);
    if (nodes) {
      feasible++;
      let steered = 0;
      for (const n of nodes) steered |= s.steer[n]!;
      const score = W_HEADROOM * headroomAfter(s) + W_FIT * (need / free) - W_STEER * steered;
      if (!best || score > best.score + 1e-12) best = { order, score };
    } else {
      clear(s);
      pick(s, order, need, false);
      const worst = fullest(s);
      if (worst) {
        const fraction = worst.watts / s.topo.limit[worst.budget]!;
        if (!closest || fraction < closest.fraction) closest = { ...worst, fraction };
      }
    }
    clear(s);
  };
  for (const e of groups) {
    if (e.bound < need) {
      mostFree = Math.max(mostFree, domains ? 0 : e.bound);
      totalFree += domains ? freeGpus(s, orderOf(e)) : e.bound;
    } else consider(orderOf(e));
  }
  const what = domains ? "leaf groups of NVLink domains" : "leaf groups";
  if (best) {
    const nodes = pick(s, best.order, need, true)!;
    return {
      ok: true,
      nodes,
      tried: groups.length,
      feasible,
      rule: `best of ${feasible} feasible ${what} by 0.6 × headroom after + 0.4 × fit − 0.5 × near a reservation`,
    };
  }
  if (shape === "same-leaf" || (domains && need <= domainGpus(s, org))) {
    return notFound(
      closest,
      mostFree,
      groups.length,
      `no single ${domains ? "domain" : "leaf group"} can take it`,
    );
  }
  // Spill over groups: the roomiest (and unreserved) first.
  const spill: Order = { domains, units: [] };
  const ranked = groups
    .map((e) => {
      const order = orderOf(e);
      return { order, steer: groupSteered(s, order), room: groupHeadroom(s, order), g: e.g };
    })
    .sort((a, b) => a.steer - b.steer || b.room - a.room || a.g - b.g);
  for (const r of ranked) spill.units.push(...r.order.units);
  if (totalFree >= need) {
    const nodes = pick(s, spill, need, true);
    if (nodes)
      return {
        ok: true,
        nodes,
        tried: groups.length + 1,
        feasible: 1,
        rule: `no single leaf group can take it: spread over ${what}, roomiest and unreserved first`,
      };
    clear(s);
    pick(s, spill, need, false);
    const worst = fullest(s);
    clear(s);
    if (worst) {
      const fraction = worst.watts / s.topo.limit[worst.budget]!;
      if (!closest || fraction < closest.fraction) closest = { ...worst, fraction };
    }
  }
  return notFound(closest, totalFree, groups.length + 1, "no set of nodes can take it");
}

function notFound(
  closest: { budget: number; watts: number } | undefined,
  freeGpus: number,
  tried: number,
  rule: string,
): NotFound {
  return closest
    ? { ok: false, power: { budget: closest.budget, watts: closest.watts }, freeGpus, tried, rule }
    : { ok: false, freeGpus, tried, rule };
}

/** GPUs of the org's largest NVLink domain. */
function domainGpus(s: Scratch, org: OrgNodes): number {
  let most = 0;
  for (const d of org.domains) {
    let g = 0;
    for (const n of s.topo.domains.members[d]!) g += s.topo.gpuCount[n]!;
    most = Math.max(most, g);
  }
  return most;
}

function searchSpread(s: Scratch, org: OrgNodes, need: number): Found | NotFound {
  const racks = rankRacks(s, Array.from(org.racks), false);
  let free = 0;
  for (const n of org.nodes) if (!s.blocked[n]) free += s.topo.gpuCount[n]!;
  if (free >= need) {
    const nodes = pickSpread(s, racks, need, true);
    if (nodes)
      return {
        ok: true,
        nodes,
        tried: 1,
        feasible: 1,
        rule: "one node per rack in turn, racks away from reservations and with the most headroom first",
      };
    clear(s);
    pickSpread(s, racks, need, false);
    const worst = fullest(s);
    clear(s);
    return notFound(worst, free, 1, "the org's racks cannot hold it spread");
  }
  return notFound(undefined, free, 1, "not enough free GPUs in the org's racks");
}

/** Racks by preference: in use first (when packing), then unreserved, then the most headroom. */
function rankRacks(s: Scratch, racks: number[], packing: boolean): number[] {
  const members = s.topo.racks.members;
  const key = racks.map((r) => {
    const m = members[r]!;
    let steer = 0;
    for (const n of m) steer |= s.steer[n]!;
    return { r, busy: packing && s.rackBusy[r]! > 0 ? 1 : 0, steer, room: headroomOf(s, m[0]!) };
  });
  key.sort((a, b) => b.busy - a.busy || a.steer - b.steer || b.room - a.room || a.r - b.r);
  return key.map((k) => k.r);
}

function groupOrder(s: Scratch, g: number, domains: boolean): Order {
  const topo = s.topo;
  if (domains) {
    const ds = Array.from(topo.leafDomains[g]!).filter((d) => topo.leaf[topo.domains.members[d]![0]!] === g);
    const key = ds.map((d) => {
      const m = topo.domains.members[d]!;
      let steer = 0;
      for (const n of m) steer |= s.steer[n]!;
      return { d, steer, room: headroomOf(s, m[0]!) };
    });
    key.sort((a, b) => a.steer - b.steer || b.room - a.room || a.d - b.d);
    return { domains, units: key.map((k) => k.d) };
  }
  const units: number[] = [];
  for (const r of rankRacks(s, Array.from(topo.leafRacks[g]!), true))
    for (const n of topo.racks.members[r]!) if (topo.leaf[n] === g) units.push(n);
  return { domains, units };
}

function groupSteered(s: Scratch, order: Order): number {
  for (const u of order.units) {
    const nodes = unitNodes(s, order, u);
    for (let k = 0; k < nodes.length; k++) if (s.steer[nodes[k]!]) return 1;
  }
  return 0;
}

function groupHeadroom(s: Scratch, order: Order): number {
  let least = 1;
  for (const u of order.units) least = Math.min(least, headroomOf(s, unitNodes(s, order, u)[0]!));
  return least;
}
