// Runners: one-time registration tokens, the exchange for a runner credential, credential
// checks at the WebSocket upgrade, revocation and the owner's list. Secrets are returned
// once and stored as sha256 only (services/secrets.ts).
import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Db } from "@transcend/db";
import { runnerRegistrationTokens, runners, runs } from "@transcend/db/schema";
import { runnerCapabilitiesSchema, type RunnerCapabilities } from "@transcend/protocol";
import { FleetError } from "./fleet-errors";
import { publishFleetEvent } from "./run-events";
import { hashSecret, newSecret } from "./secrets";

/** A registration token is meant to be pasted into a command right away. */
export const REGISTRATION_TOKEN_TTL_MS = 60 * 60 * 1000;
/** A runner not seen for this long is shown offline (a few missed heartbeats). */
export const RUNNER_OFFLINE_AFTER_MS = 60_000;

const REGISTRATION_TOKEN_PREFIX = "trt_";
const RUNNER_CREDENTIAL_PREFIX = "trr_";

export const runnerNameSchema = z.string().trim().min(1).max(100);
/** Shape check before hashing, so garbage never reaches a query. */
export const secretSchema = z.string().min(16).max(200);

export type RunnerRow = typeof runners.$inferSelect;

export async function createRegistrationToken(
  db: Db,
  input: { ownerId: string; now?: Date; ttlMs?: number },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = newSecret(REGISTRATION_TOKEN_PREFIX);
  const now = input.now ?? new Date();
  const expiresAt = new Date(now.getTime() + (input.ttlMs ?? REGISTRATION_TOKEN_TTL_MS));
  const [row] = await db
    .insert(runnerRegistrationTokens)
    .values({ ownerId: input.ownerId, tokenHash: hashSecret(token), createdAt: now, expiresAt })
    .returning({ id: runnerRegistrationTokens.id });
  if (!row) throw new Error("inserting a registration token returned no row");
  return { id: row.id, token, expiresAt };
}

/**
 * Exchanges a registration token for a runner credential. One statement marks the token
 * used and creates the runner, so two exchanges of one token cannot both succeed.
 */
export async function registerRunner(
  db: Db,
  input: { token: string; name: string },
): Promise<{ runnerId: string; ownerId: string; credential: string }> {
  const name = runnerNameSchema.parse(input.name);
  const tokenHash = hashSecret(secretSchema.parse(input.token));
  const credential = newSecret(RUNNER_CREDENTIAL_PREFIX);
  const runnerId = randomUUID();
  // The token row points at the runner created by the sibling CTE; PostgreSQL checks
  // that foreign key at the end of the statement, when the runner exists.
  const created = await queryRows<{ id: string; owner_id: string }>(
    db,
    sql`with used as (
          update runner_registration_tokens
             set used_at = now(), runner_id = ${runnerId}
           where token_hash = ${tokenHash} and used_at is null and expires_at > now()
       returning owner_id)
        insert into runners (id, owner_id, name, credential_hash)
        select ${runnerId}, owner_id, ${name}, ${hashSecret(credential)} from used
        returning id, owner_id`,
  );
  const runner = created[0];
  if (runner) return { runnerId: runner.id, ownerId: runner.owner_id, credential };
  // Why it failed, for the person at the terminal; the exchange itself already refused.
  const [token] = await db
    .select({ usedAt: runnerRegistrationTokens.usedAt, expiresAt: runnerRegistrationTokens.expiresAt })
    .from(runnerRegistrationTokens)
    .where(eq(runnerRegistrationTokens.tokenHash, tokenHash));
  if (!token) throw new FleetError("invalid_token", "This registration token is not known; create a new one on the runners page.");
  if (token.usedAt) throw new FleetError("token_used", "This registration token was already used; create a new one on the runners page.");
  throw new FleetError("token_expired", "This registration token has expired; create a new one on the runners page.");
}

/** The runner a credential belongs to, or a FleetError (`invalid_token`, `revoked`). */
export async function authenticateRunner(db: Db, credential: string): Promise<RunnerRow> {
  const parsed = secretSchema.safeParse(credential);
  if (!parsed.success) throw new FleetError("invalid_token", "This runner credential is not known; register the runner again.");
  const [runner] = await db.select().from(runners).where(eq(runners.credentialHash, hashSecret(parsed.data)));
  if (!runner) throw new FleetError("invalid_token", "This runner credential is not known; register the runner again.");
  if (runner.revokedAt) throw new FleetError("revoked", "This runner was revoked by its owner; register it again to use it.");
  return runner;
}

/** Runners one credential check reads per query; a larger fleet on one instance is read in chunks. */
const CREDENTIAL_CHECK_CHUNK = 1_000;

/**
 * Of the runners connected with these credentials, the ids whose credential no longer opens
 * a socket: revoked, or gone with their owner's account. The gateway's periodic check, the
 * gate that does not depend on the runner-revoked notice; one query per chunk of runners.
 */
export async function runnersNoLongerAdmitted(db: Db, connected: readonly Pick<RunnerRow, "id" | "credentialHash">[]): Promise<Set<string>> {
  const expected = new Map(connected.map((runner) => [runner.id, runner.credentialHash]));
  const ids = [...expected.keys()];
  const admitted = new Set<string>();
  for (let start = 0; start < ids.length; start += CREDENTIAL_CHECK_CHUNK) {
    const rows = await db
      .select({ id: runners.id, credentialHash: runners.credentialHash })
      .from(runners)
      .where(and(inArray(runners.id, ids.slice(start, start + CREDENTIAL_CHECK_CHUNK)), isNull(runners.revokedAt)));
    for (const row of rows) if (expected.get(row.id) === row.credentialHash) admitted.add(row.id);
  }
  return new Set(ids.filter((id) => !admitted.has(id)));
}

