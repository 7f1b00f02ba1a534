/**
 * Scale-out fabrics generated as fat trees, the way NVIDIA's SuperPOD reference designs lay them
 * out: racks are grouped into scalable units (SUs); in a rail-optimized fabric port k of every node
 * in an SU goes to that SU's rail-k leaves; each leaf gives half its ports to nodes and half to
 * spines; with more than one pod, spines give half their ports to a core tier.
 */
import { type GraphBuilder, IntList } from "./builder.ts";
import type { SwitchSpec } from "./catalog.ts";
import type { FabricDoc } from "./document.ts";

/**
 * The ports nodes offer to fabrics, one entry per node: a node's NICs are the contiguous indexes
 * `nicStart … nicStart + nicCount - 1`, and likewise its DPUs.
 */
export class FabricNodes {
  readonly nicStart = new IntList(1024);
  readonly nicCount = new IntList(1024);
  readonly dpuStart = new IntList(1024);
  readonly dpuCount = new IntList(1024);

  /** Adds a node; returns its number among the fabric nodes. */
  add(nicStart: number, nics: number, dpuStart: number, dpus: number): number {
    this.nicStart.push(nicStart);
    this.nicCount.push(nics);
    this.dpuStart.push(dpuStart);
    this.dpuCount.push(dpus);
    return this.nicStart.length - 1;
  }

  get length(): number {
    return this.nicStart.length;
  }
}

/** A rack as the fabric generator sees it: its nodes are `first … first + count - 1` of the fabric nodes. */
export interface FabricRack {
  name: string;
  first: number;
  count: number;
}

