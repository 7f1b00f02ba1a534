/**
 * The racks of a factory and everything in them: rack power devices, NVLink domains, management
 * switches, nodes and their GPUs, NICs and DPUs. This is where nearly all entities of a large
 * factory come from, so the work is split into small methods that run once per rack or node.
 */

import type { FactorySummary } from "./build.ts";
import { FabricNodes, type FabricRack } from "./build-fabric.ts";
import type { GraphBuilder } from "./builder.ts";
import { type Catalog, type NodeSpec, type RackSpec, ratingWatts } from "./catalog.ts";
import type { DocPath, FactoryDoc, RackGroupDoc } from "./document.ts";
import { expandPattern, patternCount, substitute } from "./pattern.ts";
import type { ProblemList } from "./problems.ts";

/** A node pattern that names its rack itself is not prefixed with the rack name. */
const RACK_VAR = "$" + "{rack}";

/** Rack power devices of one rack group and one device template, for one warning per group. */
export interface RackDeviceGroup {
  path: DocPath;
  template: string;
  devices: number[];
}

/** What the racks of one group share, worked out once for the group. */
class GroupPlan {
  readonly spec: RackSpec;
  readonly type: string;
  readonly path: DocPath;
  readonly vars: Record<string, string>;
  readonly row: number;
  readonly org: string | null;
  /** The org's totals in the summary (undefined when there is no org, or it is not declared). */
  readonly orgTotals: { racks: number; gpus: number } | undefined;
  readonly rackCount: number;
  /** Per power template: the upstream devices of its side, if any. */
  readonly targets: (number[] | undefined)[];
  readonly templates: RackDeviceGroup[];
  /** Per power template: device names, rating and limit (at the first rack added). */
  powerNames: string[][] | undefined = undefined;
  powerRatings: number[] = [];
  powerLimits: number[] = [];
  readonly mgmtModel: string | undefined;
  readonly mgmtGbps: number;
  /** Per node slot: its node type, whether its pattern names the rack, whether it has variables. */
  readonly slotSpecs: NodeSpec[];
  readonly slotNamesRack: boolean[];
  readonly slotVariable: boolean[];
  /** Per node slot without variables: its names (at the first rack added). */
  readonly slotNames: (string[] | undefined)[] = [];
  /** GPUs added per GPU type, in the order the types were first seen. */
  readonly gpusByType = new Map<string, number>();

  constructor(
    group: RackGroupDoc,
    spec: RackSpec,
    catalog: Catalog,
    summary: FactorySummary,
    path: DocPath,
    vars: Record<string, string>,
    row: number,
    org: string | null,
    rackCount: number,
    upstream: ReadonlyMap<string, number[]>,
    templates: RackDeviceGroup[],
  ) {
    this.spec = spec;
    this.type = group.type;
    this.path = path;
    this.vars = vars;
    this.row = row;
    this.org = org;
    this.orgTotals = org ? summary.orgs[org] : undefined;
    this.rackCount = rackCount;
    this.targets = spec.power.map((p) => upstream.get(p.side));
    this.templates = templates;
    this.mgmtModel = spec.managementSwitch;
    this.mgmtGbps = this.mgmtModel ? catalog.switches[this.mgmtModel]!.portGbps : 0;
    this.slotSpecs = spec.nodes.map((slot) => catalog.nodes[slot.type]!);
    this.slotNamesRack = spec.nodes.map((slot) => slot.name.includes(RACK_VAR));
    this.slotVariable = spec.nodes.map((slot) => slot.name.includes("${"));
  }
}

/** Adds racks group by group; keeps what the fabrics need to know about them. */
export class RackBuilder {
  readonly fabricRacks: FabricRack[] = [];
  readonly fabricNodes = new FabricNodes();
  private readonly b: GraphBuilder;
  private readonly catalog: Catalog;
  private readonly summary: FactorySummary;
  private readonly problems: ProblemList;
  private readonly defaultDerating: number;
  /** Power devices of the rack being added: the first `deviceCount` (the array is reused). */
  private readonly devices: number[] = [];
  private deviceCount = 0;
  /** Names of the parts of the node being added, by ordinal (the array is reused). */
  private readonly partNames: string[] = [];

  constructor(
    b: GraphBuilder,
    catalog: Catalog,
    summary: FactorySummary,
    problems: ProblemList,
    defaultDerating: number,
  ) {
    this.b = b;
    this.catalog = catalog;
    this.summary = summary;
    this.problems = problems;
    this.defaultDerating = defaultDerating;
  }

  /**
   * Adds the racks `names` of a group whose references are resolved: `upstream` holds the devices
   * feeding each side, `templates` collects the rack power devices per template.
   */
  addGroup(
    group: RackGroupDoc,
    spec: RackSpec,
    path: DocPath,
    vars: Record<string, string>,
    row: number,
    org: string | null,
    names: readonly string[],
    upstream: ReadonlyMap<string, number[]>,
    templates: RackDeviceGroup[],
  ): void {
    const plan = new GroupPlan(
      group,
      spec,
      this.catalog,
      this.summary,
      path,
      vars,
      row,
      org,
      names.length,
      upstream,
      templates,
    );
    for (let ri = 0; ri < names.length; ri++) this.addRack(plan, ri, names[ri]!);
    const byType = this.summary.gpusByType;
    for (const [gpu, count] of plan.gpusByType) byType[gpu] = (byType[gpu] ?? 0) + count;
  }

