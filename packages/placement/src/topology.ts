/**
 * The factory as placement sees it, indexed once: every node with GPUs gets a dense number with
 * its rack, NVLink domain, leaf group and power path (its budget levels, deepest first), and every
 * org its nodes, so that a decision walks typed arrays instead of the graph.
 */
import { type BuildResult, overheadWatts } from "@flightdeck/model";
import type { BudgetTree } from "@flightdeck/power";

/** Dense groups of nodes (racks, NVLink domains, leaf groups). */
export interface Groups {
  readonly names: readonly string[];
  /** Nodes of each group, in model order. */
  readonly members: readonly Int32Array[];
}

export interface OrgNodes {
  readonly nodes: Int32Array;
  /** Leaf groups, NVLink domains and racks holding any of the org's nodes. */
  readonly leaves: Int32Array;
  readonly domains: Int32Array;
  readonly racks: Int32Array;
  readonly gpus: number;
}

export interface Topology {
  readonly build: BuildResult;
  readonly tree: BudgetTree;
  /** Nodes with GPUs. */
  readonly count: number;
  readonly entity: Int32Array;
  readonly name: readonly string[];
  readonly byName: ReadonlyMap<string, number>;
  readonly org: readonly (string | null)[];
  readonly gpuCount: Int32Array;
  /** Index into `gpuTypes`. */
  readonly gpuType: Int32Array;
  readonly gpuTypes: readonly string[];
  /** Each node's GPU ids and slot indexes in `tree.gpus`. */
  readonly gpuIds: readonly (readonly string[])[];
  /** Σ of the node's GPUs' minimum caps: what they count at while idle (the allocator's floor). */
  readonly idleWatts: Float64Array;
  /** The settable cap range of one of the node's GPUs. */
  readonly minCap: Float64Array;
  readonly maxCap: Float64Array;
  /** The node's non-GPU draw at worst. */
  readonly fixedWatts: Float64Array;
  readonly rack: Int32Array;
  readonly domain: Int32Array;
  readonly leaf: Int32Array;
  readonly racks: Groups;
  readonly domains: Groups;
  readonly leaves: Groups;
  /** Racks and NVLink domains with nodes under each leaf group, in model order. */
  readonly leafRacks: readonly Int32Array[];
  readonly leafDomains: readonly Int32Array[];
  /** Budget levels above each node, deepest first: `pathItems[pathStart[i] .. pathStart[i+1])`. */
  readonly pathStart: Int32Array;
  readonly pathItems: Int32Array;
  /** Per budget: limit, and draw with every node idle (other parts at worst, GPUs at their floor). */
  readonly limit: Float64Array;
  readonly idleUse: Float64Array;
  readonly orgs: ReadonlyMap<string, OrgNodes>;
}

