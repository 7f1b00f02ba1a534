/**
 * The factory as a graph in memory: typed entities with stable ids, and the relations the rest
 * of the product asks about — containment (hall ⊃ row ⊃ rack ⊃ node ⊃ GPU), power (feed → … →
 * rack PDU → node), fabric links (NIC → leaf → spine → core) and NVLink domains. Relations are
 * kept as compressed adjacency arrays so that a million entities stay small and fast to walk.
 */

export type EntityKind =
  | "site"
  | "hall"
  | "row"
  | "rack"
  | "node"
  | "gpu"
  | "nic"
  | "dpu"
  | "power"
  | "switch"
  | "nvlinkDomain";

/** Every kind of entity, containers first. */
export const ENTITY_KINDS: readonly EntityKind[] = [
  "site",
  "hall",
  "row",
  "rack",
  "node",
  "gpu",
  "nic",
  "dpu",
  "power",
  "switch",
  "nvlinkDomain",
];

/** One entity. `id` is stable across revisions as long as its name and place stay. */
export interface Entity {
  readonly index: number;
  /** `kind:name`, e.g. `rack:r01`, `node:r01-dgx1`, `gpu:r01-dgx1/3`, `power:fpdu-a1`. */
  readonly id: string;
  readonly kind: EntityKind;
  readonly name: string;
  /** Catalog key (rack, node, GPU, switch type) or power device kind. */
  readonly type: string | null;
  /** Index of the physical container; -1 for the site. */
  readonly parent: number;
  /** Owning org: set on racks and everything in them. Shared infrastructure has none. */
  readonly org: string | null;
  /** Feed side of a power device (A, B…). */
  readonly side: string | null;
  /** Power devices: rating and continuous limit (rating × derating). */
  readonly ratingWatts: number | null;
  readonly limitWatts: number | null;
  /** Switches: fabric name and tier (leaf, spine, core, management). */
  readonly fabric: string | null;
  readonly tier: string | null;
  /** GPUs, NICs, DPUs: position in the node. */
  readonly ordinal: number | null;
}

/** A fabric link from a lower port (NIC, DPU, BMC, leaf) up to a switch. */
export interface Link {
  readonly lower: number;
  readonly upper: number;
  /** Parallel cables aggregated in this link. */
  readonly cables: number;
  readonly gbps: number;
}

/** Compressed sparse rows: neighbors of i are items[offsets[i] .. offsets[i+1]). */
export interface Adjacency {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/**
 * Builds an adjacency from edge lists over `count` vertices. `scratch` (at least `count` long)
 * saves allocating a working array when building several.
 */
export function adjacency(
  count: number,
  from: ArrayLike<number>,
  to: ArrayLike<number>,
  edges: number,
  scratch?: Int32Array,
): Adjacency {
  const offsets = new Int32Array(count + 1);
  for (let e = 0; e < edges; e++) offsets[from[e]! + 1]!++;
  for (let i = 0; i < count; i++) offsets[i + 1]! += offsets[i]!;
  const fill = fillFrom(offsets, count, scratch);
  const items = new Int32Array(edges);
  for (let e = 0; e < edges; e++) items[fill[from[e]!]!++] = to[e]!;
  return { offsets, items };
}

/** Where each vertex's next item goes: a copy of the first `count` offsets. */
export function fillFrom(offsets: Int32Array, count: number, scratch?: Int32Array): Int32Array {
  if (!scratch || scratch.length < count) return offsets.slice(0, count);
  scratch.set(offsets.subarray(0, count));
  return scratch;
}

/** Neighbors of `i` in `adj` as a subarray view (no copy). */
export function neighbors(adj: Adjacency, i: number): Int32Array {
  return adj.items.subarray(adj.offsets[i]!, adj.offsets[i + 1]!);
}

/** Link objects from link columns. */
export function linkObjects(
  lower: Int32Array,
  upper: Int32Array,
  cables: Int32Array,
  gbps: Float64Array,
): Link[] {
  const out: Link[] = new Array(lower.length);
  for (let l = 0; l < lower.length; l++)
    out[l] = { lower: lower[l]!, upper: upper[l]!, cables: cables[l]!, gbps: gbps[l]! };
  return out;
}

/** Relations of a graph, as built by `buildFactory`. */
export interface GraphRelations {
  children: Adjacency;
  /** Power: downstream devices and nodes fed by a device. */
  feedsDown: Adjacency;
  /** Power: upstream devices feeding a device or node. */
  feedsUp: Adjacency;
  /** Fabric: link indexes below a switch / above a port. */
  linksDown: Adjacency;
  linksUp: Adjacency;
  /** Every link, indexed by link number (made on first use from the columns below). */
  readonly links: Link[];
  /** The links as columns, indexed by link number: `links[l].lower` is `linkLower[l]`, etc. */
  linkLower: Int32Array;
  linkUpper: Int32Array;
  linkCables: Int32Array;
  linkGbps: Float64Array;
  /** GPU or NVLink switch tray → its NVLink domain, -1 when none. */
  domainOf: Int32Array;
  domainMembers: Adjacency;
  /** NIC → the GPU it pairs with on the PCIe switch, -1 when none. */
  affinity: Int32Array;
  /** Orgs served by each shared entity (power devices and switches outside racks). */
  orgsServed: Map<number, string[]>;
}

/** Which relation one step of a path or walk took. */
export type Via = "contains" | "feeds" | "link" | "nvlink";

/** The factory graph with its indexes and the questions asked of it. Immutable once built. */
export class FactoryGraph {
  readonly entities: readonly Entity[];
  /** Visited marks of `descendants`, reused across walks. */
  private readonly marks: Uint32Array;
  private epoch = 0;
  readonly rel: GraphRelations;
  private readonly byId: Map<string, number>;
  private readonly byKind: Map<EntityKind, ArrayLike<number>>;

