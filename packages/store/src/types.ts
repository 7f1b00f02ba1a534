/** How to reach the database. */
export interface StoreOptions {
  /** A `postgres://` or `postgresql://` URL; wins over `dataDir`. */
  url?: string;
  /** Folder for the SQLite file `flightdeck.db` (created if missing); `":memory:"` keeps it in memory. */
  dataDir?: string;
}

/** What a user may do: provider admins run the data center, org users see their own org. */
export type Role = "provider-admin" | "org-admin" | "org-viewer";

/** Every role, for validation. */
export const ROLES: readonly Role[] = ["provider-admin", "org-admin", "org-viewer"];

/** One applied factory description. */
export interface RevisionRecord {
  id: number;
  createdAt: Date;
  sourceName: string;
  sha256: string;
  /** The description's text as applied. */
  source: string;
  summary: unknown;
  diff: unknown;
  actor: string;
}

/** A revision without its (possibly large) source and diff, for listings. */
export type RevisionSummary = Omit<RevisionRecord, "source" | "diff">;

/** A tenant organization. */
export interface OrgRecord {
  name: string;
  /** Defaults to the name when none was given. */
  displayName: string;
  createdAt: Date;
}

/** A person or service account; `org` is null for provider admins. */
export interface UserRecord {
  id: number;
  name: string;
  org: string | null;
  role: Role;
  createdAt: Date;
}

/** An API token's metadata; the token itself is never stored. */
export interface TokenRecord {
  id: number;
  userId: number;
  name: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** One entry of the append-only audit log. */
export interface AuditRecord {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  /** The org the entry concerns, so org users can read their own history; null for provider-wide events. */
  org: string | null;
  detail: unknown;
}

/** Input of {@link Store.appendRevision}. */
export interface AppendRevisionInput {
  source: string;
  sourceName: string;
  sha256: string;
  summary: unknown;
  diff: unknown;
  actor: string;
  /** Orgs the description names; missing ones are created, none are deleted. */
  orgs: string[];
}

/** Input of {@link Store.appendAudit}. */
export interface AuditInput {
  actor: string;
  action: string;
  target: string;
  org: string | null;
  detail?: unknown;
}

/** Persistence for Flightdeck. Every mutating method writes its change and its audit entry atomically. */
export interface Store {
  readonly dialect: "sqlite" | "postgres";
  close(): Promise<void>;

  /** Stores a new revision (id = previous max + 1), upserts its orgs and audits `factory.apply`. */
  appendRevision(input: AppendRevisionInput): Promise<RevisionRecord>;
  latestRevision(): Promise<RevisionRecord | undefined>;
  getRevision(id: number): Promise<RevisionRecord | undefined>;
  /** Newest first; `limit` defaults to 100. */
  listRevisions(opts?: { limit?: number }): Promise<RevisionSummary[]>;

  /** Creates an org; throws `conflict` if the name is taken. */
  createOrg(input: { name: string; displayName?: string; actor: string }): Promise<OrgRecord>;
  /** All orgs by name. */
  listOrgs(): Promise<OrgRecord[]>;
  getOrg(name: string): Promise<OrgRecord | undefined>;

  /** Creates a user; `not_found` for an unknown org, `invalid` for a role that does not fit the org. */
  createUser(input: { name: string; org: string | null; role: Role; actor: string }): Promise<UserRecord>;
  getUser(id: number): Promise<UserRecord | undefined>;
  /** Users by id, optionally of one org. */
  listUsers(opts?: { org?: string }): Promise<UserRecord[]>;

  /** Issues a token (`fd_` + 32 random bytes, base64url); only its SHA-256 is kept. */
  createToken(input: {
    userId: number;
    name: string;
    actor: string;
    expiresAt?: Date;
  }): Promise<{ token: string; record: TokenRecord }>;
  /** The token's user, or undefined for unknown, revoked or expired tokens. */
  authenticate(token: string): Promise<{ user: UserRecord; token: TokenRecord } | undefined>;
  /** False when the token does not exist or was already revoked. */
  revokeToken(id: number, actor: string): Promise<boolean>;
  /** Token metadata by id, optionally of one user or one org's users. */
  listTokens(opts?: { userId?: number; org?: string }): Promise<TokenRecord[]>;

  appendAudit(entry: AuditInput): Promise<AuditRecord>;
  /** Newest first; `limit` defaults to 100; `beforeId` pages to older entries; `org` keeps that org's entries. */
  listAudit(opts?: { org?: string; limit?: number; beforeId?: number }): Promise<AuditRecord[]>;

  /** Stores one-minute KPI rollups; a row for a (grouping, key, minute) already stored is replaced. */
  putKpiRollups(rows: readonly KpiRollup[]): Promise<void>;
  /** Rollups of one grouping in [startMs, endMs), oldest first; only `orgs` when given. */
  listKpiRollups(opts: {
    grouping: string;
    key?: string;
    startMs: number;
    endMs: number;
    orgs?: readonly string[];
    limit?: number;
  }): Promise<KpiRollup[]>;
}

/** One minute of one KPI group. */
export interface KpiRollup {
  minuteMs: number;
  grouping: string;
  key: string;
  org: string | null;
  gpus: number;
  promptTokens: number;
  generatedTokens: number;
  trainingTokens: number;
  energyJoules: number;
  gpuSeconds: number;
  usableGpuSeconds: number;
  pduEnergyJoules: number | null;
}