  private addRack(plan: GroupPlan, ri: number, rackName: string): void {
    const { b, problems } = this;
    const { spec, org } = plan;
    const rack = b.addWith("rack", rackName, plan.type, plan.row, org, null, null, null, null, null);
    if (rack < 0) {
      problems.error(`duplicate rack name "${rackName}"`, [...plan.path, "name"]);
      return;
    }
    if (org) plan.orgTotals!.racks++;
    const prefix = rackName + "-";
    this.addRackPower(plan, ri, rack, rackName, prefix);
    const domain =
      spec.nvlink === "rack"
        ? b.addWith("nvlinkDomain", rackName, "rack", rack, org, null, null, null, null, null)
        : -1;
    const mgmt = plan.mgmtModel
      ? b.addWith(
          "switch",
          `mgmt/${rackName}`,
          plan.mgmtModel,
          rack,
          org,
          null,
          null,
          null,
          "management",
          "management",
        )
      : -1;
    const fabricRack: FabricRack = { name: rackName, first: this.fabricNodes.length, count: 0 };
    this.fabricRacks.push(fabricRack);
    let rackVars: Record<string, string> | undefined;
    for (let si = 0; si < spec.nodes.length; si++) {
      let slotNames = plan.slotNames[si];
      if (plan.slotVariable[si]) {
        rackVars ??= { ...plan.vars, rack: rackName };
        slotNames = expandPattern(substitute(spec.nodes[si]!.name, rackVars));
      } else if (slotNames === undefined) {
        slotNames = expandPattern(spec.nodes[si]!.name);
        plan.slotNames[si] = slotNames;
      }
      const namesRack = plan.slotNamesRack[si]!;
      for (const slotName of slotNames) {
        const nodeName = namesRack ? slotName : prefix + slotName;
        if (this.addNode(plan, si, rack, nodeName, mgmt, domain)) fabricRack.count++;
      }
    }
  }

  /** Adds a rack's power devices, fed from its group's upstream devices, as `devices`. */
  private addRackPower(plan: GroupPlan, ri: number, rack: number, rackName: string, prefix: string): void {
    const { b, problems, devices } = this;
    const power = plan.spec.power;
    if (plan.powerNames === undefined) {
      for (const p of power) {
        const rating = ratingWatts(p.rating);
        plan.powerRatings.push(rating);
        plan.powerLimits.push(rating * (p.derating ?? this.defaultDerating));
      }
      plan.powerNames = power.map((p) => expandPattern(p.name));
    }
    let count = 0;
    for (let pi = 0; pi < power.length; pi++) {
      const p = power[pi]!;
      const targets = plan.targets[pi];
      const feedFrom = targets ? targets[Math.floor((ri * targets.length) / plan.rackCount)]! : -1;
      const template = plan.templates[pi]!.devices;
      for (const devName of plan.powerNames[pi]!) {
        const dev = b.addWith(
          "power",
          prefix + devName,
          p.kind,
          rack,
          plan.org,
          p.side,
          plan.powerRatings[pi]!,
          plan.powerLimits[pi]!,
          null,
          null,
        );
        if (dev < 0) {
          problems.error(`power device name "${rackName}-${devName}" is taken`, [...plan.path, "name"]);
          continue;
        }
        devices[count++] = dev;
        template.push(dev);
        if (feedFrom >= 0) b.feed(feedFrom, dev);
      }
    }
    this.deviceCount = count;
  }

  /** Adds a node with its parts and its power, management and NVLink wiring; false if its name is taken. */
  private addNode(
    plan: GroupPlan,
    slot: number,
    rack: number,
    nodeName: string,
    mgmt: number,
    rackDomain: number,
  ): boolean {
    const { b, summary, devices, deviceCount } = this;
    const { org } = plan;
    const nodeSpec = plan.slotSpecs[slot]!;
    const type = plan.spec.nodes[slot]!.type;
    const node = b.addWith("node", nodeName, type, rack, org, null, null, null, null, null);
    if (node < 0) {
      this.problems.error(`duplicate node name "${nodeName}"`, [...plan.path, "name"]);
      return false;
    }
    summary.nameplateWatts += nodeSpec.nameplateWatts;
    for (let k = 0; k < deviceCount; k++) b.feed(devices[k]!, node);
    if (mgmt >= 0) b.link(node, mgmt, 1, plan.mgmtGbps);
    const gpu0 = this.addNodeParts(node, nodeName, nodeSpec, org);
    if (nodeSpec.gpus > 0 && org) plan.orgTotals!.gpus += nodeSpec.gpus;
    if (nodeSpec.gpu)
      plan.gpusByType.set(nodeSpec.gpu, (plan.gpusByType.get(nodeSpec.gpu) ?? 0) + nodeSpec.gpus);
    const domain =
      plan.spec.nvlink === "rack" && nodeSpec.nvlink !== "none"
        ? rackDomain
        : nodeSpec.nvlink === "node" && nodeSpec.gpus > 0
          ? b.addWith("nvlinkDomain", nodeName, "node", node, org, null, null, null, null, null)
          : -1;
    if (domain >= 0) {
      if (nodeSpec.gpus === 0) b.joinDomain(node, domain);
      for (let g = gpu0; g < gpu0 + nodeSpec.gpus; g++) b.joinDomain(g, domain);
    }
    return true;
  }

