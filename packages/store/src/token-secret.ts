import { createHash, randomBytes } from "node:crypto";

/** Every token starts with this, so leaked tokens are easy to recognise (and to scan for). */
export const TOKEN_PREFIX = "fd_";

/** Random bytes behind each token: 256 bits, far beyond guessing. */
const TOKEN_RANDOM_BYTES = 32;

/** A fresh bearer token: `fd_` + 32 random bytes, base64url. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString("base64url");
}

/** What the database keeps instead of the token: its SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
