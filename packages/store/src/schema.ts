import type { ColumnType, Kysely } from "kysely";

/** Written as ISO text; read back as text (SQLite) or Date (PostgreSQL timestamptz). */
export type Timestamp = ColumnType<Date | string, string, string>;

/** JSON kept as text in both dialects so values come back byte-identical (jsonb would reorder keys). */
export type JsonText = string | null;

/** Ids may be bigint in PostgreSQL, which the driver returns as strings; mappers convert. */
export type Id = ColumnType<number | string, number | undefined, number>;

export interface RevisionsTable {
  id: ColumnType<number | string, number, number>;
  created_at: Timestamp;
  source_name: string;
  sha256: string;
  source: string;
  summary: JsonText;
  diff: JsonText;
  actor: string;
}

export interface OrgsTable {
  name: string;
  display_name: string;
  created_at: Timestamp;
}

export interface UsersTable {
  id: Id;
  name: string;
  org: string | null;
  role: string;
  created_at: Timestamp;
}

export interface ApiTokensTable {
  id: Id;
  user_id: number;
  name: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Id;
  at: Timestamp;
  actor: string;
  action: string;
  target: string;
  org: string | null;
  detail: JsonText;
}

/** One minute of one KPI group (a rack, org or job): what the live window held, kept for longer. */
export interface KpiRollupsTable {
  /** Start of the minute, ms since the epoch. */
  minute_ms: number;
  grouping: string;
  key: string;
  /** The org the group belongs to (null for shared or mixed groups). */
  org: string | null;
  gpus: number;
  prompt_tokens: number;
  generated_tokens: number;
  training_tokens: number;
  energy_joules: number;
  gpu_seconds: number;
  usable_gpu_seconds: number;
  pdu_energy_joules: number | null;
}

/** The tables as Kysely sees them (snake_case, as stored). */
export interface Database {
  kpi_rollups: KpiRollupsTable;
  revisions: RevisionsTable;
  orgs: OrgsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}

/** Which SQL flavour a connection speaks. */
export type Dialect = "sqlite" | "postgres";

/** A connection or an open transaction; the helpers accept either. */
export type Db = Kysely<Database>;
