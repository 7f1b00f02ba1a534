/** The site's power chain: devices from the utility feeds down to floor PDUs, and their demand. */
import type { GraphBuilder } from "./builder.ts";
import { ratingWatts } from "./catalog.ts";
import type { DocPath, PowerDeviceDoc } from "./document.ts";
import { expandPattern, substitute } from "./pattern.ts";
import type { ProblemList } from "./problems.ts";

/** Kinds that may start a power path at the top of the chain. */
const SOURCES = new Set(["feed", "generator"]);

/** Where each site power device was declared, for problems that point back at the file. */
export type DeclaredAt = Map<number, DocPath>;

/** Adds the site power tree under `siteIndex`. */
export function buildPowerTree(
  b: GraphBuilder,
  devices: readonly PowerDeviceDoc[],
  siteIndex: number,
  defaultDerating: number,
  problems: ProblemList,
  declaredAt: DeclaredAt,
): void {
  const walk = (
    docs: readonly PowerDeviceDoc[],
    path: DocPath,
    upstream: number,
    side: string | null,
    vars: Record<string, string>,
  ): void => {
    docs.forEach((doc, i) => {
      const here = [...path, i];
      let names: string[];
      try {
        names = expandPattern(substitute(doc.name, vars));
      } catch (err) {
        problems.error(`bad name pattern: ${(err as Error).message}`, [...here, "name"]);
        return;
      }
      if (upstream < 0 && !SOURCES.has(doc.kind)) {
        problems.error(
          `power device "${names[0]}" (${doc.kind}) is at the top of the power chain but is not a feed: ` +
            "put it under the feed that supplies it",
          [...here, "kind"],
        );
      }
      const derating = doc.derating ?? defaultDerating;
      const rating = ratingWatts(doc.rating);
      for (const name of names) {
        const index = b.add({
          kind: "power",
          name,
          type: doc.kind,
          parent: siteIndex,
          side: doc.side ?? side,
          ratingWatts: rating,
          limitWatts: rating * derating,
        });
        if (index < 0) {
          problems.error(`duplicate power device name "${name}"`, [...here, "name"]);
          continue;
        }
        declaredAt.set(index, here);
        if (upstream >= 0) b.feed(upstream, index);
        if (doc.children) {
          walk(doc.children, [...here, "children"], index, doc.side ?? side, {
            ...vars,
            parent: name,
            [doc.kind]: name,
          });
        }
      }
    });
  };
  walk(devices, ["power"], -1, null, {});
}

/**
 * Bottom-up demand: what everything below a power device can draw at nameplate. Nodes are given
 * by `nodeWatts`; a device's demand is the sum of the shares its children put on it. With N+N
 * redundancy each side must carry a node alone, so a node's whole demand lands on every side,
 * split evenly over the devices of that side.
 */
export function powerDemand(
  b: GraphBuilder,
  nodeWatts: (index: number) => number,
  redundant: boolean,
): Float64Array {
  const entities = b.entities;
  const n = b.size;
  const demand = new Float64Array(n);
  const { from, to } = b.feedEdges();
  // A power device's parent in the chain: the last edge into it.
  const parentOf = new Int32Array(n).fill(-1);
  for (let e = 0; e < from.length; e++) if (entities[to[e]!]!.kind === "power") parentOf[to[e]!] = from[e]!;
  spreadNodeDemand(b, demand, nodeWatts, redundant);
  // Power devices are created parents first, so a reverse pass sums children before parents.
  for (let i = n - 1; i >= 0; i--) {
    const p = parentOf[i]!;
    if (p >= 0) demand[p]! += demand[i]!;
  }
  return demand;
}

/**
 * Puts one node's demand on its `count` upstream devices `ups[start …]` (sides in `sides`): with
 * N+N redundancy each side carries the whole node, split over that side's devices; otherwise the
 * devices split it.
 */
function addNodeDemand(
  demand: Float64Array,
  watts: number,
  ups: Int32Array,
  start: number,
  sides: readonly (string | null)[],
  count: number,
  redundant: boolean,
): void {
  for (let k = 0; k < count; k++) {
    let share: number;
    if (redundant) {
      const side = sides[k] ?? "";
      let perSide = 0;
      for (let m = 0; m < count; m++) if ((sides[m] ?? "") === side) perSide++;
      share = watts / perSide;
    } else {
      share = watts / count;
    }
    demand[ups[start + k]!]! += share;
  }
}

/** Node shares on their upstream devices, for edges in any order: nodes by first edge, devices in edge order. */
function spreadNodeDemand(
  b: GraphBuilder,
  demand: Float64Array,
  nodeWatts: (index: number) => number,
  redundant: boolean,
): void {
  const entities = b.entities;
  const n = b.size;
  const { from, to } = b.feedEdges();
  const offsets = new Int32Array(n + 1);
  const order: number[] = [];
  for (let e = 0; e < from.length; e++) {
    const down = to[e]!;
    if (entities[down]!.kind !== "node") continue;
    if (offsets[down + 1]!++ === 0) order.push(down);
  }
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, n);
  const ups = new Int32Array(offsets[n]!);
  for (let e = 0; e < from.length; e++) {
    const down = to[e]!;
    if (entities[down]!.kind === "node") ups[fill[down]!++] = from[e]!;
  }
  const sides: (string | null)[] = [];
  for (const node of order) {
    const start = offsets[node]!;
    const end = offsets[node + 1]!;
    for (let k = start; k < end; k++) sides[k - start] = entities[ups[k]!]!.side;
    addNodeDemand(demand, nodeWatts(node), ups, start, sides, end - start, redundant);
  }
}
