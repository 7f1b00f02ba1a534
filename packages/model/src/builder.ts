/** Growable storage for a graph under construction; `finish` freezes it into a FactoryGraph. */
import {
  type Adjacency,
  adjacency,
  type Entity,
  type EntityKind,
  FactoryGraph,
  fillFrom,
  type GraphRelations,
  type Link,
  linkObjects,
} from "./graph.ts";

/** Kinds whose ids are derived from their node's: `gpu:NODE/ORDINAL`. */
export const NODE_PARTS: ReadonlySet<EntityKind> = new Set(["gpu", "nic", "dpu"]);

/** `kind:` for each kind, the start of its ids. */
const ID_PREFIX: Readonly<Record<EntityKind, string>> = {
  site: "site:",
  hall: "hall:",
  row: "row:",
  rack: "rack:",
  node: "node:",
  gpu: "gpu:",
  nic: "nic:",
  dpu: "dpu:",
  power: "power:",
  switch: "switch:",
  nvlinkDomain: "nvlinkDomain:",
};

type MutableEntity = { -readonly [K in keyof Entity]: Entity[K] };

/** Fields a caller sets when adding an entity; the rest default to null. */
export type EntityInit = Pick<Entity, "kind" | "name" | "parent"> &
  Partial<Omit<MutableEntity, "index" | "id">>;

/**
 * A growable typed array (doubling): edge lists of a million entries without boxed numbers. Each
 * call makes its own class, so each element type keeps monomorphic code in hot loops.
 */
