/** Factory revisions: validate, diff and apply a description; list and read revisions. */

import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Store } from "@flightdeck/store";
import { requireProviderAdmin } from "@flightdeck/tenancy";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../auth.ts";
import { ApiError } from "../problems.ts";
import {
  authErrors,
  DiffSchema,
  FactoryProblem,
  RevisionSummarySchema,
  SourceBody,
  Strict,
} from "../schemas.ts";
import { problemJson } from "../serialize.ts";
import type { FactoryState } from "../state.ts";

const tags = ["factory"];

export function factoryRoutes(app: FastifyInstance, state: FactoryState, store: Store): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    "/v1/factory/validate",
    {
      schema: {
        tags,
        summary: "Validate a factory description without applying it",
        body: SourceBody,
        response: {
          200: Type.Object({ ok: Type.Boolean(), problems: Type.Array(FactoryProblem) }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      principalOf(request);
      const result = state.check(request.body.source);
      return { ok: result.ok, problems: result.problems.map(problemJson) };
    },
  );

  r.post(
    "/v1/factory/diff",
    {
      schema: {
        tags,
        summary: "What applying a description would change against the current revision",
        body: SourceBody,
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            problems: Type.Array(FactoryProblem),
            diff: Type.Optional(DiffSchema),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      requireProviderAdmin(principalOf(request));
      const result = state.check(request.body.source);
      return {
        ok: result.ok,
        problems: result.problems.map(problemJson),
        ...(result.diff ? { diff: result.diff } : {}),
      };
    },
  );

  r.post(
    "/v1/factory/revisions",
    {
      schema: {
        tags,
        summary: "Apply a factory description as a new revision",
        description:
          "The description is validated whole; with any error nothing is stored, the current revision stays, " +
          "and the answer is 422 with every problem. The same text as the current revision creates nothing (200).",
        body: SourceBody,
        response: {
          200: Type.Object({ unchanged: Type.Literal(true), problems: Type.Array(FactoryProblem) }),
          201: Type.Object({
            revision: RevisionSummarySchema,
            diff: DiffSchema,
            problems: Type.Array(FactoryProblem),
          }),
          422: Type.Ref("Problem"),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireProviderAdmin(principal);
      const outcome = await state.apply(
        request.body.source,
        request.body.sourceName ?? "api",
        principal.name,
      );
      if (!outcome.ok) {
        const problems = outcome.problems.map(problemJson);
        const errors = problems.filter((p) => p.severity === "error").length;
        throw new ApiError(
          422,
          "invalid-factory",
          `the description has ${errors} error(s); nothing was applied`,
          {
            problems,
          },
        );
      }
      const problems = outcome.problems.map(problemJson);
      if (outcome.unchanged || !outcome.revision)
        return reply.code(200).send({ unchanged: true as const, problems });
      return reply.code(201).send({ revision: outcome.revision, diff: outcome.diff, problems });
    },
  );

  r.get(
    "/v1/factory/revisions",
    {
      schema: {
        tags,
        summary: "List revisions, newest first",
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) },
          Strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(RevisionSummarySchema) }), ...authErrors },
      },
    },
    async (request) => {
      requireProviderAdmin(principalOf(request));
      return { items: await store.listRevisions({ limit: request.query.limit ?? 50 }) };
    },
  );

  r.get(
    "/v1/factory/revisions/:id",
    {
      schema: {
        tags,
        summary: "One revision with its diff against the one before (and its source on request)",
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }, Strict),
        querystring: Type.Object({ source: Type.Optional(Type.Boolean({ default: false })) }, Strict),
        response: {
          200: Type.Object({
            revision: RevisionSummarySchema,
            diff: DiffSchema,
            source: Type.Optional(Type.String()),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      requireProviderAdmin(principalOf(request));
      const record = await store.getRevision(request.params.id);
      if (!record) throw new ApiError(404, "not-found", `no revision ${request.params.id}`);
      const { source, diff, ...revision } = record;
      return { revision, diff, ...(request.query.source ? { source } : {}) };
    },
  );

  r.get(
    "/v1/factory/summary",
    {
      schema: {
        tags,
        summary: "Totals of the current factory: counts by kind, GPUs by type, power, orgs, fabrics",
        response: { 200: Type.Object({ revision: Type.Integer(), summary: Type.Unknown() }), ...authErrors },
      },
    },
    async (request) => {
      requireProviderAdmin(principalOf(request));
      const current = state.factory;
      if (!current) throw new ApiError(404, "not-found", "no factory has been applied yet");
      return { revision: current.revision, summary: current.build.summary };
    },
  );
}
