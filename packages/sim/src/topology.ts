/**
 * The static side of the twin: the factory graph flattened into slot-indexed typed arrays (GPU
 * slot, node slot, rack slot, power device slot), so that a tick over 288k GPUs is a few tight
 * loops. Built once per factory; never changes while the twin runs.
 */
import { type Catalog, type FactoryGraph, type GpuSpec, overheadWatts } from "@flightdeck/model";
import { type GpuModelInfo, gpuModelInfo } from "./devices.ts";

/** One GPU model present in the factory. */
export interface GpuModel {
  key: string;
  spec: GpuSpec;
  info: GpuModelInfo;
}

/** Slot-indexed static facts about the factory. GPUs of a node occupy consecutive slots. */
export interface SimTopology {
  readonly graph: FactoryGraph;
  readonly siteName: string;
  readonly gpuCount: number;
  readonly nodeCount: number;
  readonly rackCount: number;
  readonly powerCount: number;
  /** GPU slot → graph index, node slot, ordinal in the node, model (index into `models`). */
  readonly gpuEntity: Int32Array;
  readonly gpuNode: Int32Array;
  readonly gpuOrdinal: Int32Array;
  readonly gpuModel: Uint16Array;
  readonly models: readonly GpuModel[];
  /** Node slot → graph index, first GPU slot (`nodeGpuStart[n] .. nodeGpuStart[n+1]`), rack slot. */
  readonly nodeEntity: Int32Array;
  readonly nodeGpuStart: Int32Array;
  readonly nodeRack: Int32Array;
  /** CPU, memory, NIC, fan and other draw of the node at full load (catalog). */
  readonly nodeOverheadWatts: Float64Array;
  readonly nodeNames: readonly string[];
  readonly nodeSlotByName: ReadonlyMap<string, number>;
  readonly rackEntity: Int32Array;
  readonly rackNames: readonly string[];
  /** Power device slot → graph index and id (`power:NAME`). */
  readonly powerEntity: Int32Array;
  readonly powerIds: readonly string[];
  /** Devices feeding each node: `nodeFeedItems[nodeFeedStart[n] .. nodeFeedStart[n+1])`. */
  readonly nodeFeedStart: Int32Array;
  readonly nodeFeedItems: Int32Array;
  /** Devices feeding each device, same layout. */
  readonly powerUpStart: Int32Array;
  readonly powerUpItems: Int32Array;
  /** Device slots ordered so that every device comes after all the devices it feeds. */
  readonly powerOrder: Int32Array;
}

