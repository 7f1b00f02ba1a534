import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";
import type { Dialect } from "./schema.ts";

/** Migrations see the database untyped: they must keep working as the schema types move on. */
type AnyDb = Kysely<unknown>;

/** Column types and DDL that differ between dialects; everything else is shared. */
function flavour(dialect: Dialect) {
  const pg = dialect === "postgres";
  return {
    time: pg ? "timestamptz" : "text",
    /** An auto-assigned key; SQLite's AUTOINCREMENT never reuses ids of deleted rows. */
    identity<T extends string>(
      table: CreateTableBuilder<T, never>,
      wide = false,
    ): CreateTableBuilder<T, "id"> {
      return pg
        ? table.addColumn("id", wide ? "bigint" : "integer", (c) =>
            c.primaryKey().generatedByDefaultAsIdentity(),
          )
        : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
    },
  } as const;
}

/** Raises on any UPDATE or DELETE of the audit log, so even direct SQL cannot rewrite history. */
async function auditAppendOnly(db: AnyDb, dialect: Dialect): Promise<void> {
  if (dialect === "postgres") {
    await sql`create function audit_log_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_log is append-only'; end $$`.execute(db);
    await sql`create trigger audit_log_no_change before update or delete on audit_log
      for each row execute function audit_log_append_only()`.execute(db);
    await sql`create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_append_only()`.execute(db);
    return;
  }
  await sql`create trigger audit_log_no_update before update on audit_log
    begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
  await sql`create trigger audit_log_no_delete before delete on audit_log
    begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
}

function initial(dialect: Dialect): Migration {
  const f = flavour(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable("revisions")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("created_at", f.time, (c) => c.notNull())
        .addColumn("source_name", "text", (c) => c.notNull())
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("summary", "text")
        .addColumn("diff", "text")
        .addColumn("actor", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("orgs")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("display_name", "text", (c) => c.notNull())
        .addColumn("created_at", f.time, (c) => c.notNull())
        .execute();

      await f
        .identity(db.schema.createTable("users"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("org", "text", (c) => c.references("orgs.name"))
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("created_at", f.time, (c) => c.notNull())
        .addCheckConstraint("users_role", sql`role in ('provider-admin', 'org-admin', 'org-viewer')`)
        // Provider admins stand outside every org; org roles need one.
        .addCheckConstraint("users_role_org", sql`(role = 'provider-admin') = (org is null)`)
        .execute();
      await db.schema.createIndex("users_org").on("users").column("org").execute();

      await f
        .identity(db.schema.createTable("api_tokens"))
        .addColumn("user_id", "integer", (c) => c.notNull().references("users.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", f.time, (c) => c.notNull())
        .addColumn("expires_at", f.time)
        .addColumn("last_used_at", f.time)
        .addColumn("revoked_at", f.time)
        .execute();
      await db.schema.createIndex("api_tokens_user").on("api_tokens").column("user_id").execute();

      await f
        .identity(db.schema.createTable("audit_log"), true)
        .addColumn("at", f.time, (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("target", "text", (c) => c.notNull())
        .addColumn("org", "text")
        .addColumn("detail", "text")
        .execute();
      await db.schema.createIndex("audit_log_org").on("audit_log").columns(["org", "id"]).execute();
      await auditAppendOnly(db, dialect);
    },

    async down(db: AnyDb) {
      for (const table of ["audit_log", "api_tokens", "users", "orgs", "revisions"]) {
        await db.schema.dropTable(table).execute();
      }
      if (dialect === "postgres") await sql`drop function audit_log_append_only()`.execute(db);
    },
  };
}

/** One-minute KPI rollups per group, written by the telemetry, read for history beyond the live window. */
function kpiRollups(dialect: Dialect): Migration {
  const big = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable("kpi_rollups")
        .addColumn("minute_ms", big, (c) => c.notNull())
        .addColumn("grouping", "text", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("org", "text")
        .addColumn("gpus", "integer", (c) => c.notNull())
        .addColumn("prompt_tokens", "double precision", (c) => c.notNull())
        .addColumn("generated_tokens", "double precision", (c) => c.notNull())
        .addColumn("training_tokens", "double precision", (c) => c.notNull())
        .addColumn("energy_joules", "double precision", (c) => c.notNull())
        .addColumn("gpu_seconds", "double precision", (c) => c.notNull())
        .addColumn("usable_gpu_seconds", "double precision", (c) => c.notNull())
        .addColumn("pdu_energy_joules", "double precision")
        .addPrimaryKeyConstraint("kpi_rollups_pk", ["grouping", "key", "minute_ms"])
        .execute();
      await db.schema.createIndex("kpi_rollups_minute").on("kpi_rollups").columns(["minute_ms"]).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable("kpi_rollups").execute();
    },
  };
}

/** The schema's history, in order; never edit a migration once released, add a new one. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return { "0001_initial": initial(dialect), "0002_kpi_rollups": kpiRollups(dialect) };
    },
  };
}

/** Brings the database up to the latest schema; a no-op when it already is. */
export async function migrateToLatest<T>(db: Kysely<T>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new Error(`database migration failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
