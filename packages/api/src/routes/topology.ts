/** Topology queries, always through the org-scoped accessor of the caller. */

import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ENTITY_KINDS, type EntityKind } from "@flightdeck/model";
import { type ScopedTopology, scopeTopology } from "@flightdeck/tenancy";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../auth.ts";
import { ApiError } from "../problems.ts";
import { authErrors, EntityPage, IdParam, Paging, Strict } from "../schemas.ts";
import { entityJson } from "../serialize.ts";
import type { FactoryState } from "../state.ts";

const tags = ["topology"];
const KindSchema = Type.Union(ENTITY_KINDS.map((k) => Type.Literal(k)));

const ListQuery = Type.Object(
  {
    hall: Type.Optional(Type.String({ description: "Hall name or id" })),
    row: Type.Optional(Type.String({ description: "Row id (row:HALL/ROW) or HALL/ROW" })),
    rack: Type.Optional(Type.String({ description: "Rack name or id" })),
    node: Type.Optional(Type.String({ description: "Node name or id" })),
    org: Type.Optional(Type.String()),
    type: Type.Optional(Type.String({ description: "Catalog type, e.g. gb200 or dgx-h100" })),
    under: Type.Optional(
      Type.String({
        description: "Id of a power device, switch or NVLink domain: only what it feeds or connects",
      }),
    ),
    ...Paging,
  },
  Strict,
);

const NO_FACTORY = "no factory has been applied yet";

export function topologyRoutes(app: FastifyInstance, state: FactoryState): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const scoped = (request: FastifyRequest): ScopedTopology => {
    const principal = principalOf(request);
    const current = state.factory;
    if (!current) throw new ApiError(404, "not-found", NO_FACTORY);
    return scopeTopology(current.build.graph, principal);
  };
  const notFound = (id: string): ApiError => new ApiError(404, "not-found", `no entity "${id}"`);

  for (const [path, kind] of [
    ["racks", "rack"],
    ["nodes", "node"],
    ["gpus", "gpu"],
    ["power", "power"],
    ["switches", "switch"],
    ["nvlink-domains", "nvlinkDomain"],
    ["halls", "hall"],
    ["rows", "row"],
  ] as const) {
    r.get(
      `/v1/topology/${path}`,
      {
        schema: {
          tags,
          summary: `List ${path.replace("-", " ")} you may see, with filters`,
          querystring: ListQuery,
          response: { 200: EntityPage, ...authErrors },
        },
      },
      async (request) => {
        const topo = scoped(request);
        const { offset = 0, limit = 100, ...filter } = request.query;
        const page = topo.list(kind as EntityKind, filter, offset, limit);
        return { total: page.total, offset, limit, items: page.items.map((e) => entityJson(topo.graph, e)) };
      },
    );
  }

  r.get(
    "/v1/topology/entities/:id",
    {
      schema: {
        tags,
        summary: "One entity with its power feeds, fabric uplinks and NVLink domain",
        params: IdParam,
        response: {
          200: Type.Object({
            entity: Type.Ref("Entity"),
            fedBy: Type.Array(Type.String()),
            uplinks: Type.Array(
              Type.Object({ id: Type.String(), cables: Type.Integer(), gbps: Type.Number() }),
            ),
            nvlinkDomain: Type.Union([Type.String(), Type.Null()]),
            orgsServed: Type.Array(Type.String()),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const topo = scoped(request);
      const e = topo.get(request.params.id);
      if (!e) throw notFound(request.params.id);
      const { fedBy, uplinks } = topo.neighborsOf(e);
      const domain = topo.graph.domainOf(e.index);
      const principal = principalOf(request);
      return {
        entity: entityJson(topo.graph, e),
        fedBy: fedBy.map((f) => f.id),
        uplinks: uplinks.map((u) => ({ id: u.upper.id, cables: u.cables, gbps: u.gbps })),
        nvlinkDomain: domain && topo.get(domain.id) ? domain.id : null,
        // An org user learns only about itself, never which other orgs share a component.
        orgsServed: topo.graph
          .orgsServedBy(e.index)
          .filter((o) => principal.role === "provider-admin" || o === principal.org),
      };
    },
  );

  r.get(
    "/v1/topology/entities/:id/power-path",
    {
      schema: {
        tags,
        summary: "Every power path from the entity up to a feed (GPU → node → rack PDU → … → feed)",
        params: IdParam,
        response: {
          200: Type.Object({ id: Type.String(), paths: Type.Array(Type.Array(Type.Ref("Entity"))) }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const topo = scoped(request);
      const paths = topo.powerPaths(request.params.id);
      if (!paths) throw notFound(request.params.id);
      return { id: request.params.id, paths: paths.map((p) => p.map((e) => entityJson(topo.graph, e))) };
    },
  );

  r.get(
    "/v1/topology/entities/:id/descendants",
    {
      schema: {
        tags,
        summary: "Everything under a component: contents, what it feeds, what is behind it, domain members",
        params: IdParam,
        querystring: Type.Object({ kind: Type.Optional(KindSchema), ...Paging }, Strict),
        response: { 200: EntityPage, ...authErrors },
      },
    },
    async (request) => {
      const topo = scoped(request);
      const { kind, offset = 0, limit = 100 } = request.query;
      const page = topo.descendants(request.params.id, kind, offset, limit);
      if (!page) throw notFound(request.params.id);
      return { total: page.total, offset, limit, items: page.items.map((e) => entityJson(topo.graph, e)) };
    },
  );
}
