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
  const n = b.entities.length;
  const demand = new Float64Array(n);
  const { from, to } = b.feedEdges();
  // Per node: its upstream devices, grouped by side.
  const upstreamOf = new Map<number, number[]>();
  for (let e = 0; e < from.length; e++) {
    const down = b.entities[to[e]!]!;
    if (down.kind !== "node") continue;
    let list = upstreamOf.get(down.index);
    if (!list) {
      list = [];
      upstreamOf.set(down.index, list);
    }
    list.push(from[e]!);
  }
  for (const [node, ups] of upstreamOf) {
    const watts = nodeWatts(node);
    const perSide = new Map<string, number>();
    for (const u of ups) {
      const side = b.entities[u]!.side ?? "";
      perSide.set(side, (perSide.get(side) ?? 0) + 1);
    }
    for (const u of ups) {
      const share = redundant ? watts / perSide.get(b.entities[u]!.side ?? "")! : watts / ups.length;
      demand[u]! += share;
    }
  }
  // Power devices are created parents first, so a reverse pass sums children before parents.
  const parentOf = new Int32Array(n).fill(-1);
  for (let e = 0; e < from.length; e++) if (b.entities[to[e]!]!.kind === "power") parentOf[to[e]!] = from[e]!;
  for (let i = n - 1; i >= 0; i--) {
    const p = parentOf[i]!;
    if (p >= 0) demand[p]! += demand[i]!;
  }
  return demand;
}
