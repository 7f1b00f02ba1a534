/** What changed between two revisions of a factory, entity by entity, keyed by stable id. */
import { type Entity, type FactoryGraph, neighbors } from "./graph.ts";

/** One changed entity with each changed field as [before, after]. */
export interface EntityChange {
  id: string;
  changes: Record<string, [unknown, unknown]>;
}

export interface DiffSide {
  total: number;
  byKind: Record<string, number>;
  /** The first `limit` ids, in document order. */
  ids: string[];
}

export interface GraphDiff {
  added: DiffSide;
  removed: DiffSide;
  changed: { total: number; items: EntityChange[] };
  /** True when an id list was cut at the limit. */
  truncated: boolean;
}

const FIELDS = ["type", "org", "side", "ratingWatts", "limitWatts", "fabric", "tier", "ordinal"] as const;

/** Upstream power and fabric neighbors, by id: a rewired rack or node shows as changed. */
function wiring(g: FactoryGraph, e: Entity): { parent: string | null; fedBy: string; uplinks: string } {
  const fedBy = Array.from(neighbors(g.rel.feedsUp, e.index), (i) => g.at(i).id)
    .sort()
    .join(",");
  const uplinks = Array.from(neighbors(g.rel.linksUp, e.index), (l) => {
    return `${g.at(g.rel.linkUpper[l]!).id}x${g.rel.linkCables[l]!}`;
  })
    .sort()
    .join(",");
  return { parent: e.parent >= 0 ? g.at(e.parent).id : null, fedBy, uplinks };
}

/** Diff of `after` against `before` (either may be undefined for an empty factory). */
export function diffGraphs(
  before: FactoryGraph | undefined,
  after: FactoryGraph | undefined,
  limit = 1000,
): GraphDiff {
  const diff: GraphDiff = {
    added: { total: 0, byKind: {}, ids: [] },
    removed: { total: 0, byKind: {}, ids: [] },
    changed: { total: 0, items: [] },
    truncated: false,
  };
  const note = (side: DiffSide, e: Entity): void => {
    side.total++;
    side.byKind[e.kind] = (side.byKind[e.kind] ?? 0) + 1;
    if (side.ids.length < limit) side.ids.push(e.id);
    else diff.truncated = true;
  };
  for (const e of after?.entities ?? []) {
    const old = before?.get(e.id);
    if (!old) {
      note(diff.added, e);
      continue;
    }
    const changes: Record<string, [unknown, unknown]> = {};
    for (const f of FIELDS) if (old[f] !== e[f]) changes[f] = [old[f], e[f]];
    const w0 = wiring(before!, old);
    const w1 = wiring(after!, e);
    for (const f of ["parent", "fedBy", "uplinks"] as const) if (w0[f] !== w1[f]) changes[f] = [w0[f], w1[f]];
    if (Object.keys(changes).length > 0) {
      diff.changed.total++;
      if (diff.changed.items.length < limit) diff.changed.items.push({ id: e.id, changes });
      else diff.truncated = true;
    }
  }
  for (const e of before?.entities ?? []) if (!after?.get(e.id)) note(diff.removed, e);
  return diff;
}
