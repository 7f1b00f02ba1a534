/**
 * The power tree seen from its circuits: for every device, the circuits into it (mains, one per
 * device feeding it) and out of it (one per node or device it feeds), what each carries now and
 * the energy it has carried. What a circuit carries is the share `rollUpPower` (power-tree.ts)
 * put on it, so a device's outgoing circuits sum to its input power exactly.
 * The energy of every circuit and device is counted by the physics each tick
 * (`state.circuitEnergyJoules`, `state.powerEnergyJoules`), numbered as the circuits here.
 */
import { PSU_EFFICIENCY } from "../power-tree.ts";
import type { FactoryState } from "../state.ts";

/**
 * A circuit is an edge of the feed graph: `e < nodeEdges` is entry `e` of
 * `topo.nodeFeedItems` (a node fed by a device), otherwise entry `e - nodeEdges` of
 * `topo.powerUpItems` (a device fed by a device).
 */
export interface PowerIndex {
  readonly state: FactoryState;
  readonly slotByName: ReadonlyMap<string, number>;
  readonly nodeEdges: number;
  /** Node of each node edge; device slot fed by each device edge (same numbering as edges). */
  readonly edgeLower: Int32Array;
  /** Circuits out of each device: `downItems[downStart[d] .. downStart[d+1])`. */
  readonly downStart: Int32Array;
  readonly downItems: Int32Array;
}

/** Builds the index: O(feed edges), once per service. */
export function buildPowerIndex(state: FactoryState): PowerIndex {
  const { topo } = state;
  const slotByName = new Map<string, number>();
  for (let d = 0; d < topo.powerCount; d++) slotByName.set(topo.powerIds[d]!.slice("power:".length), d);
  const nodeEdges = topo.nodeFeedItems.length;
  const total = nodeEdges + topo.powerUpItems.length;
  const edgeLower = new Int32Array(total);
  const upper = new Int32Array(total);
  for (let n = 0; n < topo.nodeCount; n++)
    for (let k = topo.nodeFeedStart[n]!; k < topo.nodeFeedStart[n + 1]!; k++) {
      edgeLower[k] = n;
      upper[k] = topo.nodeFeedItems[k]!;
    }
  for (let d = 0; d < topo.powerCount; d++)
    for (let k = topo.powerUpStart[d]!; k < topo.powerUpStart[d + 1]!; k++) {
      edgeLower[nodeEdges + k] = d;
      upper[nodeEdges + k] = topo.powerUpItems[k]!;
    }
  const downStart = new Int32Array(topo.powerCount + 1);
  for (let e = 0; e < total; e++) downStart[upper[e]! + 1]!++;
  for (let d = 0; d < topo.powerCount; d++) downStart[d + 1]! += downStart[d]!;
  const fill = downStart.slice(0, topo.powerCount);
  const downItems = new Int32Array(total);
  for (let e = 0; e < total; e++) downItems[fill[upper[e]!]!++] = e;
  return {
    state,
    slotByName,
    nodeEdges,
    edgeLower,
    downStart,
    downItems,
  };
}

/** Watts on circuit `e` now: its lower end's input shared over its live feeds, 0 from a dead feed. */
export function edgeWatts(index: PowerIndex, e: number): number {
  const { topo, faults } = index.state;
  const dead = faults.powerDead;
  const lower = index.edgeLower[e]!;
  let a: number;
  let b: number;
  let items: Int32Array;
  let watts: number;
  if (e < index.nodeEdges) {
    items = topo.nodeFeedItems;
    a = topo.nodeFeedStart[lower]!;
    b = topo.nodeFeedStart[lower + 1]!;
    watts = index.state.nodePowerWatts[lower]! / PSU_EFFICIENCY;
  } else {
    items = topo.powerUpItems;
    a = topo.powerUpStart[lower]!;
    b = topo.powerUpStart[lower + 1]!;
    watts = index.state.powerWatts[lower]!;
  }
  if (dead[items[e < index.nodeEdges ? e : e - index.nodeEdges]!] === 1) return 0;
  let live = 0;
  for (let k = a; k < b; k++) if (dead[items[k]!] === 0) live++;
  return live === 0 ? 0 : watts / live;
}

/** The circuits feeding device `d` (edge numbers); empty for a device at the top of the chain. */
export function mainsOf(index: PowerIndex, d: number): number[] {
  const { topo } = index.state;
  const out: number[] = [];
  for (let k = topo.powerUpStart[d]!; k < topo.powerUpStart[d + 1]!; k++) out.push(index.nodeEdges + k);
  return out;
}

/** The circuits device `d` feeds (edge numbers), nodes and devices in feed order. */
export function branchesOf(index: PowerIndex, d: number): Int32Array {
  return index.downItems.subarray(index.downStart[d]!, index.downStart[d + 1]!);
}

/** Name of what circuit `e` feeds: a node or device name. */
export function lowerName(index: PowerIndex, e: number): string {
  const { topo } = index.state;
  const lower = index.edgeLower[e]!;
  return e < index.nodeEdges ? topo.nodeNames[lower]! : topo.powerIds[lower]!.slice("power:".length);
}

/** Device feeding circuit `e` (for mains of a device). */
export function upperOf(index: PowerIndex, e: number): number {
  const { topo } = index.state;
  return e < index.nodeEdges ? topo.nodeFeedItems[e]! : topo.powerUpItems[e - index.nodeEdges]!;
}