/** Indexes a factory and its budget tree for placement. */
export function indexTopology(build: BuildResult, tree: BudgetTree): Topology {
  const { graph, catalog } = build;
  const { offsets, items } = graph.rel.children;
  const nodes = graph.ofKind("node").filter((n) => {
    for (let k = offsets[n.index]!; k < offsets[n.index + 1]!; k++)
      if (graph.at(items[k]!).kind === "gpu") return true;
    return false;
  });
  const count = nodes.length;
  const entity = Int32Array.from(nodes, (n) => n.index);
  const name = nodes.map((n) => n.name);
  const byName = new Map(name.map((s, i) => [s, i]));
  const gpuCount = new Int32Array(count);
  const gpuType = new Int32Array(count);
  const gpuTypes: string[] = [];
  const gpuIds: string[][] = [];
  const idleWatts = new Float64Array(count);
  const minCap = new Float64Array(count);
  const maxCap = new Float64Array(count);
  const fixedWatts = new Float64Array(count);
  const deepest = new Int32Array(count).fill(-1);
  nodes.forEach((n, i) => {
    const ids: string[] = [];
    for (let k = offsets[n.index]!; k < offsets[n.index + 1]!; k++) {
      const g = graph.at(items[k]!);
      if (g.kind !== "gpu") continue;
      const slot = tree.gpus[tree.gpuIndex.get(g.id) ?? -1];
      ids.push(g.id);
      const type = g.type ?? "";
      let t = gpuTypes.indexOf(type);
      if (t < 0) t = gpuTypes.push(type) - 1;
      gpuType[i] = t;
      minCap[i] = slot?.minWatts ?? catalog.gpus[type]?.minWatts ?? 0;
      maxCap[i] = slot?.maxWatts ?? catalog.gpus[type]?.maxWatts ?? 0;
      idleWatts[i]! += minCap[i]!;
      if (slot) deepest[i] = slot.budget;
    }
    gpuIds.push(ids);
    gpuCount[i] = ids.length;
    const spec = catalog.nodes[n.type ?? ""];
    fixedWatts[i] = spec ? overheadWatts(spec) : 0;
  });

  const budgets = tree.budgets;
  const pathStart = new Int32Array(count + 1);
  const path: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let b = deepest[i]!; b >= 0; b = budgets[b]!.parent) path.push(b);
    pathStart[i + 1] = path.length;
  }
  const limit = Float64Array.from(budgets, (b) => b.limitWatts);
  // Idle draw of a level: the non-GPU parts of every node under it (the tree's fixedWatts) and
  // every GPU under it at its floor, where the allocator parks a GPU that runs nothing.
  const idleUse = Float64Array.from(budgets, (b) => b.fixedWatts);
  for (const slot of tree.gpus)
    for (let b = slot.budget; b >= 0; b = budgets[b]!.parent) idleUse[b]! += slot.minWatts;

  const rack = new Int32Array(count);
  const domain = new Int32Array(count);
  const leaf = new Int32Array(count);
  const racks = grouper();
  const domains = grouper();
  const leaves = grouper();
  nodes.forEach((n, i) => {
    const r = graph.enclosing(n.index, "rack");
    rack[i] = racks.add(r ? r.name : `(no rack) ${n.name}`, i);
    const d = graph.domainOf(n.index);
    domain[i] = domains.add(d ? d.name : n.name, i);
    // Rail-optimized fabrics hang a node off one leaf per rail, all over the same nodes: the
    // first leaf names the group. A node on no fabric is a group with its rack.
    const ls = graph.leafSwitches(n.index).filter((s) => s.tier === "leaf");
    ls.sort((a, b) => a.index - b.index);
    leaf[i] = leaves.add(ls[0] ? ls[0].name : `(no leaf) ${r?.name ?? n.name}`, i);
  });

  const leafGroups = leaves.done();
  const under = (of: Int32Array) =>
    leafGroups.members.map((m) => Int32Array.from(new Set(Array.from(m, (i) => of[i]!))));

  const orgs = new Map<string, OrgNodes>();
  const byOrg = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    const o = n.org;
    if (o === null) return;
    const list = byOrg.get(o) ?? [];
    if (list.length === 0) byOrg.set(o, list);
    list.push(i);
  });
  for (const [o, list] of byOrg) {
    const uniq = (of: Int32Array) => Int32Array.from(new Set(list.map((i) => of[i]!)));
    orgs.set(o, {
      nodes: Int32Array.from(list),
      leaves: uniq(leaf),
      domains: uniq(domain),
      racks: uniq(rack),
      gpus: list.reduce((s, i) => s + gpuCount[i]!, 0),
    });
  }
  return {
    build,
    tree,
    count,
    entity,
    name,
    byName,
    org: nodes.map((n) => n.org),
    gpuCount,
    gpuType,
    gpuTypes,
    gpuIds,
    idleWatts,
    minCap,
    maxCap,
    fixedWatts,
    rack,
    domain,
    leaf,
    racks: racks.done(),
    domains: domains.done(),
    leaves: leafGroups,
    leafRacks: under(rack),
    leafDomains: under(domain),
    pathStart,
    pathItems: Int32Array.from(path),
    limit,
    idleUse,
    orgs,
  };
}

function grouper() {
  const index = new Map<string, number>();
  const names: string[] = [];
  const members: number[][] = [];
  return {
    add(name: string, node: number): number {
      let g = index.get(name);
      if (g === undefined) {
        g = names.push(name) - 1;
        index.set(name, g);
        members.push([]);
      }
      members[g]!.push(node);
      return g;
    },
    done(): Groups {
      return { names, members: members.map((m) => Int32Array.from(m)) };
    },
  };
}
