import { insertAudit } from "./audit.ts";
import { StoreError } from "./errors.ts";
import { encodeTime, toUser } from "./rows.ts";
import type { Db, Dialect } from "./schema.ts";
import { transact } from "./transaction.ts";
import { ROLES, type Role, type UserRecord } from "./types.ts";
import { requireText } from "./validate.ts";

/** Throws `invalid` unless the role exists and fits the org: provider admins have none, org roles need one. */
function checkRole(role: unknown, org: string | null): Role {
  if (!ROLES.includes(role as Role)) {
    throw new StoreError("invalid", `unknown role "${String(role)}" (expected one of ${ROLES.join(", ")})`);
  }
  if (role === "provider-admin" && org !== null) {
    throw new StoreError("invalid", "a provider-admin belongs to no org");
  }
  if (role !== "provider-admin" && org === null) {
    throw new StoreError("invalid", `a ${String(role)} must belong to an org`);
  }
  return role as Role;
}

/** Creates a user and audits it under the user's org. */
export async function createUser(
  db: Db,
  dialect: Dialect,
  input: { name: string; org: string | null; role: Role; actor: string },
): Promise<UserRecord> {
  const name = requireText(input.name, "user name");
  const org = input.org ?? null;
  const role = checkRole(input.role, org);
  return transact(db, dialect, async (trx) => {
    if (org !== null) {
      const found = await trx.selectFrom("orgs").select("name").where("name", "=", org).executeTakeFirst();
      if (found === undefined) throw new StoreError("not_found", `org "${org}" does not exist`);
    }
    const now = new Date();
    const row = await trx
      .insertInto("users")
      .values({ name, org, role, created_at: encodeTime(now) })
      .returningAll()
      .executeTakeFirstOrThrow();
    const user = toUser(row);
    await insertAudit(
      trx,
      { actor: input.actor, action: "user.create", target: `user:${user.id}`, org, detail: { name, role } },
      now,
    );
    return user;
  });
}

export async function getUser(db: Db, id: number): Promise<UserRecord | undefined> {
  const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toUser(row);
}

/** Users by id, optionally of one org. */
export async function listUsers(db: Db, opts: { org?: string } = {}): Promise<UserRecord[]> {
  let query = db.selectFrom("users").selectAll().orderBy("id");
  if (opts.org !== undefined) query = query.where("org", "=", opts.org);
  const rows = await query.execute();
  return rows.map(toUser);
}
