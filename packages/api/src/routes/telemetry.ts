/**
 * KPIs, series, Xid events and scrape targets, scoped to the caller: an org's users see the
 * KPIs of GPUs in their org's racks, the series and events of entities they may see, and never
 * the scrape targets (infrastructure addresses), which are the provider admin's.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { KPI_GROUPINGS, type KpiGrouping, type KpiRow } from "@flightdeck/kpi";
import type { FactoryGraph } from "@flightdeck/model";
import type { Store } from "@flightdeck/store";
import { escapeLabelValue, formatNumber } from "@flightdeck/telemetry";
import { canSeeOrg, isProviderAdmin, type Principal, scopeTopology } from "@flightdeck/tenancy";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../auth.ts";
import { ApiError } from "../problems.ts";
import { authErrors, Strict } from "../schemas.ts";
import type { FactoryState } from "../state.ts";
import { ROLLUP_GROUPINGS, type Telemetry } from "../telemetry.ts";

const tags = ["telemetry"];
const ByEnum = Type.Union(KPI_GROUPINGS.map((g) => Type.Literal(g)));

const WindowQuery = {
  windowSeconds: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 7 * 86_400,
      description: "The window, ending now (default: all of the live window)",
    }),
  ),
  endMs: Type.Optional(
    Type.Integer({ minimum: 0, description: "End of the window, ms since the epoch (default now)" }),
  ),
};

const KpiRowSchema = Type.Object({
  key: Type.String(),
  gpus: Type.Integer(),
  promptTokens: Type.Number(),
  generatedTokens: Type.Number(),
  trainingTokens: Type.Number(),
  tokens: Type.Number(),
  energyJoules: Type.Number(),
  tokensPerJoule: Type.Number(),
  tokensPerKWh: Type.Number(),
  tokensPerSecond: Type.Number(),
  gpuSeconds: Type.Number(),
  tokensPerGpuHour: Type.Number(),
  usableGpuSeconds: Type.Number(),
  usableShare: Type.Number(),
  meanPowerWatts: Type.Number(),
  pduEnergyJoules: Type.Optional(Type.Number()),
  pduToGpuEnergyRatio: Type.Optional(Type.Number()),
  tokensPerRackHour: Type.Optional(Type.Number()),
});

const KpiAnswer = Type.Object({
  by: Type.String(),
  startMs: Type.Integer(),
  endMs: Type.Integer(),
  rows: Type.Array(KpiRowSchema),
});

const NOT_RUNNING = "telemetry is not running on this server";

/** What a principal may see of the telemetry of `graph`. */
function visibility(graph: FactoryGraph, principal: Principal) {
  const admin = isProviderAdmin(principal);
  const topo = scopeTopology(graph, principal);
  return {
    admin,
    gpu: (index: number) => admin || canSeeOrg(principal, graph.orgOf(index)),
    /** An entity of the model (gpu:…, node:…, power:…), or a model server / job of the caller's org. */
    entity: (id: string, org?: string) => {
      if (admin) return true;
      if (id.startsWith("server:") || id.startsWith("job:"))
        return org !== undefined && canSeeOrg(principal, org);
      return topo.get(id) !== undefined;
    },
  };
}

