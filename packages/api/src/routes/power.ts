/**
 * The power service over HTTP: the budget tree with draw and headroom per level, the facility
 * target (operator, schedule, demand-response events, BMS), the safety loop's action log, the
 * running jobs' caps and profiles, and why any GPU has its cap.
 *
 * Scoping: the provider admin sees and changes everything. An org's users see the levels that
 * feed only their org's racks, their org's jobs, actions and GPU explanations, and nothing of the
 * site-wide target; another org's GPU is answered as not found.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FactoryGraph } from "@flightdeck/model";
import { PLACEMENT_ERROR_STATUS, PlacementError, SHAPES, type Shape } from "@flightdeck/placement";
import { definePolicy, defineProfile, ProfileError, type ProfileRule } from "@flightdeck/power";
import { canAdministerOrg, canSeeOrg, isProviderAdmin, type Principal } from "@flightdeck/tenancy";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../auth.ts";
import { PowerRequestError, type PowerService, type TargetInput } from "../power.ts";
import { ApiError } from "../problems.ts";
import { authErrors, Strict } from "../schemas.ts";
import type { FactoryState } from "../state.ts";

const tags = ["power"];

const Target = Type.Union([
  Type.Object({ watts: Type.Number({ exclusiveMinimum: 0 }) }, Strict),
  Type.Object({ fraction: Type.Number({ exclusiveMinimum: 0, maximum: 1 }) }, Strict),
]);

const LevelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  parent: Type.Union([Type.String(), Type.Null()]),
  limitWatts: Type.Number(),
  gpuWatts: Type.Number(),
  otherWatts: Type.Number(),
  otherFrom: Type.Union([Type.Literal("nameplate"), Type.Literal("meters")]),
  allocatedWatts: Type.Number(),
  drawWatts: Type.Union([Type.Number(), Type.Null()]),
  headroomWatts: Type.Union([Type.Number(), Type.Null()]),
  utilization: Type.Union([Type.Number(), Type.Null()]),
  binds: Type.Boolean(),
  marginalTokensPerJoule: Type.Number(),
  gpuCount: Type.Integer(),
  band: Type.Union([Type.String(), Type.Null()]),
});

function adminOnly(principal: Principal, what: string): void {
  if (!isProviderAdmin(principal))
    throw new ApiError(403, "forbidden", `${what} is site-wide: this needs the provider-admin role`);
}

/** Whether every node under the level's devices belongs to orgs the principal may see. */
function levelVisible(graph: FactoryGraph, principal: Principal, devices: readonly string[]): boolean {
  if (isProviderAdmin(principal)) return true;
  if (!principal.org) return false;
  for (const id of devices) {
    const e = graph.get(id);
    if (!e) return false;
    const served = graph.orgsServedBy(e.index);
    if (served.length === 0 || served.some((o) => o !== principal.org)) return false;
  }
  return true;
}

