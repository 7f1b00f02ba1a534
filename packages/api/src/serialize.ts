/** Domain values to their JSON form. */
import type { Entity, FactoryGraph, Problem } from "@flightdeck/model";
import { formatPath } from "@flightdeck/model";

export function entityJson(graph: FactoryGraph, e: Entity) {
  return {
    id: e.id,
    kind: e.kind,
    name: e.name,
    type: e.type,
    parent: e.parent >= 0 ? graph.at(e.parent).id : null,
    org: e.org,
    side: e.side,
    ratingWatts: e.ratingWatts,
    limitWatts: e.limitWatts,
    fabric: e.fabric,
    tier: e.tier,
    ordinal: e.ordinal,
  };
}

export function problemJson(p: Problem) {
  return {
    severity: p.severity,
    message: p.message,
    ...(p.line !== undefined ? { line: p.line, col: p.col ?? 1 } : {}),
    ...(p.path && p.path.length > 0 ? { path: formatPath(p.path) } : {}),
  };
}
