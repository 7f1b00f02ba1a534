/** Growable storage for a graph under construction; `finish` freezes it into a FactoryGraph. */
import { adjacency, type Entity, type EntityKind, FactoryGraph, type Link, neighbors } from "./graph.ts";

/** Kinds whose ids are derived from their node's: `gpu:NODE/ORDINAL`. */
export const NODE_PARTS: ReadonlySet<EntityKind> = new Set(["gpu", "nic", "dpu"]);

type MutableEntity = { -readonly [K in keyof Entity]: Entity[K] };

/** Fields a caller sets when adding an entity; the rest default to null. */
export type EntityInit = Pick<Entity, "kind" | "name" | "parent"> &
  Partial<Omit<MutableEntity, "index" | "id">>;

export class GraphBuilder {
  readonly entities: MutableEntity[] = [];
  /** Ids of everything but node parts (GPU, NIC, DPU), which are found through their node. */
  private readonly ids = new Map<string, number>();
  private readonly byKind = new Map<EntityKind, number[]>();
  private readonly feedFrom: number[] = [];
  private readonly feedTo: number[] = [];
  readonly links: Link[] = [];
  private readonly memberOf: number[] = [];
  private readonly memberDomain: number[] = [];
  private readonly affinityPairs: number[] = [];

  /**
   * Adds an entity with id `kind:name`; returns its index, or -1 when the id is taken. Node parts
   * are not checked: a part's id is unique when its node's is.
   */
  add(init: EntityInit): number {
    const id = `${init.kind}:${init.name}`;
    const part = NODE_PARTS.has(init.kind);
    if (!part && this.ids.has(id)) return -1;
    const index = this.entities.length;
    // Every entity gets the same fields in the same order, so V8 keeps one shape for all.
    this.entities.push({
      index,
      id,
      kind: init.kind,
      name: init.name,
      type: init.type ?? null,
      parent: init.parent,
      org: init.org ?? null,
      side: init.side ?? null,
      ratingWatts: init.ratingWatts ?? null,
      limitWatts: init.limitWatts ?? null,
      fabric: init.fabric ?? null,
      tier: init.tier ?? null,
      ordinal: init.ordinal ?? null,
    });
    if (!part) this.ids.set(id, index);
    let list = this.byKind.get(init.kind);
    if (!list) {
      list = [];
      this.byKind.set(init.kind, list);
    }
    list.push(index);
    return index;
  }

  has(kind: EntityKind, name: string): boolean {
    return this.ids.has(`${kind}:${name}`);
  }

  indexOf(kind: EntityKind, name: string): number | undefined {
    return this.ids.get(`${kind}:${name}`);
  }

  /** `upstream` feeds power to `downstream`. */
  feed(upstream: number, downstream: number): void {
    this.feedFrom.push(upstream);
    this.feedTo.push(downstream);
  }

  link(lower: number, upper: number, cables: number, gbps: number): void {
    this.links.push({ lower, upper, cables, gbps });
  }

  joinDomain(member: number, domain: number): void {
    this.memberOf.push(member);
    this.memberDomain.push(domain);
  }

  pair(nic: number, gpu: number): void {
    this.affinityPairs.push(nic, gpu);
  }

  /** Upstream power neighbors so far (used while computing demand before `finish`). */
  feedEdges(): { from: readonly number[]; to: readonly number[] } {
    return { from: this.feedFrom, to: this.feedTo };
  }

  finish(): FactoryGraph {
    const n = this.entities.length;
    const parents: number[] = [];
    const kids: number[] = [];
    for (const e of this.entities) {
      if (e.parent >= 0) {
        parents.push(e.parent);
        kids.push(e.index);
      }
    }
    const linkLower = this.links.map((l) => l.lower);
    const linkUpper = this.links.map((l) => l.upper);
    const linkIds = this.links.map((_, i) => i);
    const linksDown = adjacency(n, linkUpper, linkIds, this.links.length);
    const linksUp = adjacency(n, linkLower, linkIds, this.links.length);
    const domainOf = new Int32Array(n).fill(-1);
    for (let i = 0; i < this.memberOf.length; i++) domainOf[this.memberOf[i]!] = this.memberDomain[i]!;
    const affinity = new Int32Array(n).fill(-1);
    for (let i = 0; i < this.affinityPairs.length; i += 2)
      affinity[this.affinityPairs[i]!] = this.affinityPairs[i + 1]!;
    const feedsUp = adjacency(n, this.feedTo, this.feedFrom, this.feedFrom.length);
    const rel = {
      children: adjacency(n, parents, kids, kids.length),
      feedsDown: adjacency(n, this.feedFrom, this.feedTo, this.feedFrom.length),
      feedsUp,
      linksDown,
      linksUp,
      links: this.links,
      domainOf,
      domainMembers: adjacency(n, this.memberDomain, this.memberOf, this.memberOf.length),
      affinity,
      orgsServed: new Map<number, string[]>(),
    };
    rel.orgsServed = orgsServed(this.entities, rel.feedsUp, linksUp, this.links);
    return new FactoryGraph(this.entities, rel, this.ids, this.byKind);
  }
}

/**
 * For shared entities (no org of their own), the orgs they serve: walked upward from every owned
 * entity over power feeds, fabric links and physical containment. Each shared entity is visited
 * at most once per org, so the cost is edges × orgs.
 */
function orgsServed(
  entities: readonly Entity[],
  feedsUp: ReturnType<typeof adjacency>,
  linksUp: ReturnType<typeof adjacency>,
  links: readonly Link[],
): Map<number, string[]> {
  const served = new Map<number, Set<string>>();
  const stack: number[] = [];
  const upward = (i: number, push: (j: number) => void): void => {
    for (const u of neighbors(feedsUp, i)) push(u);
    for (const l of neighbors(linksUp, i)) push(links[l]!.upper);
    const p = entities[i]!.parent;
    if (p >= 0) push(p);
  };
  let org = "";
  const visitShared = (j: number): void => {
    if (entities[j]!.org !== null) return;
    let set = served.get(j);
    if (!set) {
      set = new Set();
      served.set(j, set);
    }
    if (set.has(org)) return;
    set.add(org);
    stack.push(j);
  };
  for (const e of entities) {
    if (e.org === null) continue;
    org = e.org;
    upward(e.index, visitShared);
    while (stack.length > 0) upward(stack.pop()!, visitShared);
  }
  const out = new Map<number, string[]>();
  for (const [i, set] of served) out.set(i, [...set].sort());
  return out;
}