export function telemetryRoutes(
  app: FastifyInstance,
  state: FactoryState,
  telemetry: Telemetry | undefined,
  store?: Store,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  /** KPI streams open per token: each recomputes the KPIs every interval. */
  const streamsOpen = new Map<number, number>();
  const need = (): Telemetry => {
    if (!telemetry) throw new ApiError(503, "telemetry-unavailable", NOT_RUNNING);
    return telemetry;
  };
  const graphOf = (): FactoryGraph => {
    const current = state.factory;
    if (!current) throw new ApiError(404, "not-found", "no factory has been applied yet");
    return current.build.graph;
  };
  const windowOf = (t: Telemetry, q: { windowSeconds?: number; endMs?: number }) => {
    const endMs = q.endMs ?? Date.now();
    const startMs = q.windowSeconds !== undefined ? endMs - q.windowSeconds * 1000 : t.startedAtMs;
    return { startMs: Math.min(startMs, endMs), endMs };
  };
  const kpisFor = (
    request: FastifyRequest,
    by: KpiGrouping,
    q: { windowSeconds?: number; endMs?: number },
  ) => {
    const t = need();
    const graph = graphOf();
    const see = visibility(graph, principalOf(request));
    const { startMs, endMs } = windowOf(t, q);
    return { by, startMs, endMs, rows: t.kpis(by, startMs, endMs, see.admin ? undefined : see.gpu) };
  };

  r.get(
    "/v1/kpi",
    {
      schema: {
        tags,
        summary: "Tokens, energy, tokens per joule, GPU time and usable share, grouped",
        querystring: Type.Object({ by: Type.Optional(ByEnum), ...WindowQuery }, Strict),
        response: { 200: KpiAnswer, ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request) => kpisFor(request, request.query.by ?? "rack", request.query),
  );

  r.get(
    "/v1/kpi/history",
    {
      schema: {
        tags,
        summary: "One-minute KPI rollups of racks, orgs or jobs, kept beyond the live window",
        querystring: Type.Object(
          {
            by: Type.Union(ROLLUP_GROUPINGS.map((g) => Type.Literal(g))),
            key: Type.Optional(Type.String({ minLength: 1 })),
            startMs: Type.Integer({ minimum: 0 }),
            endMs: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          },
          Strict,
        ),
        response: {
          200: Type.Object({ rows: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      need();
      if (!store) throw new ApiError(503, "telemetry-unavailable", "no store for rollups");
      const principal = principalOf(request);
      const { by, key, startMs, endMs = Date.now(), limit } = request.query;
      const rows = await store.listKpiRollups({
        grouping: by,
        startMs,
        endMs,
        ...(key !== undefined ? { key } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(isProviderAdmin(principal) ? {} : { orgs: principal.org ? [principal.org] : [] }),
      });
      return { rows };
    },
  );

  r.get(
    "/v1/kpi/stranded",
    {
      schema: {
        tags,
        summary: "Every power level's budget against its metered draw now",
        response: {
          200: Type.Object({
            atMs: Type.Integer(),
            levels: Type.Array(
              Type.Object({
                id: Type.String(),
                type: Type.Union([Type.String(), Type.Null()]),
                limitWatts: Type.Number(),
                drawWatts: Type.Union([Type.Number(), Type.Null()]),
                strandedWatts: Type.Union([Type.Number(), Type.Null()]),
                utilization: Type.Union([Type.Number(), Type.Null()]),
              }),
            ),
          }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const t = need();
      const see = visibility(graphOf(), principalOf(request));
      const atMs = Date.now();
      const levels = t
        .stranded(atMs)
        .filter((l) => see.entity(l.id))
        .map((l) => ({
          ...l,
          drawWatts: l.drawWatts ?? null,
          strandedWatts: l.strandedWatts ?? null,
          utilization: l.utilization ?? null,
        }));
      return { atMs, levels };
    },
  );

  r.get(
    "/v1/telemetry/targets",
    {
      schema: {
        tags,
        summary: "Every scrape and poll target with its health and last error (provider admin)",
        response: {
          200: Type.Object({ targets: Type.Array(Type.Unknown()) }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const t = need();
      if (!isProviderAdmin(principalOf(request)))
        throw new ApiError(
          403,
          "forbidden",
          "scrape targets are infrastructure: this needs the provider-admin role",
        );
      return { targets: t.targets() };
    },
  );

  r.get(
    "/v1/telemetry/events",
    {
      schema: {
        tags,
        summary: "Xid events from the kernel log, newest last",
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
            gpu: Type.Optional(Type.String()),
          },
          Strict,
        ),
        response: {
          200: Type.Object({ events: Type.Array(Type.Unknown()) }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const t = need();
      const see = visibility(graphOf(), principalOf(request));
      const { limit = 1000, gpu } = request.query;
      const events = t
        .events()
        .filter((e) => (e.gpuId ? see.entity(e.gpuId) : see.admin))
        .filter((e) => gpu === undefined || e.gpuId === gpu);
      return { events: events.slice(-limit).map(({ raw: _raw, ...e }) => e) };
    },
  );

  r.get(
    "/v1/telemetry/series",
    {
      schema: {
        tags,
        summary: "Samples of the series a PromQL selector matches, in a window",
        querystring: Type.Object(
          {
            selector: Type.String({
              minLength: 1,
              description: 'e.g. DCGM_FI_DEV_POWER_USAGE{entity="gpu:NODE/0"}',
            }),
            ...WindowQuery,
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          },
          Strict,
        ),
        response: {
          200: Type.Object({
            startMs: Type.Integer(),
            endMs: Type.Integer(),
            series: Type.Array(
              Type.Object({
                labels: Type.Record(Type.String(), Type.String()),
                timestampsMs: Type.Array(Type.Number()),
                values: Type.Array(Type.Union([Type.Number(), Type.String()])),
              }),
            ),
          }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const t = need();
      const see = visibility(graphOf(), principalOf(request));
      const { selector, limit = 1000 } = request.query;
      const { startMs, endMs } = windowOf(t, {
        ...request.query,
        windowSeconds: request.query.windowSeconds ?? 600,
      });
      let refs: number[];
      try {
        refs = t.store.select(selector);
      } catch (err) {
        throw new ApiError(400, "bad-request", `selector: ${(err as Error).message}`, {
          errors: [{ field: "selector", message: (err as Error).message }],
        });
      }
      const orgOfSource = new Map(t.sources().map((s) => [s.entity, s.org]));
      const series = refs
        .filter((ref) => {
          const entity = t.store.labels(ref).entity ?? "";
          return see.entity(entity, orgOfSource.get(entity));
        })
        .slice(0, limit)
        .map((ref) => {
          const range = t.store.range(ref, startMs, endMs);
          return {
            labels: { ...t.store.labels(ref) },
            timestampsMs: Array.from(range.timestampsMs),
            values: Array.from(range.values, (v) => (Number.isFinite(v) ? v : String(v))),
          };
        });
      return { startMs, endMs, series };
    },
  );

  r.get(
    "/v1/kpi/stream",
    {
      schema: {
        tags,
        summary: "Server-sent events: the KPIs again every interval (event `kpi`)",
        querystring: Type.Object(
          {
            by: Type.Optional(ByEnum),
            intervalSeconds: Type.Optional(Type.Number({ minimum: 0.2, maximum: 3600 })),
            ...WindowQuery,
          },
          Strict,
        ),
        response: { ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request, reply) => {
      need();
      const principal = principalOf(request);
      const open = streamsOpen.get(principal.tokenId) ?? 0;
      if (open >= MAX_STREAMS_PER_TOKEN)
        throw new ApiError(429, "too-many-streams", `at most ${MAX_STREAMS_PER_TOKEN} KPI streams per token`);
      const by = request.query.by ?? "rack";
      const every = (request.query.intervalSeconds ?? 5) * 1000;
      const windowSeconds = request.query.windowSeconds;
      const window = windowSeconds !== undefined ? { windowSeconds } : {};
      const first = kpisFor(request, by, window);
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
      streamsOpen.set(principal.tokenId, open + 1);
      streamEvents(
        reply,
        request,
        every,
        first,
        async () => {
          // A token revoked while the stream is open ends it at the next tick.
          if (!store || (await store.authenticate(bearer))) return kpisFor(request, by, window);
          return undefined;
        },
        () => {
          const n = (streamsOpen.get(principal.tokenId) ?? 1) - 1;
          if (n > 0) streamsOpen.set(principal.tokenId, n);
          else streamsOpen.delete(principal.tokenId);
        },
      );
    },
  );

  r.get(
    "/v1/kpi/metrics",
    {
      schema: {
        tags,
        summary:
          "The KPIs by rack, org and job as a Prometheus text page, for Prometheus and Grafana (scoped to the token)",
        querystring: Type.Object({ ...WindowQuery }, Strict),
        response: { ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request, reply) => {
      const pages: { by: KpiGrouping; rows: KpiRow[] }[] = (["rack", "org", "job", "model"] as const).map(
        (by) => ({
          by,
          rows: kpisFor(request, by, { windowSeconds: request.query.windowSeconds ?? 300 }).rows,
        }),
      );
      reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
      return renderKpiPage(pages);
    },
  );
}

/** Open KPI streams one token may hold. */
const MAX_STREAMS_PER_TOKEN = 8;

/**
 * Writes `first` now and `next()` every `everyMs` as `event: kpi` until the client leaves or
 * `next` answers undefined (the token was revoked). A tick is skipped while the client has not
 * taken the previous one: a slow reader never makes the server buffer without bound.
 */
function streamEvents(
  reply: FastifyReply,
  request: FastifyRequest,
  everyMs: number,
  first: unknown,
  next: () => Promise<unknown>,
  closed: () => void,
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  let id = 0;
  let backedUp = false;
  const send = (data: unknown) => {
    backedUp = !res.write(`id: ${++id}\nevent: kpi\ndata: ${JSON.stringify(data)}\n\n`);
  };
  res.on("drain", () => {
    backedUp = false;
  });
  send(first);
  let busy = false;
  const timer = setInterval(() => {
    if (busy || backedUp) return;
    busy = true;
    next()
      .then((data) => {
        if (data === undefined) {
          res.end('event: end\ndata: {"detail":"the token is no longer valid"}\n\n');
          return;
        }
        send(data);
      })
      .catch((err: Error) => {
        res.write(`event: error\ndata: ${JSON.stringify({ detail: err.message })}\n\n`);
      })
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearInterval(timer);
    closed();
  };
  request.raw.on("close", finish);
  res.on("close", finish);
}

/** Metric families of the KPI page: flightdeck_kpi_<field>{by, key}. */
const KPI_FAMILIES: [keyof KpiRow, string, "gauge"][] = [
  ["tokens", "Tokens (prompt, generated and trained) over the window.", "gauge"],
  ["energyJoules", "GPU energy over the window, joules.", "gauge"],
  ["tokensPerJoule", "Tokens per joule of GPU energy over the window.", "gauge"],
  ["tokensPerSecond", "Tokens per second over the window.", "gauge"],
  ["tokensPerGpuHour", "Tokens per GPU-hour over the window.", "gauge"],
  ["usableShare", "Share of GPU time that was healthy and productive over the window.", "gauge"],
  ["meanPowerWatts", "Mean GPU power over the window, watts.", "gauge"],
  ["gpus", "GPUs in the group.", "gauge"],
];

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function renderKpiPage(pages: { by: KpiGrouping; rows: KpiRow[] }[]): string {
  const lines: string[] = [];
  for (const [field, help, type] of KPI_FAMILIES) {
    const name = `flightdeck_kpi_${snake(field)}`;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const { by, rows } of pages)
      for (const row of rows)
        lines.push(
          `${name}{by="${escapeLabelValue(by)}",key="${escapeLabelValue(row.key)}"} ${formatNumber(Number(row[field] ?? 0))}`,
        );
  }
  return `${lines.join("\n")}\n`;
}