  /**
   * Adds a node's GPUs, NICs and DPUs (in that order, so each kind is a run of indexes) and
   * registers its ports for the fabrics; returns the index of its first GPU.
   */
  private addNodeParts(node: number, nodeName: string, spec: NodeSpec, org: string | null): number {
    const { b, partNames } = this;
    // GPU 3, NIC 3 and DPU 3 of a node are all named `NODE/3`: one string serves all three.
    const parts = Math.max(spec.gpus, spec.nics, spec.dpus);
    if (parts > 0) {
      const base = nodeName + "/";
      for (let i = 0; i < parts; i++) partNames[i] = base + i;
    }
    const gpu0 = b.size;
    const gpuType = spec.gpu ?? null;
    for (let i = 0; i < spec.gpus; i++) b.addPart("gpu", partNames[i]!, gpuType, node, org, i);
    const nic0 = b.size;
    for (let i = 0; i < spec.nics; i++) {
      const nic = b.addPart("nic", partNames[i]!, null, node, org, i);
      // Each NIC shares a PCIe switch with a GPU (GPUDirect RDMA pairing): spread evenly.
      if (spec.gpus > 0) b.pair(nic, gpu0 + Math.floor((i * spec.gpus) / spec.nics));
    }
    const dpu0 = b.size;
    for (let i = 0; i < spec.dpus; i++) b.addPart("dpu", partNames[i]!, null, node, org, i);
    this.fabricNodes.add(nic0, spec.nics, dpu0, spec.dpus);
    return gpu0;
  }
}

/** What the racks of a document add to the graph's edge lists. */
export interface RackCapacity {
  entities: number;
  feeds: number;
  links: number;
  members: number;
  pairs: number;
}

/**
 * Roughly what the racks of a document will add (power feeds, management links, NVLink domain
 * members, NIC–GPU pairs), to size the lists once: a hint, so bad names just count as none.
 */
export function rackCapacity(doc: FactoryDoc, catalog: Catalog): RackCapacity {
  const total: RackCapacity = { entities: 0, feeds: 0, links: 0, members: 0, pairs: 0 };
  const perRack = new Map<RackSpec, RackCapacity>();
  for (const hallDoc of doc.halls) {
    for (const hall of namesOf(hallDoc.name, {})) {
      for (const rowDoc of hallDoc.rows) {
        for (const row of namesOf(rowDoc.name, { hall })) {
          for (const group of rowDoc.racks) {
            const spec = catalog.racks[group.type];
            if (!spec) continue;
            let one = perRack.get(spec);
            if (!one) {
              one = rackCapacityOf(spec, catalog);
              perRack.set(spec, one);
            }
            const racks = countOf(group.name, { hall, row });
            total.entities += racks * one.entities;
            total.feeds += racks * one.feeds;
            total.links += racks * one.links;
            total.members += racks * one.members;
            total.pairs += racks * one.pairs;
          }
        }
      }
    }
  }
  return total;
}

/** `rackCapacity` of one rack of a type. */
function rackCapacityOf(spec: RackSpec, catalog: Catalog): RackCapacity {
  let devices = 0;
  for (const p of spec.power) devices += countOf(p.name, {});
  const one: RackCapacity = {
    entities: 1 + devices + (spec.nvlink === "rack" ? 1 : 0) + (spec.managementSwitch ? 1 : 0),
    feeds: devices,
    links: 0,
    members: 0,
    pairs: 0,
  };
  for (const slot of spec.nodes) {
    const node = catalog.nodes[slot.type];
    if (!node) continue;
    const nodes = countOf(slot.name, {});
    const nodeDomain = node.nvlink === "node" && node.gpus > 0 && spec.nvlink !== "rack";
    one.entities += nodes * (1 + node.gpus + node.nics + node.dpus + (nodeDomain ? 1 : 0));
    one.feeds += nodes * devices;
    if (spec.managementSwitch) one.links += nodes;
    if (node.gpus > 0) one.pairs += nodes * node.nics;
    const inDomain =
      (spec.nvlink === "rack" && node.nvlink !== "none") || (node.nvlink === "node" && node.gpus > 0);
    if (inDomain) one.members += nodes * Math.max(1, node.gpus);
  }
  return one;
}

function namesOf(pattern: string, vars: Record<string, string>): string[] {
  try {
    return expandPattern(substitute(pattern, vars));
  } catch {
    return [];
  }
}

function countOf(pattern: string, vars: Record<string, string>): number {
  try {
    return patternCount(substitute(pattern, vars));
  } catch {
    return 0;
  }
}
