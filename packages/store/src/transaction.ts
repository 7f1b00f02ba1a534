import { sql } from "kysely";
import type { Db, Dialect } from "./schema.ts";

/**
 * Runs `work` in one transaction: all of its writes commit together or none do.
 * SQLite takes the write lock up front (BEGIN IMMEDIATE) so a transaction that reads then
 * writes waits on the busy timeout instead of failing when another process wrote meanwhile.
 * `work` must use the handle it is given, never the outer connection.
 */
export async function transact<T>(db: Db, dialect: Dialect, work: (trx: Db) => Promise<T>): Promise<T> {
  if (dialect === "postgres") return db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    let result: T;
    try {
      result = await work(conn);
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
    await sql`commit`.execute(conn);
    return result;
  });
}
