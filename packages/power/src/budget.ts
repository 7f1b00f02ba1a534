/**
 * The budget tree: from a factory's power chain, how many watts the GPUs under each level may
 * draw together.
 *
 * Model. Every power device d bounds Σ_n share(n, d) · draw(n) ≤ limit(d) over the nodes n it
 * feeds, directly or through devices below it. With N+N redundancy either side must carry the
 * whole load alone (a node's full draw lands on each side's chain, split evenly over that side's
 * cords), so share(n, d) is 1 / (cords of n on d's side) summed over the cords that reach d;
 * without redundancy a node's draw is split over all its cords. This is how the model's
 * `powerDemand` budgets devices too.
 *
 * Nested sets. When a device's shares are equal over its nodes (the usual case: all nodes of a
 * rack have the same cords), its constraint is Σ_n draw(n) ≤ limit(d) / share: a bound on a node
 * set. Unequal shares are budgeted at the largest share, which is safe (it only tightens) and
 * marked `conservative`. The A and B chains give two families of node sets; where they group
 * nodes the same way (mirrored chains, the reference designs) each A set equals a B set and
 * the pair merges into one budget at the smaller limit, so one laminar family (a tree) carries
 * every constraint and greedy allocation over it is exact (Federgruen & Groenevelt 1986). If
 * the families cross, the problem is a polymatroid intersection where greedy is not exact:
 * that is refused with `budgets-cross` (see laminar.ts) rather than allocated approximately.
 *
 * Watts for GPUs. A budget's `watts` is its limit less the non-GPU draw (CPU, memory, NICs,
 * fans, NVLink switch trays) of every node under it, counted at its worst (ARCHITECTURE:
 * unknown draw is assumed at its maximum). The allocator then shares `watts` among GPU caps.
 */
import { type BuildResult, type Entity, overheadWatts } from "@flightdeck/model";
import type { GpuSlot } from "./allocate.ts";
import { PowerError } from "./errors.ts";
import { laminarTree, type SetConstraint } from "./laminar.ts";

/** An operator's limit for one power device: watts, or percent of its derated limit. */
export type LimitOverride = { watts: number } | { percent: number };

/** A site-wide target: watts, or a fraction of the site's peak draw (every GPU at its maximum). */
export type FacilityTarget = { watts: number } | { fraction: number };

export interface BudgetOptions {
  /** As the factory's `defaults.redundancy`; N+N when absent. */
  redundancy?: "N+N" | "none";
  /** Per power device id (`power:fpdu-a1`): a lower limit than its rating × derating. */
  overrides?: Readonly<Record<string, LimitOverride>>;
  facility?: FacilityTarget;
  /**
   * AC-to-DC efficiency of the nodes' supplies (default 1: limits taken as node draw). Meters and
   * breakers see AC, caps bound DC: with e < 1 a level's GPUs get limit × e − other draw.
   */
  psuEfficiency?: number;
}

/** One level of the tree: a set of nodes and what they may draw together. */
export interface Budget {
  /** The constraining devices' ids joined with "+", or "facility". */
  readonly id: string;
  /** Index of the enclosing budget in `BudgetTree.budgets`, -1 for a root. */
  readonly parent: number;
  readonly children: readonly number[];
  /** Every device (and "facility") whose constraint is this set, the tightest first. */
  readonly devices: readonly string[];
  /** Total node draw allowed: min over `devices` of limit / share. */
  readonly limitWatts: number;
  /** Non-GPU draw of the nodes under it, at their worst. */
  readonly fixedWatts: number;
  /** What the GPUs under it may draw together: limitWatts × psuEfficiency − fixedWatts. */
  readonly watts: number;
  /** Some device here feeds its nodes in unequal shares and is budgeted at the largest. */
  readonly conservative: boolean;
  /** GPU ids directly under this budget (not under a child); `gpuCount` counts the subtree. */
  readonly gpus: readonly string[];
  readonly gpuCount: number;
}

