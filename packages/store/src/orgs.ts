import { insertAudit } from "./audit.ts";
import { StoreError } from "./errors.ts";
import { encodeTime, toOrg } from "./rows.ts";
import type { Db, Dialect } from "./schema.ts";
import { transact } from "./transaction.ts";
import type { OrgRecord } from "./types.ts";
import { requireText } from "./validate.ts";

/** Creates the named orgs that do not exist yet; existing ones are left untouched. */
export async function upsertOrgs(db: Db, names: readonly string[], now: Date): Promise<void> {
  const unique = [...new Set(names.map((name) => requireText(name, "org name")))];
  if (unique.length === 0) return;
  const createdAt = encodeTime(now);
  await db
    .insertInto("orgs")
    .values(unique.map((name) => ({ name, display_name: name, created_at: createdAt })))
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
}

/** Creates one org and audits it; `conflict` if the name is taken. */
export async function createOrg(
  db: Db,
  dialect: Dialect,
  input: { name: string; displayName?: string; actor: string },
): Promise<OrgRecord> {
  const name = requireText(input.name, "org name");
  const displayName = input.displayName === undefined ? name : requireText(input.displayName, "displayName");
  return transact(db, dialect, async (trx) => {
    const now = new Date();
    const row = await trx
      .insertInto("orgs")
      .values({ name, display_name: displayName, created_at: encodeTime(now) })
      .onConflict((oc) => oc.column("name").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw new StoreError("conflict", `org "${name}" already exists`);
    await insertAudit(
      trx,
      { actor: input.actor, action: "org.create", target: `org:${name}`, org: name, detail: { displayName } },
      now,
    );
    return toOrg(row);
  });
}

export async function getOrg(db: Db, name: string): Promise<OrgRecord | undefined> {
  const row = await db.selectFrom("orgs").selectAll().where("name", "=", name).executeTakeFirst();
  return row === undefined ? undefined : toOrg(row);
}

export async function listOrgs(db: Db): Promise<OrgRecord[]> {
  const rows = await db.selectFrom("orgs").selectAll().orderBy("name").execute();
  return rows.map(toOrg);
}