export function powerRoutes(
  app: FastifyInstance,
  state: FactoryState,
  power: PowerService | undefined,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const need = (): PowerService => {
    if (!power) throw new ApiError(503, "not-running", "the power service is not running on this server");
    if (!power.current) throw new ApiError(503, "not-ready", "no factory has been applied yet");
    return power;
  };
  const graphOf = () => state.factory!.build.graph;
  const wrap = async <T>(fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PowerRequestError) throw new ApiError(err.status, err.code, err.message);
      if (err instanceof ProfileError) throw new ApiError(400, err.code, err.message);
      if (err instanceof PlacementError)
        throw new ApiError(PLACEMENT_ERROR_STATUS[err.code] ?? 400, err.code, err.message);
      throw err;
    }
  };

  r.get(
    "/v1/power/tree",
    {
      schema: {
        tags,
        summary: "The budget tree: limit, allocated caps, measured draw and headroom at every level",
        response: {
          200: Type.Object({
            atMs: Type.Integer(),
            targetWatts: Type.Union([Type.Number(), Type.Null()]),
            peakWatts: Type.Number(),
            levels: Type.Array(LevelSchema),
          }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      const tree = p.current!.tree;
      const graph = graphOf();
      const levels = p
        .levels()
        .map((l, k) => ({ l, devices: tree.budgets[k]?.devices ?? [] }))
        .filter(({ devices }) => levelVisible(graph, principal, devices))
        .map(({ l }) => ({
          ...l,
          drawWatts: l.drawWatts ?? null,
          headroomWatts: l.headroomWatts ?? null,
          utilization: l.drawWatts === undefined ? null : l.drawWatts / l.limitWatts,
          band: l.band ?? null,
        }));
      const admin = isProviderAdmin(principal);
      return {
        atMs: p.current!.lastDecision?.atMs ?? Date.now(),
        targetWatts: admin ? (p.target().watts ?? null) : null,
        peakWatts: admin ? tree.peakWatts : 0,
        levels,
      };
    },
  );

  r.get(
    "/v1/power/target",
    {
      schema: {
        tags,
        summary:
          "The facility target in force, what sets it, the schedule, events and the BMS (provider admin)",
        response: { 200: Type.Unknown(), ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      adminOnly(principalOf(request), "the facility target");
      return p.target();
    },
  );

  r.put(
    "/v1/power/target",
    {
      schema: {
        tags,
        summary: "Sets the operator's facility target (null clears it); refused whole if the work cannot fit",
        body: Type.Object({ target: Type.Union([Target, Type.Null()]) }, Strict),
        response: { 200: Type.Unknown(), ...authErrors, 409: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      adminOnly(principal, "the facility target");
      return wrap(() => p.setOperatorTarget(principal.name, request.body.target as TargetInput | null));
    },
  );

  r.put(
    "/v1/power/target/schedule",
    {
      schema: {
        tags,
        summary: "Replaces the target schedule: steps that each hold from `atMs` until the next",
        body: Type.Object(
          {
            steps: Type.Array(Type.Object({ atMs: Type.Integer({ minimum: 0 }), target: Target }, Strict), {
              maxItems: 1000,
            }),
          },
          Strict,
        ),
        response: { 200: Type.Unknown(), ...authErrors, 409: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      adminOnly(principal, "the target schedule");
      return wrap(() =>
        p.setSchedule(
          principal.name,
          request.body.steps.map((s) => ({ atMs: s.atMs, target: s.target as TargetInput })),
        ),
      );
    },
  );

  r.post(
    "/v1/power/target/events",
    {
      schema: {
        tags,
        summary: "Adds a demand-response event: a lower target for a window",
        body: Type.Object(
          {
            id: Type.String({ minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9._-]+$" }),
            startMs: Type.Integer({ minimum: 0 }),
            endMs: Type.Integer({ minimum: 0 }),
            target: Target,
            reason: Type.String({ maxLength: 500, default: "" }),
          },
          Strict,
        ),
        response: { 200: Type.Unknown(), ...authErrors, 409: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      adminOnly(principal, "a demand-response event");
      const b = request.body;
      return wrap(() =>
        p.addEvent(principal.name, {
          id: b.id,
          startMs: b.startMs,
          endMs: b.endMs,
          target: b.target as TargetInput,
          reason: b.reason ?? "",
        }),
      );
    },
  );

  r.delete(
    "/v1/power/target/events/:id",
    {
      schema: {
        tags,
        summary: "Cancels a demand-response event",
        params: Type.Object({ id: Type.String() }),
        response: { 200: Type.Unknown(), ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      adminOnly(principal, "a demand-response event");
      return wrap(() => p.cancelEvent(principal.name, request.params.id));
    },
  );

  r.get(
    "/v1/power/actions",
    {
      schema: {
        tags,
        summary: "The power log: safety-loop actions, reallocations and enforcement failures, newest last",
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })) }),
        response: {
          200: Type.Object({ actions: Type.Array(Type.Unknown()) }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      const graph = graphOf();
      const all = p.actions(request.query.limit ?? 200);
      const actions = isProviderAdmin(principal)
        ? all
        : all.filter((a) => {
            if (!a.gpu) return false;
            const g = graph.get(a.gpu);
            return g !== undefined && canSeeOrg(principal, graph.orgOf(g.index));
          });
      return { actions };
    },
  );

  r.get(
    "/v1/power/jobs",
    {
      schema: {
        tags,
        summary: "The running jobs the power service allocates for: caps, profiles, what stops them",
        response: {
          200: Type.Object({ jobs: Type.Array(Type.Unknown()) }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      const jobs = p
        .jobs()
        .filter((j) => isProviderAdmin(principal) || (j.org !== null && canSeeOrg(principal, j.org)));
      return { jobs };
    },
  );

  r.get(
    "/v1/power/gpus/:id",
    {
      schema: {
        tags,
        summary: "Why a GPU has its cap: the cap, what binds it, its marginal value, the policy behind it",
        params: Type.Object({
          id: Type.String({ description: "A GPU id, URL-encoded: `gpu%3ANODE%2F0` or `NODE%2F0`" }),
        }),
        response: { 200: Type.Unknown(), ...authErrors, 404: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      const raw = request.params.id;
      const id = raw.startsWith("gpu:") ? raw : `gpu:${raw}`;
      const g = graphOf().get(id);
      const explained = g && canSeeOrg(principal, graphOf().orgOf(g.index)) ? p.explainGpu(id) : undefined;
      if (!explained) throw new ApiError(404, "not-found", `no GPU ${id}`);
      return explained;
    },
  );

  r.put(
    "/v1/power/overrides",
    {
      schema: {
        tags,
        summary:
          "Replaces the operator's limits per power device (watts, or percent of its derated limit); refused whole if the work cannot fit",
        body: Type.Object(
          {
            overrides: Type.Record(
              Type.String(),
              Type.Union([
                Type.Object({ watts: Type.Number({ minimum: 0 }) }, Strict),
                Type.Object({ percent: Type.Number({ minimum: 0, maximum: 100 }) }, Strict),
              ]),
            ),
          },
          Strict,
        ),
        response: { 200: Type.Unknown(), ...authErrors, 409: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      adminOnly(principal, "a power device's limit");
      await wrap(() =>
        p.setOverrides(
          principal.name,
          request.body.overrides as Record<string, { watts: number } | { percent: number }>,
        ),
      );
      return { overrides: p.currentOverrides() };
    },
  );

  r.put(
    "/v1/power/policy",
    {
      schema: {
        tags,
        summary:
          "Replaces the profile policy: ordered rules (org, job glob, kind, priority → profile) and a default",
        body: Type.Object(
          {
            rules: Type.Array(
              Type.Object(
                {
                  name: Type.Optional(Type.String()),
                  match: Type.Object(
                    {
                      org: Type.Optional(Type.String()),
                      job: Type.Optional(Type.String()),
                      kind: Type.Optional(Type.Union([Type.Literal("training"), Type.Literal("inference")])),
                      priority: Type.Optional(
                        Type.Object(
                          { min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) },
                          Strict,
                        ),
                      ),
                    },
                    Strict,
                  ),
                  profile: Type.String(),
                },
                Strict,
              ),
              { maxItems: 200 },
            ),
            default: Type.String(),
            profiles: Type.Optional(
              Type.Array(
                Type.Object(
                  {
                    name: Type.String(),
                    gpuType: Type.String(),
                    kind: Type.Optional(Type.Union([Type.Literal("training"), Type.Literal("inference")])),
                    capWatts: Type.Optional(Type.Number()),
                    capFraction: Type.Optional(Type.Number()),
                    smClockMHz: Type.Optional(Type.Integer()),
                    memoryClockMHz: Type.Optional(Type.Integer()),
                    source: Type.Optional(Type.String({ maxLength: 500 })),
                  },
                  Strict,
                ),
                { maxItems: 200 },
              ),
            ),
          },
          Strict,
        ),
        response: { 200: Type.Unknown(), ...authErrors, 409: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      adminOnly(principal, "the profile policy");
      return wrap(async () => {
        const catalog = state.factory!.build.catalog.gpus;
        const profiles = (request.body.profiles ?? []).map((p) => defineProfile(p, catalog));
        const policy = definePolicy({
          rules: request.body.rules as ProfileRule[],
          default: request.body.default,
          profiles,
        });
        await p.setPolicy(principal.name, policy);
        return { rules: policy.rules, default: policy.default, profiles: policy.profiles };
      });
    },
  );

  const JobFields = {
    id: Type.String({ minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9._:-]+$" }),
    org: Type.String({ minLength: 1 }),
    gpus: Type.Integer({ minimum: 1 }),
    shape: Type.Optional(Type.Union(SHAPES.map((x) => Type.Literal(x)))),
    profile: Type.Optional(Type.String()),
    kind: Type.Optional(Type.Union([Type.Literal("training"), Type.Literal("inference")])),
    priority: Type.Optional(Type.Integer()),
  };
  /** A holding the principal may see and change; another org's is not found, as if it did not exist. */
  const ownHolding = (
    p: PowerService,
    principal: Principal,
    id: string,
    kind: "job" | "reservation",
    what: string,
  ) => {
    const held = p.holdings().find((h) => h.id === id && h.kind === kind);
    if (!held || !canSeeOrg(principal, held.org)) throw new ApiError(404, "not-found", `no ${what} ${id}`);
    mayPlace(principal, held.org);
    return held;
  };
  const mayPlace = (principal: Principal, org: string) => {
    if (!canAdministerOrg(principal, org))
      throw new ApiError(
        403,
        "forbidden",
        `placing work for org ${org} needs its org-admin or the provider admin`,
      );
  };

  r.post(
    "/v1/placements",
    {
      schema: {
        tags,
        summary:
          "Admission and placement: nodes in the org's racks that fit the shape and have power headroom on every level above them, or queued / rejected with the reason",
        querystring: Type.Object({ dryRun: Type.Optional(Type.Boolean()) }),
        body: Type.Object(
          {
            ...JobFields,
            startMs: Type.Optional(Type.Integer({ minimum: 0 })),
            durationSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          },
          Strict,
        ),
        response: { 200: Type.Unknown(), 201: Type.Unknown(), ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request, reply) => {
      const p = need();
      const principal = principalOf(request);
      mayPlace(principal, request.body.org);
      const b = request.body;
      const decision = await wrap(() =>
        p.place(
          principal.name,
          { ...b, ...(b.shape ? { shape: b.shape as Shape } : {}) },
          request.query.dryRun === true,
        ),
      );
      return reply
        .code(decision.status === "placed" && request.query.dryRun !== true ? 201 : 200)
        .send(decision);
    },
  );

  r.get(
    "/v1/placements",
    {
      schema: {
        tags,
        summary: "What holds nodes and power: running jobs, placements, assumed pods and reservations",
        response: {
          200: Type.Object({ holdings: Type.Array(Type.Unknown()) }),
          ...authErrors,
          503: Type.Ref("Problem"),
        },
      },
    },
    async (request) => {
      const p = need();
      const principal = principalOf(request);
      const holdings = (await wrap(() => p.holdings())).filter((h) => canSeeOrg(principal, h.org));
      return { holdings };
    },
  );

  r.delete(
    "/v1/placements/:id",
    {
      schema: {
        tags,
        summary: "Releases a placement's nodes and power",
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), ...authErrors, 404: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request, reply) => {
      const p = need();
      const principal = principalOf(request);
      ownHolding(p, principal, request.params.id, "job", "placement");
      if (!(await p.releasePlacement(principal.name, request.params.id)))
        throw new ApiError(404, "not-found", `${request.params.id} was not placed through the API`);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/v1/reservations",
    {
      schema: {
        tags,
        summary: "Holds nodes and power for a future window; new work is steered away from them",
        body: Type.Object(
          { ...JobFields, startMs: Type.Integer({ minimum: 0 }), endMs: Type.Integer({ minimum: 0 }) },
          Strict,
        ),
        response: { 200: Type.Unknown(), 201: Type.Unknown(), ...authErrors, 503: Type.Ref("Problem") },
      },
    },
    async (request, reply) => {
      const p = need();
      const principal = principalOf(request);
      mayPlace(principal, request.body.org);
      const b = request.body;
      const decision = await wrap(() =>
        p.reserve(principal.name, { ...b, ...(b.shape ? { shape: b.shape as Shape } : {}) }),
      );
      return reply.code(decision.status === "reserved" ? 201 : 200).send(decision);
    },
  );

  r.delete(
    "/v1/reservations/:id",
    {
      schema: {
        tags,
        summary: "Cancels a reservation",
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), ...authErrors, 404: Type.Ref("Problem"), 503: Type.Ref("Problem") },
      },
    },
    async (request, reply) => {
      const p = need();
      const principal = principalOf(request);
      ownHolding(p, principal, request.params.id, "reservation", "reservation");
      await p.cancelReservation(principal.name, request.params.id);
      return reply.code(204).send(null);
    },
  );

  // The Kubernetes scheduler-extender verbs. kube-scheduler sends no credentials to an extender
  // (its configuration has TLS settings only), so these answer without a token, like an extender
  // inside the cluster network; they only advise and hold nothing beyond a short-lived assumed pod.
  const extenderBody = { body: Type.Unknown(), response: { 200: Type.Unknown(), 503: Type.Ref("Problem") } };
  for (const verb of ["filter", "prioritize", "bind"] as const)
    r.post(
      `/extender/${verb}`,
      { schema: { tags, summary: `Scheduler extender: ${verb}`, security: [], ...extenderBody } },
      async (request) =>
        wrap(() => {
          const engine = need().extender();
          // The body is kube-scheduler's, in Go field names; the engine checks what it reads.
          const body = request.body as never;
          return verb === "filter"
            ? engine.filter(body)
            : verb === "prioritize"
              ? engine.prioritize(body)
              : engine.bind(body);
        }),
    );
}