  constructor(
    entities: Entity[],
    rel: GraphRelations,
    byId: Map<string, number>,
    byKind: Map<EntityKind, ArrayLike<number>>,
  ) {
    this.entities = entities;
    this.marks = new Uint32Array(entities.length);
    this.rel = rel;
    this.byId = byId;
    this.byKind = byKind;
  }

  get size(): number {
    return this.entities.length;
  }

  /** The entity with this id, or undefined. */
  get(id: string): Entity | undefined {
    const i = this.byId.get(id) ?? this.partIndex(id);
    return i === undefined ? undefined : this.entities[i];
  }

  /** GPUs, NICs and DPUs are found through their node: `gpu:NODE/ORDINAL`. */
  private partIndex(id: string): number | undefined {
    const colon = id.indexOf(":");
    const slash = id.lastIndexOf("/");
    if (colon < 0 || slash < colon) return undefined;
    const kind = id.slice(0, colon);
    if (kind !== "gpu" && kind !== "nic" && kind !== "dpu") return undefined;
    const node = this.byId.get(`node:${id.slice(colon + 1, slash)}`);
    const ordinalText = id.slice(slash + 1);
    if (node === undefined || !/^(0|[1-9]\d*)$/.test(ordinalText)) return undefined;
    const ordinal = Number(ordinalText);
    for (const c of neighbors(this.rel.children, node)) {
      const e = this.entities[c]!;
      if (e.kind === kind && e.ordinal === ordinal) return c;
    }
    return undefined;
  }

  at(index: number): Entity {
    return this.entities[index]!;
  }

  /** All entities of a kind, in build order (document order). */
  ofKind(kind: EntityKind): Entity[] {
    const list = this.byKind.get(kind);
    if (!list) return [];
    const out = new Array<Entity>(list.length);
    for (let k = 0; k < list.length; k++) out[k] = this.entities[list[k]!]!;
    return out;
  }

  countOf(kind: EntityKind): number {
    return this.byKind.get(kind)?.length ?? 0;
  }

  /** Physical ancestors from the container up to the site. */
  ancestors(index: number): Entity[] {
    const out: Entity[] = [];
    for (let p = this.entities[index]!.parent; p >= 0; p = this.entities[p]!.parent)
      out.push(this.entities[p]!);
    return out;
  }

  /** The nearest physical ancestor (or self) of a kind. */
  enclosing(index: number, kind: EntityKind): Entity | undefined {
    for (let i = index; i >= 0; i = this.entities[i]!.parent)
      if (this.entities[i]!.kind === kind) return this.entities[i];
    return undefined;
  }

  /**
   * Every power path from an entity up to a feed: for a GPU, GPU → node → rack PDU → … → feed,
   * one path per distinct chain (a dual-corded node has at least an A and a B path).
   */
  powerPaths(index: number): Entity[][] {
    const e = this.entities[index]!;
    let prefix: Entity[] = [];
    let starts = [index];
    if (e.kind === "gpu" || e.kind === "nic" || e.kind === "dpu") {
      // Parts of a node draw through the node's power supplies.
      prefix = [e];
      starts = [e.parent];
    } else if (e.kind === "rack") {
      starts = Array.from(neighbors(this.rel.children, index)).filter(
        (c) => this.entities[c]!.kind === "power",
      );
    } else if (e.kind !== "node" && e.kind !== "power") {
      return [];
    }
    const paths: Entity[][] = [];
    const walk = (i: number, acc: Entity[]): void => {
      const next = acc.concat(this.entities[i]!);
      const up = neighbors(this.rel.feedsUp, i);
      if (up.length === 0) paths.push(next);
      else for (const u of up) walk(u, next);
    };
    for (const s of starts) walk(s, prefix);
    return paths;
  }

