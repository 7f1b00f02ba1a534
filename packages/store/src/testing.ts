import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { StoreOptions } from "./types.ts";

/** A throwaway database for one test suite: pass it to `openStore`, then call `cleanup`. */
export interface TestDatabase extends StoreOptions {
  /** "sqlite" or "postgres", for naming the suite. */
  name: string;
  /** Removes the database; safe to call more than once. Close stores on it first. */
  cleanup(): Promise<void>;
}

/** Server the PostgreSQL suite creates its databases on. */
export function testPostgresAdminUrl(): string {
  return process.env.FLIGHTDECK_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

/** How long to wait for the PostgreSQL server before declaring it unreachable. */
const PG_CONNECT_TIMEOUT_MS = 5000;

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

async function withAdminClient<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: adminUrl,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function sqliteTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "flightdeck-store-"));
  return { name: "sqlite", dataDir, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

async function postgresTestDatabase(): Promise<TestDatabase> {
  const adminUrl = testPostgresAdminUrl();
  const dbName = `fd_test_${randomBytes(6).toString("hex")}`;
  try {
    await withAdminClient(adminUrl, (client) =>
      client.query(`create database ${pg.escapeIdentifier(dbName)}`),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL is required for these tests but could not be used at ${redact(adminUrl)}: ${reason}. ` +
        "Start PostgreSQL or point FLIGHTDECK_TEST_PG_URL at a server where a database can be created.",
      { cause: error },
    );
  }
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  let dropped = false;
  return {
    name: "postgres",
    url: url.toString(),
    async cleanup() {
      if (dropped) return;
      // FORCE ends connections a failed test may have left open.
      await withAdminClient(adminUrl, (client) =>
        client.query(`drop database if exists ${pg.escapeIdentifier(dbName)} with (force)`),
      );
      dropped = true;
    },
  };
}

/**
 * One fresh database per dialect: SQLite in a new temp folder and PostgreSQL as a new
 * `fd_test_<hex>` database. Throws (so tests fail, not skip) when PostgreSQL is unreachable.
 */
export async function withTestDatabases(): Promise<TestDatabase[]> {
  const sqlite = await sqliteTestDatabase();
  try {
    return [sqlite, await postgresTestDatabase()];
  } catch (error) {
    await sqlite.cleanup();
    throw error;
  }
}
