import { sql } from "kysely";
import { insertAudit } from "./audit.ts";
import { StoreError } from "./errors.ts";
import { upsertOrgs } from "./orgs.ts";
import { encodeJson, encodeTime, toRevision, toRevisionSummary } from "./rows.ts";
import type { Db, Dialect } from "./schema.ts";
import { transact } from "./transaction.ts";
import type { AppendRevisionInput, RevisionRecord, RevisionSummary } from "./types.ts";
import { pageLimit, requireText } from "./validate.ts";

/** Stores the next revision, creates its missing orgs and audits the apply, all at once. */
export async function appendRevision(
  db: Db,
  dialect: Dialect,
  input: AppendRevisionInput,
): Promise<RevisionRecord> {
  if (typeof input.source !== "string") throw new StoreError("invalid", "source must be a string");
  if (!Array.isArray(input.orgs)) throw new StoreError("invalid", "orgs must be an array of org names");
  const sourceName = requireText(input.sourceName, "sourceName");
  const sha256 = requireText(input.sha256, "sha256");
  return transact(db, dialect, async (trx) => {
    // Ids are max + 1, so concurrent appliers must take turns; reads stay unblocked.
    if (dialect === "postgres") await sql`lock table revisions in share row exclusive mode`.execute(trx);
    const { maxId } = await trx
      .selectFrom("revisions")
      .select((eb) => eb.fn.max("id").as("maxId"))
      .executeTakeFirstOrThrow();
    const id = Number(maxId ?? 0) + 1;
    const now = new Date();
    const row = await trx
      .insertInto("revisions")
      .values({
        id,
        created_at: encodeTime(now),
        source_name: sourceName,
        sha256,
        source: input.source,
        summary: encodeJson(input.summary),
        diff: encodeJson(input.diff),
        actor: requireText(input.actor, "actor"),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await upsertOrgs(trx, input.orgs, now);
    await insertAudit(
      trx,
      {
        actor: input.actor,
        action: "factory.apply",
        target: `revision:${id}`,
        org: null,
        detail: { sha256, summary: input.summary },
      },
      now,
    );
    return toRevision(row);
  });
}

export async function getRevision(db: Db, id: number): Promise<RevisionRecord | undefined> {
  const row = await db.selectFrom("revisions").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toRevision(row);
}

export async function latestRevision(db: Db): Promise<RevisionRecord | undefined> {
  const row = await db.selectFrom("revisions").selectAll().orderBy("id", "desc").limit(1).executeTakeFirst();
  return row === undefined ? undefined : toRevision(row);
}

/** Newest first, leaving out source and diff, which can be large. */
export async function listRevisions(db: Db, opts: { limit?: number } = {}): Promise<RevisionSummary[]> {
  const rows = await db
    .selectFrom("revisions")
    .select(["id", "created_at", "source_name", "sha256", "summary", "actor"])
    .orderBy("id", "desc")
    .limit(pageLimit(opts.limit))
    .execute();
  return rows.map(toRevisionSummary);
}
