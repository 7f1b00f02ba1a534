/** Orgs, users, API tokens and the audit log, each scoped to what the caller may see. */

import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Store, UserRecord } from "@flightdeck/store";
import {
  AccessError,
  canAdministerOrg,
  canSeeOrg,
  isProviderAdmin,
  type Principal,
  requireProviderAdmin,
} from "@flightdeck/tenancy";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../auth.ts";
import {
  AuditSchema,
  authErrors,
  OrgSchema,
  RoleSchema,
  Strict,
  TokenSchema,
  UserSchema,
} from "../schemas.ts";

const tags = ["tenancy"];
const hidden = (): AccessError => new AccessError(404, "no such resource");
const OrgName = Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,62}$" });

/** A user the principal may administer (self, their org's users for an org admin, all for a provider admin). */
async function administeredUser(store: Store, p: Principal, id: number): Promise<UserRecord> {
  const user = await store.getUser(id);
  if (!user || !(user.id === p.userId || canAdministerOrg(p, user.org))) throw hidden();
  return user;
}

export function tenancyRoutes(app: FastifyInstance, store: Store): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    "/v1/whoami",
    {
      schema: {
        tags,
        summary: "The user behind the token",
        response: {
          200: Type.Object({
            userId: Type.Integer(),
            name: Type.String(),
            role: RoleSchema,
            org: Type.Union([Type.String(), Type.Null()]),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { userId, name, role, org } = principalOf(request);
      return { userId, name, role, org };
    },
  );

  r.get(
    "/v1/orgs",
    {
      schema: {
        tags,
        summary: "Orgs you may see",
        response: { 200: Type.Object({ items: Type.Array(OrgSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { items: (await store.listOrgs()).filter((o) => canSeeOrg(p, o.name)) };
    },
  );

  r.post(
    "/v1/orgs",
    {
      schema: {
        tags,
        summary: "Create an org (provider admin)",
        body: Type.Object(
          { name: OrgName, displayName: Type.Optional(Type.String({ maxLength: 200 })) },
          Strict,
        ),
        response: { 201: OrgSchema, 409: Type.Ref("Problem"), ...authErrors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      requireProviderAdmin(p);
      const org = await store.createOrg({ ...request.body, actor: p.name });
      return reply.code(201).send(org);
    },
  );

  r.get(
    "/v1/orgs/:org",
    {
      schema: {
        tags,
        summary: "One org",
        params: Type.Object({ org: Type.String() }, Strict),
        response: { 200: OrgSchema, ...authErrors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const org = canSeeOrg(p, request.params.org) ? await store.getOrg(request.params.org) : undefined;
      if (!org) throw hidden();
      return org;
    },
  );

  r.get(
    "/v1/orgs/:org/users",
    {
      schema: {
        tags,
        summary: "Users of an org (provider admin, or that org's admin)",
        params: Type.Object({ org: Type.String() }, Strict),
        response: { 200: Type.Object({ items: Type.Array(UserSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (!canSeeOrg(p, request.params.org) || !(await store.getOrg(request.params.org))) throw hidden();
      if (!canAdministerOrg(p, request.params.org))
        throw new AccessError(403, "this needs the org-admin role");
      return { items: await store.listUsers({ org: request.params.org }) };
    },
  );

  r.post(
    "/v1/orgs/:org/users",
    {
      schema: {
        tags,
        summary: "Create a user in an org (provider admin, or that org's admin)",
        params: Type.Object({ org: Type.String() }, Strict),
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            role: Type.Union([Type.Literal("org-admin"), Type.Literal("org-viewer")]),
          },
          Strict,
        ),
        response: { 201: UserSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (!canSeeOrg(p, request.params.org) || !(await store.getOrg(request.params.org))) throw hidden();
      if (!canAdministerOrg(p, request.params.org))
        throw new AccessError(403, "this needs the org-admin role");
      const user = await store.createUser({ ...request.body, org: request.params.org, actor: p.name });
      return reply.code(201).send(user);
    },
  );

  r.post(
    "/v1/users",
    {
      schema: {
        tags,
        summary: "Create a provider admin (provider admin)",
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }), role: Type.Literal("provider-admin") },
          Strict,
        ),
        response: { 201: UserSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      requireProviderAdmin(p);
      return reply.code(201).send(await store.createUser({ ...request.body, org: null, actor: p.name }));
    },
  );

  r.get(
    "/v1/users/:id/tokens",
    {
      schema: {
        tags,
        summary: "A user's tokens (never the secrets)",
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }, Strict),
        response: { 200: Type.Object({ items: Type.Array(TokenSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const user = await administeredUser(store, principalOf(request), request.params.id);
      return { items: await store.listTokens({ userId: user.id }) };
    },
  );

  r.post(
    "/v1/users/:id/tokens",
    {
      schema: {
        tags,
        summary: "Create an API token for a user; the secret is shown once",
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }, Strict),
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          },
          Strict,
        ),
        response: { 201: Type.Object({ token: Type.String(), record: TokenSchema }), ...authErrors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const user = await administeredUser(store, p, request.params.id);
      const days = request.body.expiresInDays;
      const created = await store.createToken({
        userId: user.id,
        name: request.body.name,
        actor: p.name,
        ...(days ? { expiresAt: new Date(Date.now() + days * 86_400_000) } : {}),
      });
      return reply.code(201).send(created);
    },
  );

  r.delete(
    "/v1/tokens/:id",
    {
      schema: {
        tags,
        summary: "Revoke a token",
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }, Strict),
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const token = (await store.listTokens({})).find((t) => t.id === request.params.id);
      if (!token || token.revokedAt) throw hidden();
      await administeredUser(store, p, token.userId);
      await store.revokeToken(token.id, p.name);
      return reply.code(204).send(null);
    },
  );

  r.get(
    "/v1/audit",
    {
      schema: {
        tags,
        summary: "The audit trail, newest first (provider admin: all; org admin: their org)",
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
          },
          Strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(AuditSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (!isProviderAdmin(p) && p.role !== "org-admin")
        throw new AccessError(403, "this needs an admin role");
      const { limit = 100, beforeId } = request.query;
      const items = await store.listAudit({
        limit,
        ...(beforeId ? { beforeId } : {}),
        ...(isProviderAdmin(p) ? {} : { org: p.org! }),
      });
      return { items };
    },
  );
}
