/**
 * Scale-out fabrics generated as fat trees, the way NVIDIA's SuperPOD reference designs lay them
 * out: racks are grouped into scalable units (SUs); in a rail-optimized fabric port k of every node
 * in an SU goes to that SU's rail-k leaves; each leaf gives half its ports to nodes and half to
 * spines; with more than one pod, spines give half their ports to a core tier.
 */
import type { GraphBuilder } from "./builder.ts";
import type { SwitchSpec } from "./catalog.ts";
import type { FabricDoc } from "./document.ts";

/** The ports a node offers to fabrics. */
export interface NodePorts {
  nics: number[];
  dpus: number[];
}

/** A rack as the fabric generator sees it. */
export interface FabricRack {
  name: string;
  nodes: NodePorts[];
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
  siteIndex: number,
): FabricStats {
  const endpoint = doc.endpoint ?? "nic";
  const down = Math.floor(spec.ports / 2);
  const up = spec.ports - down;
  const portsOf = (n: NodePorts): number[] => (endpoint === "dpu" ? n.dpus : n.nics);
  const nodesPerRack = Math.max(1, ...racks.map((r) => r.nodes.filter((n) => portsOf(n).length > 0).length));
  const unitRacks = doc.unitRacks ?? Math.max(1, Math.floor(down / nodesPerRack));
  const rails = Math.max(0, ...racks.flatMap((r) => r.nodes.map((n) => portsOf(n).length)));
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

  const stats: FabricStats = { leaves: 0, spines: 0, cores: 0, endpoints: 0 };
  // leavesByGroup[pod][group] = leaf indexes
  const leavesByGroup: number[][][] = Array.from({ length: pods }, () =>
    Array.from({ length: groups }, () => []),
  );
  for (let u = 0; u < units; u++) {
    const unitNodes = racks.slice(u * unitRacks, (u + 1) * unitRacks).flatMap((r) => r.nodes);
    for (let g = 0; g < groups; g++) {
      const ports = railOptimized
        ? unitNodes.flatMap((n) => (portsOf(n)[g] === undefined ? [] : [portsOf(n)[g]!]))
        : unitNodes.flatMap(portsOf);
      const leafCount = Math.ceil(ports.length / down);
      for (let k = 0; k < leafCount; k++) {
        const name = `su${pad(u + 1, uw)}-${railOptimized ? `rail${g}-` : ""}leaf${k + 1}`;
        const leaf = sw(name, "leaf");
        leavesByGroup[Math.floor(u / podUnits)]![g]!.push(leaf);
        stats.leaves++;
        for (const p of ports.slice(k * down, (k + 1) * down)) {
          b.link(p, leaf, 1, spec.portGbps);
          stats.endpoints++;
        }
      }
    }
  }
  if (stats.leaves <= 1) return stats;

  const spineDown = pods > 1 ? down : spec.ports;
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
      spines.push(...group);
      spread(b, leaves, group, up, spec.portGbps);
    }
  }
  if (pods > 1) {
    const spineUp = spec.ports - spineDown;
    const count = Math.ceil((spines.length * spineUp) / spec.ports);
    const cores = Array.from({ length: count }, (_, k) => sw(`core${k + 1}`, "core"));
    stats.cores = count;
    spread(b, spines, cores, spineUp, spec.portGbps);
  }
  return stats;
}

/** Spreads each lower switch's `uplinks` cables round-robin over `uppers`, aggregating parallel cables. */
function spread(
  b: GraphBuilder,
  lowers: readonly number[],
  uppers: readonly number[],
  uplinks: number,
  gbps: number,
): void {
  lowers.forEach((lower, l) => {
    const cables = new Map<number, number>();
    for (let k = 0; k < uplinks; k++) {
      const upper = uppers[(l * uplinks + k) % uppers.length]!;
      cables.set(upper, (cables.get(upper) ?? 0) + 1);
    }
    for (const [upper, count] of cables) b.link(lower, upper, count, gbps);
  });
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
