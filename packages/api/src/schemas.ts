/** Request and response schemas: they validate requests and generate the OpenAPI document. */
import { Type } from "typebox";

const Nullable = <
  T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number> | ReturnType<typeof Type.Integer>,
>(
  t: T,
) => Type.Union([t, Type.Null()]);

/** A time: a Date in code, an RFC 3339 string on the wire. */
const DateTime = Type.Unsafe<Date>({ type: "string", format: "date-time" });

/** Objects reject unknown fields: a typo is an error, not a silently ignored option. */
export const Strict = { additionalProperties: false } as const;

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    problems: Type.Optional(Type.Array(Type.Unknown())),
  },
  { $id: "Problem", description: "RFC 9457 problem details" },
);

export const FactoryProblem = Type.Object({
  severity: Type.Union([Type.Literal("error"), Type.Literal("warning")]),
  message: Type.String(),
  line: Type.Optional(Type.Integer()),
  col: Type.Optional(Type.Integer()),
  path: Type.Optional(Type.String()),
});

export const EntitySchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    name: Type.String(),
    type: Nullable(Type.String()),
    parent: Nullable(Type.String()),
    org: Nullable(Type.String()),
    side: Nullable(Type.String()),
    ratingWatts: Nullable(Type.Number()),
    limitWatts: Nullable(Type.Number()),
    fabric: Nullable(Type.String()),
    tier: Nullable(Type.String()),
    ordinal: Nullable(Type.Integer()),
  },
  { $id: "Entity" },
);

export const EntityPage = Type.Object({
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
  items: Type.Array(Type.Ref("Entity")),
});

export const Paging = {
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
};

export const SourceBody = Type.Object(
  {
    source: Type.String({ minLength: 1, description: "The factory description, YAML text." }),
    sourceName: Type.Optional(Type.String({ maxLength: 255, description: "File name, for the record." })),
  },
  Strict,
);

export const RevisionSummarySchema = Type.Object({
  id: Type.Integer(),
  createdAt: DateTime,
  sourceName: Type.String(),
  sha256: Type.String(),
  actor: Type.String(),
  summary: Type.Unknown(),
});

export const DiffSchema = Type.Unknown({ description: "Entities added, removed and changed, by stable id." });

export const OrgSchema = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  createdAt: DateTime,
});

export const RoleSchema = Type.Union([
  Type.Literal("provider-admin"),
  Type.Literal("org-admin"),
  Type.Literal("org-viewer"),
]);

export const UserSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  org: Nullable(Type.String()),
  role: RoleSchema,
  createdAt: DateTime,
});

export const TokenSchema = Type.Object({
  id: Type.Integer(),
  userId: Type.Integer(),
  name: Type.String(),
  createdAt: DateTime,
  expiresAt: Type.Union([DateTime, Type.Null()]),
  lastUsedAt: Type.Union([DateTime, Type.Null()]),
  revokedAt: Type.Union([DateTime, Type.Null()]),
});

export const AuditSchema = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  org: Nullable(Type.String()),
  detail: Type.Unknown(),
});

/** Error responses every authenticated route may give. */
export const authErrors = {
  400: Type.Ref("Problem"),
  401: Type.Ref("Problem"),
  403: Type.Ref("Problem"),
  404: Type.Ref("Problem"),
};

export const IdParam = Type.Object({ id: Type.String({ minLength: 1 }) }, Strict);