  /**
   * Everything under a component: its contents, all it feeds (power), all behind it (fabric), the
   * members of an NVLink domain. A NIC reached through a link brings its node and paired GPU,
   * not the node's other GPUs. Optionally only entities of one kind.
   */
  descendants(index: number, kind?: EntityKind): Entity[] {
    // Visited marks are stamped with a per-walk epoch, so a walk allocates nothing per entity
    // of the factory (a served API walks often; a fresh array each time would churn the GC).
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.marks.fill(0);
      this.epoch = 1;
    }
    const marks = this.marks;
    const epoch = this.epoch;
    const out: Entity[] = [];
    const queue: number[] = [index];
    marks[index] = epoch;
    const visit = (j: number, expandIt: boolean): void => {
      if (marks[j] === epoch) return;
      marks[j] = epoch;
      const e = this.entities[j]!;
      if (kind === undefined || e.kind === kind) out.push(e);
      if (expandIt) queue.push(j);
    };
    const { children, feedsDown, linksDown, linkLower, domainMembers, affinity } = this.rel;
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q]!;
      const e = this.entities[i]!;
      for (const c of neighbors(children, i)) visit(c, true);
      for (const c of neighbors(feedsDown, i)) visit(c, true);
      for (const l of neighbors(linksDown, i)) {
        const lower = linkLower[l]!;
        const le = this.entities[lower]!;
        // A switch below is walked further; a port reached over the fabric brings its node (not
        // the node's contents) and its paired GPU.
        visit(lower, le.kind === "switch");
        if (le.kind === "nic" || le.kind === "dpu") {
          visit(le.parent, false);
          const gpu = affinity[lower]!;
          if (gpu >= 0) visit(gpu, false);
        }
      }
      if (e.kind === "nvlinkDomain") for (const m of neighbors(domainMembers, i)) visit(m, false);
    }
    return out;
  }

  /** Members of an NVLink domain (GPUs and NVLink switch trays). */
  domainMembers(domainIndex: number): Entity[] {
    return Array.from(neighbors(this.rel.domainMembers, domainIndex), (i) => this.entities[i]!);
  }

  /** The NVLink domain of a GPU (or of a node's GPUs). */
  domainOf(index: number): Entity | undefined {
    const e = this.entities[index]!;
    let d = this.rel.domainOf[index]!;
    if (d < 0 && e.kind === "node") {
      const gpu = neighbors(this.rel.children, index).find((c) => this.entities[c]!.kind === "gpu");
      if (gpu !== undefined) d = this.rel.domainOf[gpu]!;
    }
    return d >= 0 ? this.entities[d] : undefined;
  }

  /** The links above a port or switch (towards spine and core). */
  uplinks(index: number): Link[] {
    const { linksUp, linkLower, linkUpper, linkCables, linkGbps } = this.rel;
    const out: Link[] = [];
    for (let k = linksUp.offsets[index]!; k < linksUp.offsets[index + 1]!; k++) {
      const l = linksUp.items[k]!;
      out.push({ lower: linkLower[l]!, upper: linkUpper[l]!, cables: linkCables[l]!, gbps: linkGbps[l]! });
    }
    return out;
  }

  /** The scale-out leaf switches a GPU or node hangs off, through its NICs. */
  leafSwitches(index: number): Entity[] {
    const e = this.entities[index]!;
    const ports: number[] = [];
    if (e.kind === "gpu") {
      for (const c of neighbors(this.rel.children, e.parent))
        if (this.rel.affinity[c] === index) ports.push(c);
    } else if (e.kind === "node") {
      for (const c of neighbors(this.rel.children, index))
        if (this.entities[c]!.kind === "nic") ports.push(c);
    } else if (e.kind === "nic" || e.kind === "dpu") ports.push(index);
    const out = new Set<number>();
    for (const p of ports) for (const l of neighbors(this.rel.linksUp, p)) out.add(this.rel.linkUpper[l]!);
    return [...out].map((i) => this.entities[i]!);
  }

  /** The owning org of an entity: its own, or its rack's; null for shared infrastructure. */
  orgOf(index: number): string | null {
    return this.entities[index]!.org;
  }

  /** Orgs whose entities a shared entity serves (a floor PDU feeding two orgs' racks → both). */
  orgsServedBy(index: number): readonly string[] {
    const own = this.entities[index]!.org;
    if (own !== null) return [own];
    return this.rel.orgsServed.get(index) ?? [];
  }
}