export interface BudgetTree {
  /** Parents before children. */
  readonly budgets: readonly Budget[];
  /** Every GPU of the factory with its cap range and deepest budget: the allocator's input. */
  readonly gpus: readonly GpuSlot[];
  /** GPU id → index in `gpus`: pass it as `AllocationInput.gpuIndex`. */
  readonly gpuIndex: ReadonlyMap<string, number>;
  /** Every GPU at its maximum cap plus every node's non-GPU draw. */
  readonly peakWatts: number;
}

/** A power device's constraint as a node set, before nesting. */
interface DeviceSet {
  id: string;
  nodes: number[];
  shares: number[];
}

/** Derives the budget tree of a built factory. Throws `PowerError` for bad overrides or crossing chains. */
export function deriveBudgets(build: BuildResult, options: BudgetOptions = {}): BudgetTree {
  const { graph, catalog } = build;
  const redundant = (options.redundancy ?? "N+N") === "N+N";
  const { offsets, items } = graph.rel.feedsUp;
  const ups = (i: number) => items.subarray(offsets[i]!, offsets[i + 1]!);
  const limits = deviceLimits(graph.ofKind("power"), options.overrides ?? {});

  // The device above each device (a chain is a tree from each feed down).
  const upOf = new Int32Array(graph.size).fill(-1);
  for (const d of graph.ofKind("power")) {
    const above = ups(d.index);
    if (above.length > 1)
      throw new PowerError("multiple-upstream", `${d.id} is fed by ${above.length} devices`);
    if (above.length === 1) upOf[d.index] = above[0]!;
  }
  // Each node's share on every device above it, walking its cords up their chains.
  const sets: (DeviceSet | undefined)[] = new Array(graph.size);
  const nodes = graph.ofKind("node").sort((a, b) => a.index - b.index);
  for (const node of nodes) {
    const cords = ups(node.index);
    for (const cord of cords) {
      let sameSide = 0;
      const side = graph.at(cord).side;
      for (const c of cords) if (graph.at(c).side === side) sameSide++;
      const share = 1 / (redundant ? sameSide : cords.length);
      for (let d = cord; d >= 0; d = upOf[d]!) {
        let set = sets[d];
        if (!set) sets[d] = set = { id: graph.at(d).id, nodes: [], shares: [] };
        const last = set.nodes.length - 1;
        if (set.nodes[last] === node.index) set.shares[last]! += share;
        else {
          set.nodes.push(node.index);
          set.shares.push(share);
        }
      }
    }
  }

  interface Source {
    id: string;
    conservative: boolean;
  }
  const constraints: SetConstraint<Source>[] = [];
  sets.forEach((set, d) => {
    if (!set) return;
    let most = 0;
    let least = Number.POSITIVE_INFINITY;
    for (const x of set.shares) {
      most = Math.max(most, x);
      least = Math.min(least, x);
    }
    const conservative = most - least > 1e-12;
    constraints.push({
      members: Int32Array.from(set.nodes),
      limit: limits.get(d)! / most,
      source: { id: set.id, conservative },
    });
  });

  const nodeSpec = (n: Entity) => catalog.nodes[n.type ?? ""];
  const fixedOf = new Float64Array(graph.size);
  let peakWatts = 0;
  for (const n of nodes) {
    const spec = nodeSpec(n);
    if (!spec) continue;
    fixedOf[n.index] = overheadWatts(spec);
    peakWatts += fixedOf[n.index]! + spec.gpus * (spec.gpu ? catalog.gpus[spec.gpu]!.maxWatts : 0);
  }
  if (options.facility) {
    const target = options.facility;
    const watts = "watts" in target ? target.watts : target.fraction * peakWatts;
    if (!(watts > 0) || ("fraction" in target && !(target.fraction <= 1)))
      throw new PowerError(
        "bad-target",
        `facility target ${JSON.stringify(target)} must be positive watts or a fraction in (0, 1]`,
      );
    constraints.push({
      members: Int32Array.from(nodes, (n) => n.index),
      limit: watts,
      source: { id: "facility", conservative: false },
    });
  }

  const { sets: tree, deepest } = laminarTree(constraints, graph.size, (s) => s.id);
  const efficiency = options.psuEfficiency ?? 1;
  if (!(efficiency > 0 && efficiency <= 1))
    throw new PowerError("bad-override", `psuEfficiency ${efficiency} must be in (0, 1]`);
  return assemble(build, tree, deepest, fixedOf, nodes, peakWatts, efficiency);
}

