/**
 * Expands a validated factory document into the graph, collecting every semantic problem:
 * dangling references, duplicate names, racks without a power path, missing catalog entries, and
 * oversubscribed power levels (warnings, with the ratio).
 */

import { buildFabric, type FabricStats, matchRacks } from "./build-fabric.ts";
import { buildPowerTree, type DeclaredAt, powerDemand } from "./build-power.ts";
import { RackBuilder, type RackDeviceGroup, rackCapacity } from "./build-racks.ts";
import { GraphBuilder } from "./builder.ts";
import { builtinCatalog, type Catalog, type NodeSpec } from "./catalog.ts";
import type { DocPath, FactoryDoc, RackGroupDoc } from "./document.ts";
import { type EndpointsConfig, resolveEndpoints } from "./endpoints.ts";
import { ENTITY_KINDS, type FactoryGraph } from "./graph.ts";
import { expandPattern, substitute } from "./pattern.ts";
import type { ProblemList } from "./problems.ts";

/** Default share of a rating that may be drawn continuously (NEC 80% rule for breakers). */
export const DEFAULT_DERATING = 0.8;

/** Totals of a built factory. */
export interface FactorySummary {
  name: string;
  counts: Record<string, number>;
  gpusByType: Record<string, number>;
  /** Sum of node nameplates: what the racks could draw at worst. */
  nameplateWatts: number;
  /** Sum of the continuous limits of the feeds at the top of the chain. */
  feedLimitWatts: number;
  orgs: Record<string, { racks: number; gpus: number }>;
  fabrics: Record<string, FabricStats>;
}

/** The result of a build: the graph (also when there are errors, as far as it could be built). */
export interface BuildResult {
  graph: FactoryGraph;
  catalog: Catalog;
  summary: FactorySummary;
  /** Where the control plane reads this factory (empty when the file has no endpoints). */
  endpoints: EndpointsConfig;
}

/** Merges the file's catalog over the built-in one, entry by entry. */
export function mergeCatalog(doc: FactoryDoc): Catalog {
  const c = doc.catalog ?? {};
  // The schema lets a file leave out overheads it does not know; they count as zero.
  const fileNodes = Object.fromEntries(
    Object.entries(c.nodes ?? {}).map(([key, n]) => [
      key,
      Object.assign({ cpuWatts: 0, memoryWatts: 0, nicWatts: 0, fanWatts: 0, otherWatts: 0 }, n),
    ]),
  );
  return {
    gpus: { ...builtinCatalog.gpus, ...c.gpus },
    nodes: { ...builtinCatalog.nodes, ...fileNodes },
    switches: { ...builtinCatalog.switches, ...c.switches },
    racks: { ...builtinCatalog.racks, ...c.racks },
  };
}

/** Checks the catalog's own references; returns the node and rack types that are usable. */
function checkCatalog(catalog: Catalog, doc: FactoryDoc, problems: ProblemList): { badRacks: Set<string> } {
  const at = (table: string, key: string, ...rest: (string | number)[]): DocPath | undefined =>
    (doc.catalog as Record<string, Record<string, unknown>> | undefined)?.[table]?.[key] !== undefined
      ? ["catalog", table, key, ...rest]
      : undefined;
  for (const [key, gpu] of Object.entries(catalog.gpus)) {
    if (gpu.minWatts > gpu.maxWatts)
      problems.error(`GPU type "${key}": minWatts is above maxWatts`, at("gpus", key));
    if (gpu.idleWatts > gpu.maxWatts)
      problems.error(`GPU type "${key}": idleWatts is above maxWatts`, at("gpus", key));
  }
  const badNodes = new Set<string>();
  for (const [key, node] of Object.entries(catalog.nodes)) {
    if (node.gpus > 0 && (node.gpu === undefined || !catalog.gpus[node.gpu])) {
      problems.error(
        node.gpu === undefined
          ? `node type "${key}" has ${node.gpus} GPUs but no gpu type`
          : `node type "${key}" uses GPU type "${node.gpu}", which is not in the catalog`,
        at("nodes", key, "gpu") ?? at("nodes", key),
      );
      badNodes.add(key);
      continue;
    }
    const gpuWatts = node.gpus * (node.gpu ? catalog.gpus[node.gpu]!.maxWatts : 0);
    const total = gpuWatts + overheadWatts(node);
    if (total > node.nameplateWatts) {
      problems.warning(
        `node type "${key}": GPUs at maximum plus overheads (${(total / 1000).toFixed(1)} kW) exceed its nameplate ` +
          `${(node.nameplateWatts / 1000).toFixed(1)} kW`,
        at("nodes", key),
      );
    }
  }
  const badRacks = new Set<string>();
  for (const [key, rack] of Object.entries(catalog.racks)) {
    rack.nodes.forEach((slot, i) => {
      if (!catalog.nodes[slot.type] || badNodes.has(slot.type)) {
        if (!catalog.nodes[slot.type]) {
          problems.error(
            `rack type "${key}" holds node type "${slot.type}", which is not in the catalog`,
            at("racks", key, "nodes", i, "type"),
          );
        }
        badRacks.add(key);
      }
    });
    if (rack.managementSwitch && !catalog.switches[rack.managementSwitch]) {
      problems.error(
        `rack type "${key}" names management switch "${rack.managementSwitch}", which is not in the catalog`,
        at("racks", key, "managementSwitch"),
      );
      badRacks.add(key);
    }
  }
  return { badRacks };
}

