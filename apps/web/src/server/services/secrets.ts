// Secrets the fleet hands out (registration tokens, runner credentials, attempt tokens):
// 32 random bytes, shown once, stored only as their sha256. A leaked database then holds
// nothing that authenticates; sha256 suffices because the secrets are random, not chosen.
import { createHash, randomBytes } from "node:crypto";

/** A new secret with a readable prefix saying what it is for (e.g. `trr_` for a runner credential). */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** sha256 (hex) of a secret: the only form the database keeps. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** `Authorization: Bearer <secret>` → the secret, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9_\-.~+/=]{16,200})\s*$/.exec(header);
  return match?.[1];
}
