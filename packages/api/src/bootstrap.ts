/**
 * First start: make sure a provider admin exists and that its token is on disk in the data folder
 * (mode 0600), so that the operator who started the server can log in.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "@flightdeck/store";

export const ADMIN_TOKEN_FILE = "admin-token";

/** Returns the admin token, creating the admin user and a token when needed. */
export async function ensureAdminToken(
  store: Store,
  dataDir: string,
): Promise<{ token: string; created: boolean }> {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (await store.authenticate(token)) return { token, created: false };
  }
  const admins = (await store.listUsers()).filter((u) => u.role === "provider-admin");
  const admin =
    admins[0] ??
    (await store.createUser({ name: "admin", org: null, role: "provider-admin", actor: "system" }));
  const { token } = await store.createToken({ userId: admin.id, name: "bootstrap", actor: "system" });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, created: true };
}