/** Each device's limit after overrides, which may only lower it (a higher one could trip it). */
function deviceLimits(
  devices: Entity[],
  overrides: Readonly<Record<string, LimitOverride>>,
): Map<number, number> {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const out = new Map(devices.map((d) => [d.index, d.limitWatts ?? Number.POSITIVE_INFINITY]));
  for (const [id, o] of Object.entries(overrides)) {
    const d = byId.get(id);
    if (!d) throw new PowerError("bad-override", `override for ${id}: no such power device`);
    const base = d.limitWatts ?? Number.POSITIVE_INFINITY;
    const watts = "watts" in o ? o.watts : (o.percent / 100) * base;
    if (!(watts >= 0) || watts > base)
      throw new PowerError(
        "bad-override",
        `override for ${id}: ${JSON.stringify(o)} must be between 0 and its limit ${base.toFixed(0)} W`,
      );
    out.set(d.index, watts);
  }
  return out;
}

function assemble(
  build: BuildResult,
  tree: ReturnType<typeof laminarTree<{ id: string; conservative: boolean }>>["sets"],
  deepest: Int32Array,
  fixedOf: Float64Array,
  nodes: Entity[],
  peakWatts: number,
  efficiency: number,
): BudgetTree {
  const { graph, catalog } = build;
  const { offsets, items } = graph.rel.children;
  const fixed = new Float64Array(tree.length);
  const count = new Int32Array(tree.length);
  const direct: string[][] = tree.map(() => []);
  const gpus: GpuSlot[] = [];
  for (const n of nodes) {
    const b = deepest[n.index]!;
    if (b >= 0) fixed[b]! += fixedOf[n.index]!;
    for (let k = offsets[n.index]!; k < offsets[n.index + 1]!; k++) {
      const g = graph.at(items[k]!);
      if (g.kind !== "gpu") continue;
      const spec = catalog.gpus[g.type ?? ""];
      gpus.push({ id: g.id, budget: b, minWatts: spec?.minWatts ?? 0, maxWatts: spec?.maxWatts ?? 0 });
      if (b >= 0) {
        direct[b]!.push(g.id);
        count[b]!++;
      }
    }
  }
  const children: number[][] = tree.map(() => []);
  // Children come after parents: one reverse pass sums subtrees.
  for (let k = tree.length - 1; k >= 0; k--) {
    const p = tree[k]!.parent;
    if (p < 0) continue;
    fixed[p]! += fixed[k]!;
    count[p]! += count[k]!;
    children[p]!.unshift(k);
  }
  const budgets: Budget[] = tree.map((s, k) => ({
    id: s.sources.map((x) => x.id).join("+"),
    parent: s.parent,
    children: children[k]!,
    devices: s.sources.map((x) => x.id),
    limitWatts: s.limits[0]!,
    fixedWatts: fixed[k]!,
    watts: s.limits[0]! * efficiency - fixed[k]!,
    conservative: s.sources.some((x) => x.conservative),
    gpus: direct[k]!,
    gpuCount: count[k]!,
  }));
  const gpuIndex = new Map<string, number>();
  for (let i = 0; i < gpus.length; i++) gpuIndex.set(gpus[i]!.id, i);
  return { budgets, gpus, gpuIndex, peakWatts };
}