/** Stores what the runner said in its hello and when it was last heard from. */
export async function recordRunnerHello(
  db: Db,
  input: { runnerId: string; capabilities: RunnerCapabilities; name?: string | undefined },
): Promise<void> {
  await db
    .update(runners)
    .set({ capabilities: input.capabilities, lastSeenAt: sql`now()`, ...(input.name ? { name: input.name } : {}) })
    .where(eq(runners.id, input.runnerId));
}

export async function touchRunner(db: Db, runnerId: string): Promise<void> {
  await db.update(runners).set({ lastSeenAt: sql`now()` }).where(eq(runners.id, runnerId));
}

/**
 * Revokes a runner of `ownerId`. Its credential stops working at once and every server
 * instance closes its socket (runner-revoked event, or the gateway's periodic credential
 * check when the notice is missed); its leases expire and the sweeper re-queues the runs.
 */
export async function revokeRunner(db: Db, input: { ownerId: string; runnerId: string }): Promise<{ revokedAt: Date }> {
  return db.transaction(async (tx) => {
    const [runner] = await tx.select().from(runners).where(eq(runners.id, input.runnerId)).for("update");
    if (!runner) throw new FleetError("not_found", "There is no such runner.");
    if (runner.ownerId !== input.ownerId) throw new FleetError("forbidden", "This runner belongs to someone else.");
    if (runner.revokedAt) return { revokedAt: runner.revokedAt };
    const [updated] = await tx
      .update(runners)
      .set({ revokedAt: sql`now()` })
      .where(eq(runners.id, input.runnerId))
      .returning({ revokedAt: runners.revokedAt });
    await publishFleetEvent(tx, { type: "runner-revoked", runnerId: input.runnerId });
    return { revokedAt: updated?.revokedAt ?? new Date() };
  });
}

export const runnerStatusSchema = z.enum(["idle", "busy", "offline", "revoked"]);
export type RunnerStatus = z.infer<typeof runnerStatusSchema>;

export const runnerSummarySchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  status: runnerStatusSchema,
  backend: z.string().nullable(),
  device: z.string().nullable(),
  cores: z.number().int().nullable(),
  memoryBytes: z.number().nullable(),
  /** Measured matmul throughput (hello capabilities), when the runner reported it. */
  gflops: z.number().nullable(),
  matmulPath: z.string().nullable(),
  /** The run this runner holds a lease on, if any. */
  currentRunId: z.string().uuid().nullable(),
  lastSeenAt: z.date().nullable(),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
});
export type RunnerSummary = z.infer<typeof runnerSummarySchema>;

/** The owner's runners, newest first, with status derived from last heartbeat and leases. */
export async function listRunners(db: Db, input: { ownerId: string; now?: Date }): Promise<RunnerSummary[]> {
  const now = input.now ?? new Date();
  const rows = await db.select().from(runners).where(eq(runners.ownerId, input.ownerId)).orderBy(desc(runners.createdAt)).limit(500);
  if (rows.length === 0) return [];
  const leases = await db
    .select({ runnerId: runs.leaseRunnerId, runId: runs.id })
    .from(runs)
    .where(
      and(
        inArray(
          runs.leaseRunnerId,
          rows.map((r) => r.id),
        ),
        sql`${runs.leaseExpiresAt} > now()`,
      ),
    );
  const currentRun = new Map<string, string>();
  for (const lease of leases) if (lease.runnerId) currentRun.set(lease.runnerId, lease.runId);
  return rows.map((row) => {
    const capabilities = runnerCapabilitiesSchema.safeParse(row.capabilities);
    const caps = capabilities.success ? capabilities.data : undefined;
    const online = row.lastSeenAt !== null && now.getTime() - row.lastSeenAt.getTime() < RUNNER_OFFLINE_AFTER_MS;
    const current = currentRun.get(row.id) ?? null;
    const status: RunnerStatus = row.revokedAt ? "revoked" : !online ? "offline" : current ? "busy" : "idle";
    return {
      id: row.id,
      name: row.name,
      status,
      backend: caps?.backend ?? null,
      device: caps?.device ?? null,
      cores: caps?.cores ?? null,
      memoryBytes: caps?.memoryBytes ?? null,
      gflops: caps?.matmul?.gflops ?? null,
      matmulPath: caps?.matmul?.path ?? null,
      currentRunId: current,
      lastSeenAt: row.lastSeenAt,
      createdAt: row.createdAt,
      revokedAt: row.revokedAt,
    };
  });
}

/** Unused registration tokens of an owner that have not expired (the runners page may show how many). */
export async function countPendingRegistrationTokens(db: Db, ownerId: string): Promise<number> {
  const rows = await db
    .select({ id: runnerRegistrationTokens.id })
    .from(runnerRegistrationTokens)
    .where(
      and(
        eq(runnerRegistrationTokens.ownerId, ownerId),
        isNull(runnerRegistrationTokens.usedAt),
        sql`${runnerRegistrationTokens.expiresAt} > now()`,
      ),
    );
  return rows.length;
}
