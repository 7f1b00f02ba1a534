/**
 * The org-scoped accessor to the factory graph: the only way the API reads topology. An org user
 * sees the racks of their org and everything in them, plus the shared infrastructure that serves
 * them (the feeds, switchboards and floor PDUs upstream, the leaf and spine switches their NICs
 * reach). Anything else answers exactly as if it did not exist.
 */
import type { Entity, EntityKind, FactoryGraph } from "@flightdeck/model";
import { isProviderAdmin, type Principal } from "./principal.ts";

/** Filters for listing entities of a kind; every filter is an entity id or name to be under. */
export interface ListFilter {
  hall?: string;
  row?: string;
  rack?: string;
  node?: string;
  org?: string;
  type?: string;
  /** Entity id of an NVLink domain, power device or switch: only what is under it. */
  under?: string;
}

export interface Page<T> {
  total: number;
  items: T[];
}

export interface ScopedTopology {
  /** The entity, or undefined when it does not exist or is not visible. */
  get(id: string): Entity | undefined;
  list(kind: EntityKind, filter: ListFilter, offset: number, limit: number): Page<Entity>;
  powerPaths(id: string): Entity[][] | undefined;
  descendants(
    id: string,
    kind: EntityKind | undefined,
    offset: number,
    limit: number,
  ): Page<Entity> | undefined;
  /** Upstream power devices and uplinked switches of an entity, visible ones only. */
  neighborsOf(entity: Entity): {
    fedBy: Entity[];
    uplinks: Array<{ upper: Entity; cables: number; gbps: number }>;
  };
  readonly graph: FactoryGraph;
}

/** Returns the topology as `principal` may see it. */
export function scopeTopology(graph: FactoryGraph, principal: Principal): ScopedTopology {
  const all = isProviderAdmin(principal);
  const org = principal.org;
  const visible = (i: number): boolean => {
    if (all) return true;
    const e = graph.at(i);
    if (e.org !== null) return e.org === org;
    return org !== null && graph.orgsServedBy(i).includes(org);
  };
  const get = (id: string): Entity | undefined => {
    const e = graph.get(id);
    return e && visible(e.index) ? e : undefined;
  };
  const page = (items: Entity[], offset: number, limit: number): Page<Entity> => ({
    total: items.length,
    items: items.slice(offset, offset + limit),
  });

  return {
    graph,
    get,
    list(kind, filter, offset, limit) {
      const scopes: Entity[] = [];
      for (const [k, value] of [
        ["node", filter.node],
        ["rack", filter.rack],
        ["row", filter.row],
        ["hall", filter.hall],
      ] as const) {
        if (value === undefined) continue;
        const e = get(value.includes(":") ? value : `${k}:${value}`);
        if (!e || e.kind !== k) return { total: 0, items: [] };
        scopes.push(e);
      }
      if (filter.under !== undefined) {
        const e = get(filter.under);
        if (!e) return { total: 0, items: [] };
        scopes.push(e);
      }
      // Start from the narrowest scope (the first), then check the others by membership.
      let candidates: Entity[];
      // A scope of the listed kind itself (racks?rack=r01) yields that one entity.
      const within = (scope: Entity): Entity[] =>
        scope.kind === kind ? [scope] : graph.descendants(scope.index, kind);
      if (scopes.length > 0) {
        candidates = within(scopes[0]!);
        if (scopes.length > 1) {
          const sets = scopes
            .slice(1)
            .map((s) => new Set(graph.descendants(s.index, kind).map((e) => e.index)));
          candidates = candidates.filter((e) => sets.every((s) => s.has(e.index)));
        }
      } else {
        candidates = graph.ofKind(kind);
      }
      const out = candidates.filter(
        (e) =>
          visible(e.index) &&
          (filter.org === undefined || e.org === filter.org) &&
          (filter.type === undefined || e.type === filter.type),
      );
      return page(out, offset, limit);
    },
    powerPaths(id) {
      const e = get(id);
      if (!e) return undefined;
      return graph.powerPaths(e.index).map((path) => path.filter((p) => visible(p.index)));
    },
    descendants(id, kind, offset, limit) {
      const e = get(id);
      if (!e) return undefined;
      return page(
        graph.descendants(e.index, kind).filter((d) => visible(d.index)),
        offset,
        limit,
      );
    },
    neighborsOf(entity) {
      const fedBy = Array.from(
        graph.rel.feedsUp.items.subarray(
          graph.rel.feedsUp.offsets[entity.index]!,
          graph.rel.feedsUp.offsets[entity.index + 1]!,
        ),
      )
        .filter(visible)
        .map((i) => graph.at(i));
      const uplinks = graph
        .uplinks(entity.index)
        .filter((l) => visible(l.upper))
        .map((l) => ({ upper: graph.at(l.upper), cables: l.cables, gbps: l.gbps }));
      return { fedBy, uplinks };
    },
  };
}
