/**
 * The engine's shared state and the one step every decision starts from: preparing the scratch
 * for a request's org, profile and time window (which nodes it may use, what each adds, every
 * level's use in that window, where reservations steer it away from).
 */
import type { Caps } from "./caps.ts";
import { type Occupancy, overlaps } from "./occupancy.ts";
import type { NotFound, Scratch } from "./select.ts";
import type { OrgNodes, Topology } from "./topology.ts";

export interface Core {
  readonly topo: Topology;
  readonly occ: Occupancy;
  readonly scratch: Scratch;
  readonly now: () => number;
  readonly caps: (ref: string, kind: "training" | "inference") => Caps;
  readonly levelName: (budget: number) => string;
  /** Fraction of each level's limit that admission may fill. */
  readonly admitFraction: number;
  /** How long a pod assumed by `prioritize` holds its node before it lapses unbound. */
  readonly assumeTtlMs: number;
  /** Per request shape: why it could never fit, or whether it fits an empty factory. */
  readonly ever: Map<string, { never?: string; empty?: NotFound | "fits" }>;
}

/** A request's window; `endMs` Infinity when open-ended. */
export interface Window {
  readonly startMs: number;
  readonly endMs: number;
}

export interface PrepareOptions {
  /** Ignore every holder and reservation: could it ever fit? */
  readonly empty?: boolean;
  /** A reservation the request runs on (neither blocks nor steers it). */
  readonly own?: string;
}

/** Fills the scratch for `org` at `caps` in `window`. */
export function prepare(
  core: Core,
  org: OrgNodes,
  caps: Caps,
  window: Window,
  opt: PrepareOptions = {},
): void {
  const { topo, occ, scratch: s } = core;
  s.blocked.fill(1);
  s.steer.fill(0);
  for (const n of org.nodes) {
    const cap = caps.capWatts[topo.gpuType[n]!]!;
    if (Number.isNaN(cap)) continue;
    s.blocked[n] = 0;
    s.add[n] = topo.gpuCount[n]! * (cap - topo.minCap[n]!);
  }
  if (opt.empty) {
    s.base.set(topo.idleUse);
    return;
  }
  s.base.set(occ.used);
  for (const n of org.nodes) {
    const h = occ.holder[n];
    if (h && h.endMs > window.startMs) s.blocked[n] = 1;
  }
  // Jobs that end before the window starts leave their watts to it.
  for (const h of occ.jobs.values()) if (h.endMs <= window.startMs) count(core, h.nodes, h.add, -1);
  const nowMs = core.now();
  const seen = { rack: new Set<number>(), domain: new Set<number>(), leaf: new Set<number>() };
  for (const r of occ.reservations.values()) {
    if (r.id === opt.own || r.endMs <= nowMs) continue;
    if (overlaps(r.startMs, r.endMs, window.startMs, window.endMs)) {
      for (const n of r.nodes) s.blocked[n] = 1;
      count(core, r.nodes, r.add, 1);
    }
    for (const n of r.nodes) {
      steer(s.steer, seen.rack, topo.rack[n]!, topo.racks.members);
      steer(s.steer, seen.domain, topo.domain[n]!, topo.domains.members);
      steer(s.steer, seen.leaf, topo.leaf[n]!, topo.leaves.members);
    }
  }
}

function steer(marks: Uint8Array, seen: Set<number>, group: number, members: readonly Int32Array[]): void {
  if (seen.has(group)) return;
  seen.add(group);
  for (const n of members[group]!) marks[n] = 1;
}

/** Adds (sign 1) or removes nodes' watts to the scratch's base use. */
export function count(core: Core, nodes: Int32Array, add: Float64Array, sign: 1 | -1): void {
  const { pathStart, pathItems } = core.topo;
  const base = core.scratch.base;
  nodes.forEach((n, k) => {
    for (let p = pathStart[n]!; p < pathStart[n + 1]!; p++) base[pathItems[p]!]! += sign * add[k]!;
  });
}