function growableList<A extends Int32Array | Float64Array>(make: (capacity: number) => A) {
  return class {
    data: A;
    length = 0;

    constructor(capacity = 256) {
      this.data = make(capacity);
    }

    push(value: number): void {
      if (this.length === this.data.length) this.grow(this.data.length * 2);
      this.data[this.length++] = value;
    }

    /** Makes room for `extra` more values, so that the list grows once instead of doubling. */
    reserve(extra: number): void {
      if (this.length + extra > this.data.length) this.grow(this.length + extra);
    }

    /** The values so far as a view (no copy); later pushes may or may not show through. */
    view(): A {
      return this.data.subarray(0, this.length) as A;
    }

    private grow(capacity: number): void {
      const next = make(capacity);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
  };
}

/** A growable Int32Array. */
export const IntList = growableList((n) => new Int32Array(n));
export type IntList = InstanceType<typeof IntList>;
/** A growable Float64Array. */
export const FloatList = growableList((n) => new Float64Array(n));
export type FloatList = InstanceType<typeof FloatList>;

export class GraphBuilder {
  /** The entities so far: the first `size` (beyond that, room reserved for more until `finish`). */
  entities: MutableEntity[] = [];
  private count = 0;
  /** Ids of everything but node parts (GPU, NIC, DPU), which are found through their node. */
  private readonly ids = new Map<string, number>();
  private readonly feedFrom = new IntList(1024);
  private readonly feedTo = new IntList(1024);
  private readonly linkLower = new IntList(1024);
  private readonly linkUpper = new IntList(1024);
  private readonly linkCables = new IntList(1024);
  private readonly linkGbps = new FloatList(1024);
  private readonly memberOf = new IntList();
  private readonly memberDomain = new IntList();
  private readonly affinityNic = new IntList();
  private readonly affinityGpu = new IntList();

  /**
   * Adds an entity with id `kind:name`; returns its index, or -1 when the id is taken. Node parts
   * are not checked: a part's id is unique when its node's is.
   */
  add(init: EntityInit): number {
    const kind = init.kind;
    const id = ID_PREFIX[kind] + init.name;
    const part = NODE_PARTS.has(kind);
    if (!part && this.ids.has(id)) return -1;
    const index = this.push(
      id,
      kind,
      init.name,
      init.type ?? null,
      init.parent,
      init.org ?? null,
      init.side ?? null,
      init.ratingWatts ?? null,
      init.limitWatts ?? null,
      init.fabric ?? null,
      init.tier ?? null,
      init.ordinal ?? null,
    );
    if (!part) this.ids.set(id, index);
    return index;
  }

  /** `add` with the fields in order, for anything but a node part (no ordinal). */
  addWith(
    kind: Exclude<EntityKind, "gpu" | "nic" | "dpu">,
    name: string,
    type: string | null,
    parent: number,
    org: string | null,
    side: string | null,
    ratingWatts: number | null,
    limitWatts: number | null,
    fabric: string | null,
    tier: string | null,
  ): number {
    const id = ID_PREFIX[kind] + name;
    if (this.ids.has(id)) return -1;
    const index = this.push(
      id,
      kind,
      name,
      type,
      parent,
      org,
      side,
      ratingWatts,
      limitWatts,
      fabric,
      tier,
      null,
    );
    this.ids.set(id, index);
    return index;
  }

  /**
   * Adds a GPU, NIC or DPU of a node (the fast path of `add` for the bulk of a factory): `name` is
   * `NODE/ORDINAL` and the id is `kind:name`. Never fails.
   */
  addPart(
    kind: "gpu" | "nic" | "dpu",
    name: string,
    type: string | null,
    node: number,
    org: string | null,
    ordinal: number,
  ): number {
    return this.push(
      ID_PREFIX[kind] + name,
      kind,
      name,
      type,
      node,
      org,
      null,
      null,
      null,
      null,
      null,
      ordinal,
    );
  }

  private push(
    id: string,
    kind: EntityKind,
    name: string,
    type: string | null,
    parent: number,
    org: string | null,
    side: string | null,
    ratingWatts: number | null,
    limitWatts: number | null,
    fabric: string | null,
    tier: string | null,
    ordinal: number | null,
  ): number {
    const index = this.count++;
    // Every entity gets the same fields in the same order, so V8 keeps one shape for all.
    this.entities[index] = {
      index,
      id,
      kind,
      name,
      type,
      parent,
      org,
      side,
      ratingWatts,
      limitWatts,
      fabric,
      tier,
      ordinal,
    };
    return index;
  }

  /** How many entities there are. */
  get size(): number {
    return this.count;
  }

  /** Makes room for `extra` more entities, so that the array grows once (a hint; more may come). */
  reserveEntities(extra: number): void {
    const needed = this.count + extra;
    if (needed <= this.entities.length) return;
    const next = new Array<MutableEntity>(needed);
    for (let i = 0; i < this.count; i++) next[i] = this.entities[i]!;
    this.entities = next;
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
    this.linkLower.push(lower);
    this.linkUpper.push(upper);
    this.linkCables.push(cables);
    this.linkGbps.push(gbps);
  }

  /** Makes room for `extra` more links (a hint; more can always be added). */
  reserveLinks(extra: number): void {
    this.linkLower.reserve(extra);
    this.linkUpper.reserve(extra);
    this.linkCables.reserve(extra);
    this.linkGbps.reserve(extra);
  }

  /**
   * Makes room for what the racks to come will add (hints from the document; more can always be
   * added): power feeds, links, NVLink domain members, and NIC–GPU pairs.
   */
  reserve(feeds: number, links: number, members: number, pairs: number): void {
    this.feedFrom.reserve(feeds);
    this.feedTo.reserve(feeds);
    this.reserveLinks(links);
    this.memberOf.reserve(members);
    this.memberDomain.reserve(members);
    this.affinityNic.reserve(pairs);
    this.affinityGpu.reserve(pairs);
  }

  /** The links so far, as objects. */
  get links(): Link[] {
    return linkObjects(
      this.linkLower.view(),
      this.linkUpper.view(),
      this.linkCables.view(),
      this.linkGbps.view(),
    );
  }

  joinDomain(member: number, domain: number): void {
    this.memberOf.push(member);
    this.memberDomain.push(domain);
  }

  pair(nic: number, gpu: number): void {
    this.affinityNic.push(nic);
    this.affinityGpu.push(gpu);
  }

  /** Power edges so far, upstream → downstream (used while computing demand before `finish`). */
  feedEdges(): { from: Int32Array; to: Int32Array } {
    return { from: this.feedFrom.view(), to: this.feedTo.view() };
  }

  finish(): FactoryGraph {
    // Room reserved but not used goes.
    if (this.entities.length > this.count) this.entities.length = this.count;
    const n = this.count;
    const feedFrom = this.feedFrom.view();
    const feedTo = this.feedTo.view();
    // One working array for all the adjacencies below.
    const scratch = new Int32Array(n);
    const linkLower = this.linkLower.view();
    const linkUpper = this.linkUpper.view();
    const linkCount = linkLower.length;
    const linksDown = edgeAdjacency(n, linkUpper, linkCount, scratch);
    const linksUp = edgeAdjacency(n, linkLower, linkCount, scratch);
    const domainOf = new Int32Array(n).fill(-1);
    const memberOf = this.memberOf.view();
    const memberDomain = this.memberDomain.view();
    for (let i = 0; i < memberOf.length; i++) domainOf[memberOf[i]!] = memberDomain[i]!;
    const affinity = new Int32Array(n).fill(-1);
    const nics = this.affinityNic.data;
    const gpus = this.affinityGpu.data;
    for (let i = 0; i < this.affinityNic.length; i++) affinity[nics[i]!] = gpus[i]!;
    const feedsUp = adjacency(n, feedTo, feedFrom, feedFrom.length, scratch);
    const feedsDown = adjacency(n, feedFrom, feedTo, feedFrom.length, scratch);
    const linkCables = this.linkCables.view();
    const linkGbps = this.linkGbps.view();
    let links: Link[] | undefined;
    const rel: GraphRelations = {
      children: childAdjacency(this.entities, scratch),
      feedsDown,
      feedsUp,
      linksDown,
      linksUp,
      // Link objects are made on first use; the graph's own queries read the columns below.
      get links(): Link[] {
        links ??= linkObjects(linkLower, linkUpper, linkCables, linkGbps);
        return links;
      },
      linkLower,
      linkUpper,
      linkCables,
      linkGbps,
      domainOf,
      domainMembers: adjacency(n, memberDomain, memberOf, memberOf.length, scratch),
      affinity,
      orgsServed: orgsServed(this.entities, feedsUp, linksUp, linkUpper),
    };
    return new FactoryGraph(this.entities, rel, this.ids, kindIndex(this.entities));
  }
}

/** The indexes of each kind's entities, in order; kinds in order of their first entity. */
function kindIndex(entities: readonly Entity[]): Map<EntityKind, Int32Array> {
  const count = entities.length;
  const counts = new Map<EntityKind, number>();
  // Entities of a kind mostly come in runs (a node's GPUs, then its NICs…): one look-up a run.
  for (let i = 0, j = 0; i < count; i = j) {
    const kind = entities[i]!.kind;
    for (j = i + 1; j < count && entities[j]!.kind === kind; j++);
    counts.set(kind, (counts.get(kind) ?? 0) + j - i);
  }
  const out = new Map<EntityKind, Int32Array>();
  const filled = new Map<EntityKind, number>();
  for (const [kind, n] of counts) {
    out.set(kind, new Int32Array(n));
    filled.set(kind, 0);
  }
  for (let i = 0, j = 0; i < count; i = j) {
    const kind = entities[i]!.kind;
    const list = out.get(kind)!;
    let at = filled.get(kind)!;
    for (j = i; j < count && entities[j]!.kind === kind; j++) list[at++] = j;
    filled.set(kind, at);
  }
  return out;
}

/** Containment as an adjacency: the children of each entity, in index order. */
function childAdjacency(entities: readonly Entity[], scratch: Int32Array): Adjacency {
  const count = entities.length;
  const offsets = new Int32Array(count + 1);
  let edges = 0;
  for (let i = 0; i < count; i++) {
    const p = entities[i]!.parent;
    if (p >= 0) {
      offsets[p + 1]!++;
      edges++;
    }
  }
  for (let i = 0; i < count; i++) offsets[i + 1]! += offsets[i]!;
  const fill = fillFrom(offsets, count, scratch);
  const items = new Int32Array(edges);
  for (let i = 0; i < count; i++) {
    const p = entities[i]!.parent;
    if (p >= 0) items[fill[p]!++] = i;
  }
  return { offsets, items };
}

/** An adjacency whose items are edge numbers: edge `e` goes from `from[e]`. */
function edgeAdjacency(count: number, from: Int32Array, edges: number, scratch: Int32Array): Adjacency {
  const offsets = new Int32Array(count + 1);
  for (let e = 0; e < edges; e++) offsets[from[e]! + 1]!++;
  for (let i = 0; i < count; i++) offsets[i + 1]! += offsets[i]!;
  const fill = fillFrom(offsets, count, scratch);
  const items = new Int32Array(edges);
  for (let e = 0; e < edges; e++) items[fill[from[e]!]!++] = e;
  return { offsets, items };
}

/**
 * For shared entities (no org of their own), the orgs they serve: walked upward from every owned
 * entity over power feeds, fabric links and physical containment. Each shared entity is visited
 * at most once per org, so the cost is edges × orgs.
 */
function orgsServed(
  entities: readonly Entity[],
  feedsUp: Adjacency,
  linksUp: Adjacency,
  linkUpper: Int32Array,
): Map<number, string[]> {
  const served = new Map<number, Set<string>>();
  const stack: number[] = [];
  const feedOffsets = feedsUp.offsets;
  const feedItems = feedsUp.items;
  const linkOffsets = linksUp.offsets;
  const linkItems = linksUp.items;
  const count = entities.length;
  for (let start = 0; start < count; start++) {
    const org = entities[start]!.org;
    if (org === null) continue;
    for (let i = start; ; i = stack.pop()!) {
      // Everything directly above `i`: what feeds it, the switches it links up to, its container.
      for (let k = feedOffsets[i]!; k < feedOffsets[i + 1]!; k++)
        visitShared(feedItems[k]!, org, entities, served, stack);
      for (let k = linkOffsets[i]!; k < linkOffsets[i + 1]!; k++)
        visitShared(linkUpper[linkItems[k]!]!, org, entities, served, stack);
      const parent = entities[i]!.parent;
      if (parent >= 0) visitShared(parent, org, entities, served, stack);
      if (stack.length === 0) break;
    }
  }
  const out = new Map<number, string[]>();
  for (const [i, set] of served) out.set(i, [...set].sort());
  return out;
}

/** Notes that shared entity `j` serves `org`; queues it to walk further up the first time. */
function visitShared(
  j: number,
  org: string,
  entities: readonly Entity[],
  served: Map<number, Set<string>>,
  stack: number[],
): void {
  if (entities[j]!.org !== null) return;
  let set = served.get(j);
  if (!set) {
    set = new Set();
    served.set(j, set);
  }
  if (set.has(org)) return;
  set.add(org);
  stack.push(j);
}