/** CPU, memory, NIC, fan and other draw of a node besides its GPUs. */
export function overheadWatts(node: NodeSpec): number {
  return node.cpuWatts + node.memoryWatts + node.nicWatts + node.fanWatts + node.otherWatts;
}

const kw = (w: number): string => `${(w / 1000).toFixed(1)} kW`;

/** Builds the graph from a schema-valid document; problems go to `problems`. */
export function buildFactory(doc: FactoryDoc, problems: ProblemList): BuildResult {
  const catalog = mergeCatalog(doc);
  const { badRacks } = checkCatalog(catalog, doc, problems);
  const defaultDerating = doc.defaults?.derating ?? DEFAULT_DERATING;
  const redundant = (doc.defaults?.redundancy ?? "N+N") === "N+N";
  const b = new GraphBuilder();
  const site = b.add({ kind: "site", name: doc.metadata.name, parent: -1 });

  const orgs = new Set<string>();
  (doc.orgs ?? []).forEach((o, i) => {
    if (orgs.has(o.name)) problems.error(`duplicate org "${o.name}"`, ["orgs", i, "name"]);
    orgs.add(o.name);
  });

  const declaredAt: DeclaredAt = new Map();
  buildPowerTree(b, doc.power, site, defaultDerating, problems, declaredAt);

  const summary: FactorySummary = {
    name: doc.metadata.name,
    counts: {},
    gpusByType: {},
    nameplateWatts: 0,
    feedLimitWatts: 0,
    orgs: Object.fromEntries([...orgs].map((o) => [o, { racks: 0, gpus: 0 }])),
    fabrics: {},
  };
  const racks = new RackBuilder(b, catalog, summary, problems, defaultDerating);
  const capacity = rackCapacity(doc, catalog);
  // With a sixteenth more entities for the fabrics' switches.
  b.reserveEntities(capacity.entities + (capacity.entities >> 4) + 1024);
  b.reserve(capacity.feeds, capacity.links, capacity.members, capacity.pairs);
  const { fabricRacks, fabricNodes } = racks;
  // Rack power devices by (rack group, device template) for one warning per group, not per rack.
  const rackDeviceGroups: RackDeviceGroup[] = [];

  // An undeclared org is reported and the racks are built unowned, so every other problem shows.
  const checkOrg = (org: string | undefined, path: DocPath): string | null => {
    if (org === undefined) return null;
    if (orgs.has(org)) return org;
    problems.error(`org "${org}" is not declared under orgs`, path);
    return null;
  };

  const hallNames = new Set<string>();
  doc.halls.forEach((hallDoc, hi) => {
    const hallPath: DocPath = ["halls", hi];
    const hallOrg = checkOrg(hallDoc.org, [...hallPath, "org"]);
    for (const hallName of expandNames(hallDoc.name, {}, [...hallPath, "name"], problems)) {
      if (hallNames.has(hallName)) problems.error(`duplicate hall "${hallName}"`, [...hallPath, "name"]);
      hallNames.add(hallName);
      const hall = b.add({ kind: "hall", name: hallName, parent: site });
      if (hall < 0) continue;
      hallDoc.rows.forEach((rowDoc, ri) => {
        const rowPath: DocPath = [...hallPath, "rows", ri];
        const rowOrg = checkOrg(rowDoc.org, [...rowPath, "org"]) ?? hallOrg;
        for (const rowName of expandNames(rowDoc.name, { hall: hallName }, [...rowPath, "name"], problems)) {
          const row = b.add({ kind: "row", name: `${hallName}/${rowName}`, parent: hall });
          if (row < 0) {
            problems.error(`duplicate row "${rowName}" in hall "${hallName}"`, [...rowPath, "name"]);
            continue;
          }
          rowDoc.racks.forEach((group, gi) => {
            const groupPath: DocPath = [...rowPath, "racks", gi];
            const org = checkOrg(group.org, [...groupPath, "org"]) ?? rowOrg;
            addRackGroup(group, groupPath, { hall: hallName, row: rowName }, row, org);
          });
        }
      });
    }
  });

  function addRackGroup(
    group: RackGroupDoc,
    path: DocPath,
    vars: Record<string, string>,
    row: number,
    org: string | null,
  ): void {
    const spec = catalog.racks[group.type];
    if (!spec) {
      problems.error(`rack type "${group.type}" is not in the catalog`, [...path, "type"]);
      return;
    }
    if (badRacks.has(group.type)) return;
    const names = expandNames(group.name, vars, [...path, "name"], problems);
    // Upstream devices per side, spread over the racks in contiguous blocks.
    const upstream = new Map<string, number[]>();
    const specSides = new Set(spec.power.map((p) => p.side));
    for (const [side, ref] of Object.entries(group.power)) {
      const refPath = [...path, "power", side];
      if (!specSides.has(side)) {
        problems.error(
          `rack type "${group.type}" has no power devices on side ${side} (it has ${[...specSides].join(", ")})`,
          refPath,
        );
        continue;
      }
      const targets: number[] = [];
      for (const pattern of Array.isArray(ref) ? ref : [ref]) {
        for (const name of expandNames(pattern, vars, refPath, problems)) {
          const index = b.indexOf("power", name);
          if (index === undefined) problems.error(`power device "${name}" does not exist`, refPath);
          else {
            const dev = b.entities[index]!;
            if (dev.side !== null && dev.side !== side) {
              problems.error(
                `side ${side} of racks "${group.name}" is fed from "${name}", which is on side ${dev.side}`,
                refPath,
              );
            }
            targets.push(index);
          }
        }
      }
      if (targets.length > 0) upstream.set(side, targets);
    }
    for (const side of specSides) {
      if (!group.power[side]) {
        problems.error(
          `racks "${group.name}" have no power path on side ${side}: rack type "${group.type}" has side-${side} ` +
            `devices, so add power.${side}`,
          [...path, "power"],
        );
      }
    }
    const templates: RackDeviceGroup[] = spec.power.map((p) => ({ path, template: p.name, devices: [] }));
    rackDeviceGroups.push(...templates);
    racks.addGroup(group, spec, path, vars, row, org, names, upstream, templates);
  }

  const fabricNames = new Set<string>();
  (doc.fabrics ?? []).forEach((f, fi) => {
    const path: DocPath = ["fabrics", fi];
    if (fabricNames.has(f.name) || f.name === "management") {
      problems.error(`duplicate fabric name "${f.name}"`, [...path, "name"]);
      return;
    }
    fabricNames.add(f.name);
    const spec = catalog.switches[f.switch];
    if (!spec) {
      problems.error(`switch model "${f.switch}" is not in the catalog`, [...path, "switch"]);
      return;
    }
    if (spec.technology !== f.technology) {
      problems.error(`switch model "${f.switch}" is ${spec.technology}, but the fabric is ${f.technology}`, [
        ...path,
        "switch",
      ]);
    }
    let scope = fabricRacks;
    if (f.racks) {
      const patterns = f.racks.flatMap((p) => expandNames(p, {}, [...path, "racks"], problems));
      const { matched, unmatched } = matchRacks(
        patterns,
        fabricRacks.map((r) => r.name),
      );
      for (const u of unmatched) problems.error(`no rack matches "${u}"`, [...path, "racks"]);
      scope = fabricRacks.filter((r) => matched.has(r.name));
    }
    summary.fabrics[f.name] = buildFabric(b, f, spec, scope, fabricNodes, site);
  });

  // Oversubscription: what each device could have to carry at nameplate against its limit.
  // A node's nameplate is its type's (every node added has a type in the catalog).
  const demand = powerDemand(b, (i) => catalog.nodes[b.entities[i]!.type!]!.nameplateWatts, redundant);
  const over = (i: number): number => demand[i]! / b.entities[i]!.limitWatts!;
  for (const [index, path] of declaredAt) {
    const e = b.entities[index]!;
    if (over(index) > 1) {
      problems.warning(
        `${e.type} "${e.name}" is oversubscribed ${(over(index) * 100).toFixed(0)}%: what it feeds can draw ` +
          `${kw(demand[index]!)} at nameplate against a continuous limit of ${kw(e.limitWatts!)}`,
        [...path, "name"],
      );
    }
  }
  for (const g of rackDeviceGroups) {
    const worst = g.devices.reduce((w, d) => (over(d) > (w < 0 ? 0 : over(w)) ? d : w), -1);
    if (worst >= 0 && over(worst) > 1) {
      const e = b.entities[worst]!;
      const n = g.devices.filter((d) => over(d) > 1).length;
      problems.warning(
        `${e.type} "${g.template}" is oversubscribed up to ${(over(worst) * 100).toFixed(0)}% in ${n} rack(s) ` +
          `(worst: "${e.name}", ${kw(demand[worst]!)} at nameplate against a continuous limit of ${kw(e.limitWatts!)})`,
        [...g.path, "type"],
      );
    }
  }

  const graph = b.finish();
  for (const kind of ENTITY_KINDS) {
    if (kind === "site") continue;
    summary.counts[kind] = graph.countOf(kind);
  }
  for (const e of graph.ofKind("power")) {
    if (graph.rel.feedsUp.offsets[e.index] === graph.rel.feedsUp.offsets[e.index + 1] && e.parent === site) {
      summary.feedLimitWatts += e.limitWatts!;
    }
  }
  return { graph, catalog, summary, endpoints: resolveEndpoints(doc.endpoints, problems) };
}

/** Substitutes variables and expands a pattern; a bad pattern becomes a problem and no names. */
function expandNames(
  pattern: string,
  vars: Record<string, string>,
  path: DocPath,
  problems: ProblemList,
): string[] {
  try {
    return expandPattern(substitute(pattern, vars));
  } catch (err) {
    problems.error(`bad name pattern "${pattern}": ${(err as Error).message}`, path);
    return [];
  }
}
