// The runner `npm start` launches beside the server. It is registered like any other
// runner (a one-time token exchanged for a credential, only hashes stored), owned by a
// built-in "local runner" user that cannot sign in (it has no password account).
// Each start revokes the previous local runners and issues a fresh token: the port, the
// database or the data directory may have changed since, and a stale credential would
// only make the runner exit with a 401.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "@transcend/db";
import { runners, users } from "@transcend/db/schema";
import { createRegistrationToken } from "./services/runners";

export const LOCAL_RUNNER_USER = {
  id: "local-runner",
  name: "Local runner",
  // `.invalid` is reserved (RFC 2606): this address can never receive mail or sign up.
  email: "local-runner@transcend.invalid",
} as const;

/** The token outlives the server's start-up by far; `npm start` exchanges it within seconds. */
const LOCAL_TOKEN_TTL_MS = 10 * 60 * 1000;

/** Revokes earlier local runners and writes a fresh registration token to `tokenFile` (mode 0600). */
export async function issueLocalRunnerToken(db: Db, tokenFile: string): Promise<void> {
  await db.insert(users).values(LOCAL_RUNNER_USER).onConflictDoNothing();
  await db
    .update(runners)
    .set({ revokedAt: new Date() })
    .where(and(eq(runners.ownerId, LOCAL_RUNNER_USER.id), isNull(runners.revokedAt)));
  const { token } = await createRegistrationToken(db, { ownerId: LOCAL_RUNNER_USER.id, ttlMs: LOCAL_TOKEN_TTL_MS });
  await mkdir(path.dirname(tokenFile), { recursive: true, mode: 0o700 });
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
}
