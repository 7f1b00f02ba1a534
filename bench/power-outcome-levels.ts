/**
 * The yardstick of the power outcome bench, independent of any policy: every level of the
 * budget tree (rack PDUs, floor PDUs, feeds, the facility budget) with the twin's nodes under
 * it, its measured draw each tick (what its meters carry: the nodes' input power after supply
 * losses) against its limit, the seconds any level spends over, and how long each excursion
 * lasts from the first reading over to the first reading back under.
 */
import type { BuildResult } from "@flightdeck/model";
import type { BudgetTree } from "@flightdeck/power";
import { type FactoryState, PSU_EFFICIENCY } from "@flightdeck/sim";

/** One level: its nodes (twin slots) and its limit on their input power. */
export interface Level {
  readonly id: string;
  readonly limitWatts: number;
  readonly nodes: Int32Array;
}

/** Each budget of the tree as node slots of the twin. */
export function levelsOf(build: BuildResult, tree: BudgetTree, state: FactoryState): Level[] {
  const { topo } = state;
  const nodeOfGpu = new Map<string, number>();
  for (let g = 0; g < topo.gpuCount; g++)
    nodeOfGpu.set(build.graph.at(topo.gpuEntity[g]!).id, topo.gpuNode[g]!);
  const sets = tree.budgets.map(() => new Set<number>());
  for (const slot of tree.gpus) {
    const node = nodeOfGpu.get(slot.id);
    if (node === undefined) continue;
    for (let b = slot.budget; b >= 0; b = tree.budgets[b]!.parent) sets[b]!.add(node);
  }
  return tree.budgets.map((b, k) => ({
    id: b.id,
    limitWatts: b.limitWatts,
    nodes: Int32Array.from([...sets[k]!].sort((x, y) => x - y)),
  }));
}

/** The site's draw at its feeds: every node's input power. */
export function facilityWatts(state: FactoryState): number {
  let sum = 0;
  for (let n = 0; n < state.topo.nodeCount; n++) sum += state.nodePowerWatts[n]!;
  return sum / PSU_EFFICIENCY;
}

/** Accumulates seconds over any limit and the worst excursion over all levels. */
export class LimitWatch {
  private readonly overSince: (number | undefined)[];
  secondsOver = 0;
  worstReactionSeconds = 0;

  constructor(readonly levels: readonly Level[]) {
    this.overSince = levels.map(() => undefined);
  }

  /** One reading at `nowSeconds`, covering the `dtSeconds` before it. */
  observe(state: FactoryState, nowSeconds: number, dtSeconds: number): void {
    let any = false;
    this.levels.forEach((level, k) => {
      let draw = 0;
      for (const n of level.nodes) draw += state.nodePowerWatts[n]!;
      draw /= PSU_EFFICIENCY;
      const since = this.overSince[k];
      if (draw > level.limitWatts * (1 + 1e-9)) {
        any = true;
        if (since === undefined) this.overSince[k] = nowSeconds - dtSeconds;
      } else if (since !== undefined) {
        this.worstReactionSeconds = Math.max(this.worstReactionSeconds, nowSeconds - dtSeconds - since);
        this.overSince[k] = undefined;
      }
    });
    if (any) this.secondsOver += dtSeconds;
  }

  /** Closes excursions still open at the end of the run. */
  finish(nowSeconds: number): void {
    for (const since of this.overSince)
      if (since !== undefined)
        this.worstReactionSeconds = Math.max(this.worstReactionSeconds, nowSeconds - since);
  }
}
