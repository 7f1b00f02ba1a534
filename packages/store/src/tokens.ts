import type { Selectable } from "kysely";
import { insertAudit } from "./audit.ts";
import { StoreError } from "./errors.ts";
import { decodeTime, encodeTime, toToken, toUser } from "./rows.ts";
import type { ApiTokensTable, Db, Dialect } from "./schema.ts";
import { generateToken, hashToken, TOKEN_PREFIX } from "./token-secret.ts";
import { transact } from "./transaction.ts";
import type { TokenRecord, UserRecord } from "./types.ts";
import { requireId, requireText } from "./validate.ts";

/** `last_used_at` is refreshed at most this often, so authenticating stays a read almost always. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Token columns other than the hash, qualified so they survive a join with users. */
const TOKEN_COLUMNS = [
  "api_tokens.id",
  "api_tokens.user_id",
  "api_tokens.name",
  "api_tokens.created_at",
  "api_tokens.expires_at",
  "api_tokens.last_used_at",
  "api_tokens.revoked_at",
] as const;

/** Issues a token for a user; the plaintext is returned once and never stored. */
export async function createToken(
  db: Db,
  dialect: Dialect,
  input: { userId: number; name: string; actor: string; expiresAt?: Date },
): Promise<{ token: string; record: TokenRecord }> {
  const userId = requireId(input.userId, "userId");
  const name = requireText(input.name, "token name");
  const expiresAt = input.expiresAt;
  if (expiresAt !== undefined && !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime()))) {
    throw new StoreError("invalid", "expiresAt must be a valid Date");
  }
  return transact(db, dialect, async (trx) => {
    const user = await trx.selectFrom("users").select("org").where("id", "=", userId).executeTakeFirst();
    if (user === undefined) throw new StoreError("not_found", `user ${userId} does not exist`);
    const token = generateToken();
    const now = new Date();
    const row = await trx
      .insertInto("api_tokens")
      .values({
        user_id: userId,
        name,
        token_hash: hashToken(token),
        created_at: encodeTime(now),
        expires_at: expiresAt === undefined ? null : encodeTime(expiresAt),
        last_used_at: null,
        revoked_at: null,
      })
      .returning([...TOKEN_COLUMNS])
      .executeTakeFirstOrThrow();
    const record = toToken(row);
    await insertAudit(
      trx,
      {
        actor: input.actor,
        action: "token.create",
        target: `token:${record.id}`,
        org: user.org,
        detail: { userId, name, expiresAt: record.expiresAt?.toISOString() ?? null },
      },
      now,
    );
    return { token, record };
  });
}

function isUsable(row: Selectable<ApiTokensTable>, now: Date): boolean {
  if (row.revoked_at !== null) return false;
  return row.expires_at === null || decodeTime(row.expires_at).getTime() > now.getTime();
}

/** Resolves a bearer token to its user; undefined for unknown, revoked or expired tokens. */
export async function authenticate(
  db: Db,
  token: string,
): Promise<{ user: UserRecord; token: TokenRecord } | undefined> {
  if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX)) return undefined;
  const row = await db
    .selectFrom("api_tokens")
    .selectAll()
    .where("token_hash", "=", hashToken(token))
    .executeTakeFirst();
  const now = new Date();
  if (row === undefined || !isUsable(row, now)) return undefined;
  const userRow = await db.selectFrom("users").selectAll().where("id", "=", row.user_id).executeTakeFirst();
  if (userRow === undefined) return undefined;
  const record = toToken(row);
  if (record.lastUsedAt === null || now.getTime() - record.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db
      .updateTable("api_tokens")
      .set({ last_used_at: encodeTime(now) })
      .where("id", "=", record.id)
      .execute();
    record.lastUsedAt = now;
  }
  return { user: toUser(userRow), token: record };
}

/** Revokes a token and audits it; false when it does not exist or was already revoked. */
export async function revokeToken(db: Db, dialect: Dialect, id: number, actor: string): Promise<boolean> {
  requireText(actor, "actor");
  return transact(db, dialect, async (trx) => {
    const row = await trx
      .selectFrom("api_tokens")
      .innerJoin("users", "users.id", "api_tokens.user_id")
      .select(["api_tokens.user_id", "api_tokens.name", "api_tokens.revoked_at", "users.org"])
      .where("api_tokens.id", "=", id)
      .executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return false;
    const now = new Date();
    await trx
      .updateTable("api_tokens")
      .set({ revoked_at: encodeTime(now) })
      .where("id", "=", id)
      .execute();
    await insertAudit(
      trx,
      {
        actor,
        action: "token.revoke",
        target: `token:${id}`,
        org: row.org,
        detail: { userId: Number(row.user_id), name: row.name },
      },
      now,
    );
    return true;
  });
}

/** Token metadata by id, optionally of one user or of one org's users. */
export async function listTokens(
  db: Db,
  opts: { userId?: number; org?: string } = {},
): Promise<TokenRecord[]> {
  let query = db
    .selectFrom("api_tokens")
    .innerJoin("users", "users.id", "api_tokens.user_id")
    .select([...TOKEN_COLUMNS])
    .orderBy("api_tokens.id");
  if (opts.userId !== undefined) query = query.where("api_tokens.user_id", "=", opts.userId);
  if (opts.org !== undefined) query = query.where("users.org", "=", opts.org);
  const rows = await query.execute();
  return rows.map(toToken);
}
