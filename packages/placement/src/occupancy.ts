/**
 * Who holds what: jobs (placed here, committed or adopted), pods assumed by the extender, and
 * reservations of future windows; and the power ledger, each level's draw at worst with every
 * job and pod at its profile cap (reservations count only in the windows they overlap).
 */
import type { Topology } from "./topology.ts";
import type { Holding } from "./types.ts";

/** One holder of nodes. `add[k]` is what `nodes[k]` adds to the levels above it. */
export interface Hold {
  readonly id: string;
  readonly kind: "job" | "pod" | "reservation";
  readonly job: string;
  readonly org: string;
  readonly profile: string;
  readonly priority: number;
  readonly nodes: Int32Array;
  readonly add: Float64Array;
  readonly startMs: number;
  readonly endMs: number;
  expiresMs?: number;
}

export class Occupancy {
  readonly jobs = new Map<string, Hold>();
  readonly pods = new Map<string, Hold>();
  readonly reservations = new Map<string, Hold>();
  /** The job or pod holding each node. */
  readonly holder: (Hold | undefined)[];
  /** Held nodes per rack (packing). */
  readonly rackBusy: Int32Array;
  /** Each level's draw at worst with every job and pod counted. */
  readonly used: Float64Array;
  private readonly topo: Topology;

  constructor(topo: Topology) {
    this.topo = topo;
    this.holder = new Array(topo.count);
    this.rackBusy = new Int32Array(topo.racks.names.length);
    this.used = topo.idleUse.slice();
  }

  /** Counts a job or pod in: its nodes held, its watts on every level above them. */
  hold(h: Hold): void {
    (h.kind === "job" ? this.jobs : this.pods).set(h.id, h);
    this.account(h, 1);
  }

  /** Counts a job or pod out. */
  drop(h: Hold): void {
    const map = h.kind === "job" ? this.jobs : this.pods;
    if (map.get(h.id) !== h) return;
    map.delete(h.id);
    this.account(h, -1);
  }

  private account(h: Hold, sign: 1 | -1): void {
    const { pathStart, pathItems, rack } = this.topo;
    h.nodes.forEach((n, k) => {
      if (sign > 0) this.holder[n] = h;
      else if (this.holder[n] === h) this.holder[n] = undefined;
      this.rackBusy[rack[n]!]! += sign;
      for (let p = pathStart[n]!; p < pathStart[n + 1]!; p++) this.used[pathItems[p]!]! += sign * h.add[k]!;
    });
  }

  /** Drops pods whose assumption lapsed. */
  expire(nowMs: number): void {
    for (const h of [...this.pods.values()])
      if (h.expiresMs !== undefined && h.expiresMs <= nowMs) this.drop(h);
  }

  /** A hold as a frozen public value. */
  describe(h: Hold): Holding {
    return Object.freeze({
      id: h.id,
      kind: h.kind,
      job: h.job,
      org: h.org,
      profile: h.profile,
      priority: h.priority,
      nodes: Object.freeze(Array.from(h.nodes, (n) => this.topo.name[n]!)),
      addedWatts: h.add.reduce((a, b) => a + b, 0),
      startMs: h.startMs,
      endMs: h.endMs,
      ...(h.expiresMs !== undefined && { expiresMs: h.expiresMs }),
    });
  }
}

/** Windows [start, end) overlap. */
export function overlaps(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aStart < bEnd && bStart < aEnd;
}
