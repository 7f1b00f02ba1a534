import { mkdirSync } from "node:fs";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Database, Dialect } from "./schema.ts";
import type { StoreOptions } from "./types.ts";

/** Name of the SQLite file inside the data folder. */
export const SQLITE_FILE_NAME = "flightdeck.db";

/** How long SQLite waits for another process's lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** An open connection (pool) and the dialect it speaks. */
export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
}

/** True for URLs that name a PostgreSQL server. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function openSqlite(dataDir: string): Connection {
  const inMemory = dataDir === ":memory:";
  let file = ":memory:";
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    file = join(dataDir, SQLITE_FILE_NAME);
  }
  const database = new SqliteDatabase(file);
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma("foreign_keys = ON");
  // WAL lets readers (e.g. a second CLI process) work while the server writes.
  if (!inMemory) database.pragma("journal_mode = WAL");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), dialect: "sqlite" };
}

function openPostgres(url: string): Connection {
  const pool = new pg.Pool({ connectionString: url });
  // An idle pooled connection that drops (server restart) would otherwise crash the process
  // as an unhandled 'error' event; the pool discards it and the next query reconnects.
  pool.on("error", () => {});
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: "postgres" };
}

/** Opens the database the options name, without migrating it. */
export function connect(opts: StoreOptions): Connection {
  if (opts.url !== undefined && opts.url !== "") {
    if (!isPostgresUrl(opts.url)) {
      // Only the scheme: the rest of a URL may hold a password.
      const scheme = opts.url.split(":", 1)[0];
      throw new Error(`unsupported database URL scheme "${scheme}:" (expected postgres:// or postgresql://)`);
    }
    return openPostgres(opts.url);
  }
  if (opts.dataDir === undefined || opts.dataDir === "") {
    throw new Error("a database URL or a data folder is required");
  }
  return openSqlite(opts.dataDir);
}
