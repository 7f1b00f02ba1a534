import { encodeJson, encodeTime, toAudit } from "./rows.ts";
import type { Db } from "./schema.ts";
import type { AuditInput, AuditRecord } from "./types.ts";
import { pageLimit, requireId, requireText } from "./validate.ts";

/** Appends one entry; callers pass their transaction so the entry commits with the change it records. */
export async function insertAudit(db: Db, entry: AuditInput, at: Date = new Date()): Promise<AuditRecord> {
  const row = await db
    .insertInto("audit_log")
    .values({
      at: encodeTime(at),
      actor: requireText(entry.actor, "actor"),
      action: requireText(entry.action, "action"),
      target: requireText(entry.target, "target"),
      org: entry.org,
      detail: encodeJson(entry.detail),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAudit(row);
}

/** Entries newest first, optionally of one org and older than `beforeId`. */
export async function listAudit(
  db: Db,
  opts: { org?: string; limit?: number; beforeId?: number } = {},
): Promise<AuditRecord[]> {
  let query = db.selectFrom("audit_log").selectAll().orderBy("id", "desc").limit(pageLimit(opts.limit));
  if (opts.org !== undefined) query = query.where("org", "=", opts.org);
  if (opts.beforeId !== undefined) query = query.where("id", "<", requireId(opts.beforeId, "beforeId"));
  const rows = await query.execute();
  return rows.map(toAudit);
}