/** Flattens a built factory graph. Node types must be in the catalog (the model's build checks). */
export function buildTopology(graph: FactoryGraph, catalog: Catalog): SimTopology {
  const { children, feedsUp } = graph.rel;
  const site = graph.ofKind("site")[0]?.name ?? "factory";
  const nodes = graph.ofKind("node");
  const racks = graph.ofKind("rack");
  const power = graph.ofKind("power");
  const rackSlot = new Int32Array(graph.size).fill(-1);
  racks.forEach((r, i) => {
    rackSlot[r.index] = i;
  });
  const powerSlot = new Int32Array(graph.size).fill(-1);
  power.forEach((p, i) => {
    powerSlot[p.index] = i;
  });

  const models: GpuModel[] = [];
  const modelIndex = new Map<string, number>();
  const gpuCount = graph.countOf("gpu");
  const gpuEntity = new Int32Array(gpuCount);
  const gpuNode = new Int32Array(gpuCount);
  const gpuOrdinal = new Int32Array(gpuCount);
  const gpuModel = new Uint16Array(gpuCount);
  const nodeEntity = new Int32Array(nodes.length);
  const nodeGpuStart = new Int32Array(nodes.length + 1);
  const nodeRack = new Int32Array(nodes.length);
  const nodeOverheadWatts = new Float64Array(nodes.length);
  const nodeSlotByName = new Map<string, number>();
  const nodeFeedStart = new Int32Array(nodes.length + 1);
  const feeds: number[] = [];
  let g = 0;
  nodes.forEach((node, n) => {
    nodeEntity[n] = node.index;
    nodeSlotByName.set(node.name, n);
    const rack = graph.enclosing(node.index, "rack");
    nodeRack[n] = rack ? rackSlot[rack.index]! : -1;
    const spec = catalog.nodes[node.type!]!;
    nodeOverheadWatts[n] = overheadWatts(spec);
    nodeGpuStart[n] = g;
    const gpus: { index: number; ordinal: number }[] = [];
    for (let k = children.offsets[node.index]!; k < children.offsets[node.index + 1]!; k++) {
      const c = graph.at(children.items[k]!);
      if (c.kind === "gpu") gpus.push({ index: c.index, ordinal: c.ordinal ?? gpus.length });
    }
    gpus.sort((a, b) => a.ordinal - b.ordinal);
    for (const gpu of gpus) {
      const key = graph.at(gpu.index).type ?? spec.gpu!;
      let m = modelIndex.get(key);
      if (m === undefined) {
        const gpuSpec = catalog.gpus[key]!;
        m = models.push({ key, spec: gpuSpec, info: gpuModelInfo(gpuSpec) }) - 1;
        modelIndex.set(key, m);
      }
      gpuEntity[g] = gpu.index;
      gpuNode[g] = n;
      gpuOrdinal[g] = gpu.ordinal;
      gpuModel[g] = m;
      g++;
    }
    for (let k = feedsUp.offsets[node.index]!; k < feedsUp.offsets[node.index + 1]!; k++) {
      const d = powerSlot[feedsUp.items[k]!]!;
      if (d >= 0) feeds.push(d);
    }
    nodeFeedStart[n + 1] = feeds.length;
  });
  nodeGpuStart[nodes.length] = g;

  const powerUpStart = new Int32Array(power.length + 1);
  const ups: number[] = [];
  power.forEach((p, d) => {
    for (let k = feedsUp.offsets[p.index]!; k < feedsUp.offsets[p.index + 1]!; k++) {
      const u = powerSlot[feedsUp.items[k]!]!;
      if (u >= 0) ups.push(u);
    }
    powerUpStart[d + 1] = ups.length;
  });
  const powerUpItems = Int32Array.from(ups);

  return {
    graph,
    siteName: site,
    gpuCount: g,
    nodeCount: nodes.length,
    rackCount: racks.length,
    powerCount: power.length,
    gpuEntity: gpuEntity.subarray(0, g),
    gpuNode: gpuNode.subarray(0, g),
    gpuOrdinal: gpuOrdinal.subarray(0, g),
    gpuModel: gpuModel.subarray(0, g),
    models,
    nodeEntity,
    nodeGpuStart,
    nodeRack,
    nodeOverheadWatts,
    nodeNames: nodes.map((n) => n.name),
    nodeSlotByName,
    rackEntity: Int32Array.from(racks, (r) => r.index),
    rackNames: racks.map((r) => r.name),
    powerEntity: Int32Array.from(power, (p) => p.index),
    powerIds: power.map((p) => p.id),
    nodeFeedStart,
    nodeFeedItems: Int32Array.from(feeds),
    powerUpStart,
    powerUpItems,
    powerOrder: rollupOrder(power.length, powerUpStart, powerUpItems),
  };
}

/** Devices deepest first: depth is the longest chain of feeds above a device. */
function rollupOrder(count: number, upStart: Int32Array, upItems: Int32Array): Int32Array {
  const depth = new Int32Array(count).fill(-1);
  const depthOf = (d: number, guard: number): number => {
    if (depth[d]! >= 0) return depth[d]!;
    if (guard > count) throw new Error("power feeds form a cycle");
    let best = 0;
    for (let k = upStart[d]!; k < upStart[d + 1]!; k++)
      best = Math.max(best, depthOf(upItems[k]!, guard + 1) + 1);
    depth[d] = best;
    return best;
  };
  const order = Array.from({ length: count }, (_, d) => d);
  for (const d of order) depthOf(d, 0);
  order.sort((a, b) => depth[b]! - depth[a]! || a - b);
  return Int32Array.from(order);
}

const leafCache = new WeakMap<SimTopology, Map<number, Int32Array>>();

/**
 * Leaf switches (graph index) → the node slots hanging off them through their NICs. Built on
 * first use (a leaf fault or a job's placement), then cached for the topology.
 */
export function nodesUnderLeaves(topo: SimTopology): Map<number, Int32Array> {
  let map = leafCache.get(topo);
  if (map) return map;
  const lists = new Map<number, number[]>();
  for (let n = 0; n < topo.nodeCount; n++) {
    if (topo.nodeGpuStart[n + 1] === topo.nodeGpuStart[n]) continue;
    for (const leaf of topo.graph.leafSwitches(topo.nodeEntity[n]!)) {
      const list = lists.get(leaf.index);
      if (list) list.push(n);
      else lists.set(leaf.index, [n]);
    }
  }
  map = new Map([...lists].map(([leaf, nodes]) => [leaf, Int32Array.from(nodes)]));
  leafCache.set(topo, map);
  return map;
}
