import type { Selectable } from "kysely";
import type { ApiTokensTable, AuditLogTable, OrgsTable, RevisionsTable, UsersTable } from "./schema.ts";
import type {
  AuditRecord,
  OrgRecord,
  RevisionRecord,
  RevisionSummary,
  Role,
  TokenRecord,
  UserRecord,
} from "./types.ts";

/** ISO text for a timestamp column; both dialects parse it the same way. */
export function encodeTime(date: Date): string {
  return date.toISOString();
}

/** A Date from either dialect's representation. */
export function decodeTime(value: Date | string): Date {
  return value instanceof Date ? new Date(value.getTime()) : new Date(value);
}

function decodeOptionalTime(value: Date | string | null): Date | null {
  return value === null ? null : decodeTime(value);
}

/** JSON text, or NULL for undefined (which JSON cannot hold). */
export function encodeJson(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value);
}

/** The parsed value; NULL reads as null. */
export function decodeJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export function toRevisionSummary(
  row: Pick<Selectable<RevisionsTable>, "id" | "created_at" | "source_name" | "sha256" | "summary" | "actor">,
): RevisionSummary {
  return {
    id: Number(row.id),
    createdAt: decodeTime(row.created_at),
    sourceName: row.source_name,
    sha256: row.sha256,
    summary: decodeJson(row.summary),
    actor: row.actor,
  };
}

export function toRevision(row: Selectable<RevisionsTable>): RevisionRecord {
  const { summary, ...rest } = toRevisionSummary(row);
  return { ...rest, source: row.source, summary, diff: decodeJson(row.diff) };
}

export function toOrg(row: Selectable<OrgsTable>): OrgRecord {
  return { name: row.name, displayName: row.display_name, createdAt: decodeTime(row.created_at) };
}

export function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: Number(row.id),
    name: row.name,
    org: row.org,
    // The table's check constraint keeps role within the union.
    role: row.role as Role,
    createdAt: decodeTime(row.created_at),
  };
}

/** Metadata only: the hash stays in the database. */
export function toToken(row: Omit<Selectable<ApiTokensTable>, "token_hash">): TokenRecord {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    name: row.name,
    createdAt: decodeTime(row.created_at),
    expiresAt: decodeOptionalTime(row.expires_at),
    lastUsedAt: decodeOptionalTime(row.last_used_at),
    revokedAt: decodeOptionalTime(row.revoked_at),
  };
}

export function toAudit(row: Selectable<AuditLogTable>): AuditRecord {
  return {
    id: Number(row.id),
    at: decodeTime(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    org: row.org,
    detail: decodeJson(row.detail),
  };
}