/** What was generated, for the summary. */
export interface FabricStats {
  leaves: number;
  spines: number;
  cores: number;
  endpoints: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** Generates one fabric's switches and links over `racks` (already filtered to its scope). */
export function buildFabric(
  b: GraphBuilder,
  doc: FabricDoc,
  spec: SwitchSpec,
  racks: readonly FabricRack[],
  nodes: FabricNodes,
  siteIndex: number,
): FabricStats {
  const endpoint = doc.endpoint ?? "nic";
  const down = Math.floor(spec.ports / 2);
  const up = spec.ports - down;
  const portStart = (endpoint === "dpu" ? nodes.dpuStart : nodes.nicStart).data;
  const portCount = (endpoint === "dpu" ? nodes.dpuCount : nodes.nicCount).data;
  let nodesPerRack = 1;
  let rails = 0;
  for (const r of racks) {
    let withPorts = 0;
    for (let k = r.first; k < r.first + r.count; k++) {
      const ports = portCount[k]!;
      if (ports > 0) withPorts++;
      if (ports > rails) rails = ports;
    }
    if (withPorts > nodesPerRack) nodesPerRack = withPorts;
  }
  const unitRacks = doc.unitRacks ?? Math.max(1, Math.floor(down / nodesPerRack));
  const railOptimized = doc.railOptimized ?? rails > 1;
  const groups = railOptimized ? rails : 1;
  const units = Math.ceil(racks.length / unitRacks);
  const podUnits = doc.podUnits ?? units;
  const pods = Math.ceil(units / podUnits);
  const uw = String(units).length;
  const sw = (name: string, tier: string): number =>
    b.add({
      kind: "switch",
      name: `${doc.name}/${name}`,
      type: doc.switch,
      parent: siteIndex,
      fabric: doc.name,
      tier,
    });

  const spineDown = pods > 1 ? down : spec.ports;
  const size = fabricSize(
    { racks, portCount, unitRacks, units, podUnits, pods, groups, railOptimized },
    spec.ports,
  );
  b.reserveEntities(size.switches);
  b.reserveLinks(size.links);

  const stats: FabricStats = { leaves: 0, spines: 0, cores: 0, endpoints: 0 };
  // leavesByGroup[pod][group] = leaf indexes
  const leavesByGroup: number[][][] = [];
  for (let p = 0; p < pods; p++) {
    const byGroup: number[][] = [];
    for (let g = 0; g < groups; g++) byGroup.push([]);
    leavesByGroup.push(byGroup);
  }
  const ports = new IntList(1024);
  for (let u = 0; u < units; u++) {
    const lastRack = Math.min((u + 1) * unitRacks, racks.length);
    for (let g = 0; g < groups; g++) {
      ports.length = 0;
      unitPorts(racks, u * unitRacks, lastRack, g, railOptimized, portStart, portCount, ports);
      const leafCount = Math.ceil(ports.length / down);
      for (let k = 0; k < leafCount; k++) {
        const name = `su${pad(u + 1, uw)}-${railOptimized ? `rail${g}-` : ""}leaf${k + 1}`;
        const leaf = sw(name, "leaf");
        leavesByGroup[Math.floor(u / podUnits)]![g]!.push(leaf);
        stats.leaves++;
        const end = Math.min((k + 1) * down, ports.length);
        for (let q = k * down; q < end; q++) {
          b.link(ports.data[q]!, leaf, 1, spec.portGbps);
          stats.endpoints++;
        }
      }
    }
  }
  if (stats.leaves <= 1) return stats;

  const spines: number[] = [];
  for (let p = 0; p < pods; p++) {
    for (let g = 0; g < groups; g++) {
      const leaves = leavesByGroup[p]![g]!;
      // A lone leaf in a one-pod fabric needs no spine (a rail-only network).
      if (leaves.length === 0 || (leaves.length === 1 && pods === 1)) continue;
      const count = Math.ceil((leaves.length * up) / spineDown);
      const group: number[] = [];
      for (let k = 0; k < count; k++) {
        const name = `${pods > 1 ? `pod${p + 1}-` : ""}${railOptimized ? `rail${g}-` : ""}spine${k + 1}`;
        group.push(sw(name, "spine"));
      }
      stats.spines += count;
      for (const s of group) spines.push(s);
      spread(b, leaves, group, up, spec.portGbps);
    }
  }
  if (pods > 1) {
    const spineUp = spec.ports - spineDown;
    const count = Math.ceil((spines.length * spineUp) / spec.ports);
    const cores: number[] = [];
    for (let k = 0; k < count; k++) cores.push(sw(`core${k + 1}`, "core"));
    stats.cores = count;
    spread(b, spines, cores, spineUp, spec.portGbps);
  }
  return stats;
}

/**
 * Adds to `out` the ports of racks `first … last - 1` (a unit) in one group: port `g` of each
 * node when rail-optimized, else all of them, node by node.
 */
function unitPorts(
  racks: readonly FabricRack[],
  first: number,
  last: number,
  g: number,
  railOptimized: boolean,
  portStart: Int32Array,
  portCount: Int32Array,
  out: IntList,
): void {
  for (let r = first; r < last; r++) {
    const rack = racks[r]!;
    for (let k = rack.first; k < rack.first + rack.count; k++) {
      const start = portStart[k]!;
      const count = portCount[k]!;
      if (railOptimized) {
        if (g < count) out.push(start + g);
      } else {
        for (let q = 0; q < count; q++) out.push(start + q);
      }
    }
  }
}

/** How many ports `unitPorts` adds. */
function unitPortCount(
  racks: readonly FabricRack[],
  first: number,
  last: number,
  g: number,
  railOptimized: boolean,
  portCount: Int32Array,
): number {
  let n = 0;
  for (let r = first; r < last; r++) {
    const rack = racks[r]!;
    for (let k = rack.first; k < rack.first + rack.count; k++) {
      const count = portCount[k]!;
      n += railOptimized ? (g < count ? 1 : 0) : count;
    }
  }
  return n;
}

/** How a fabric's racks are grouped: into units of `unitRacks`, units into pods, ports into groups. */
interface FabricLayout {
  racks: readonly FabricRack[];
  /** Endpoint ports per fabric node. */
  portCount: Int32Array;
  unitRacks: number;
  units: number;
  podUnits: number;
  pods: number;
  /** Rails when rail-optimized, else one. */
  groups: number;
  railOptimized: boolean;
}

/** How many switches and links `buildFabric` makes (links as `spread` makes them for distinct switches). */
function fabricSize(layout: FabricLayout, ports: number): { switches: number; links: number } {
  const { racks, portCount, unitRacks, units, podUnits, pods, groups, railOptimized } = layout;
  const down = Math.floor(ports / 2);
  const up = ports - down;
  const spineDown = pods > 1 ? down : ports;
  let links = 0;
  let leaves = 0;
  // Leaves per pod and group.
  const podLeaves: number[] = [];
  for (let u = 0; u < units; u++) {
    const last = Math.min((u + 1) * unitRacks, racks.length);
    for (let g = 0; g < groups; g++) {
      const n = unitPortCount(racks, u * unitRacks, last, g, railOptimized, portCount);
      const count = Math.ceil(n / down);
      const at = Math.floor(u / podUnits) * groups + g;
      podLeaves[at] = (podLeaves[at] ?? 0) + count;
      links += n;
      leaves += count;
    }
  }
  if (leaves <= 1) return { switches: leaves, links };
  let spines = 0;
  for (let p = 0; p < pods; p++) {
    for (let g = 0; g < groups; g++) {
      const n = podLeaves[p * groups + g] ?? 0;
      if (n === 0 || (n === 1 && pods === 1)) continue;
      const count = Math.ceil((n * up) / spineDown);
      spines += count;
      links += n * Math.min(up, count);
    }
  }
  let cores = 0;
  if (pods > 1) {
    const spineUp = ports - spineDown;
    cores = Math.ceil((spines * spineUp) / ports);
    links += spines * Math.min(spineUp, cores);
  }
  return { switches: leaves + spines + cores, links };
}

/** Spreads each lower switch's `uplinks` cables round-robin over `uppers`, aggregating parallel cables. */
function spread(
  b: GraphBuilder,
  lowers: readonly number[],
  uppers: readonly number[],
  uplinks: number,
  gbps: number,
): void {
  const n = uppers.length;
  if (new Set(uppers).size < n) {
    // Some upper appears twice (a switch that could not be added): count cables per upper.
    lowers.forEach((lower, l) => {
      const cables = new Map<number, number>();
      for (let k = 0; k < uplinks; k++) {
        const upper = uppers[(l * uplinks + k) % n]!;
        cables.set(upper, (cables.get(upper) ?? 0) + 1);
      }
      for (const [upper, count] of cables) b.link(lower, upper, count, gbps);
    });
    return;
  }
  // Cable k of lower l goes to upper (l × uplinks + k) mod n: the uppers from there on in turn,
  // each taking uplinks / n cables and the first uplinks mod n one more.
  const each = Math.floor(uplinks / n);
  const extra = uplinks % n;
  const distinct = Math.min(uplinks, n);
  for (let l = 0; l < lowers.length; l++) {
    const first = (l * uplinks) % n;
    for (let j = 0; j < distinct; j++)
      b.link(lowers[l]!, uppers[(first + j) % n]!, each + (j < extra ? 1 : 0), gbps);
  }
}

/** Rack-name patterns of a fabric's scope matched against the racks that exist. */
export function matchRacks(
  patterns: readonly string[],
  names: readonly string[],
): { matched: Set<string>; unmatched: string[] } {
  const matched = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^$()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    );
    let any = false;
    for (const n of names) {
      if (re.test(n)) {
        matched.add(n);
        any = true;
      }
    }
    if (!any) unmatched.push(pattern);
  }
  return { matched, unmatched };
}
