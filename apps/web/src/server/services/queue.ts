// The run queue and its leases (DESIGN.md §2.1). A run is the queue entry: a runner that
// is ready claims the oldest eligible run with `FOR UPDATE SKIP LOCKED`; the claim is a
// lease (attempt, runner, expiry) renewed by heartbeats; the sweeper re-queues runs whose
// lease ran out with backoff and fails them after `maxAttempts`. Every change of state
// writes a run_state_transitions row, and every runner message names its attempt so a
// message from a superseded attempt changes nothing.
import { and, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import { queryRows, type Db } from "@transcend/db";
import {
  TERMINAL_RUN_STATES,
  metrics,
  recipes,
  runAttempts,
  runLogChunks,
  runStateTransitions,
  runners,
  runs,
  type RunState,
} from "@transcend/db/schema";
import type { AttemptRef, RunnerCapabilities, RunnerPhase } from "@transcend/protocol";
import { FleetError } from "./fleet-errors";
import { FLEET_CHANNEL, publishFleetEvent } from "./run-events";
import { hashSecret, newSecret } from "./secrets";

export interface QueueSettings {
  /** How long a claim or heartbeat keeps a lease: a few heartbeat intervals. */
  leaseMs: number;
  /** Attempts after which a run whose lease keeps expiring (or that keeps failing retryably) fails. */
  maxAttempts: number;
  /** Delay before a re-queued run may be claimed again, doubled per attempt… */
  backoffBaseMs: number;
  /** …up to this. */
  backoffMaxMs: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  // Three missed 10 s heartbeats: a runner on a bad network is not dropped for one hiccup.
  leaseMs: 30_000,
  maxAttempts: 3,
  backoffBaseMs: 10_000,
  backoffMaxMs: 10 * 60_000,
};

/** States in which a runner holds (or should hold) the run's lease. */
export const ACTIVE_RUN_STATES = ["assigned", "pretraining", "evaluating_base", "grpo", "evaluating_final"] as const satisfies readonly RunState[];
const TERMINAL: ReadonlySet<RunState> = new Set(TERMINAL_RUN_STATES);
const PHASE_ORDER: Record<RunState, number> = {
  queued: 0,
  assigned: 1,
  pretraining: 2,
  evaluating_base: 3,
  grpo: 4,
  evaluating_final: 5,
  graded: 6,
  failed: 6,
  cancelled: 6,
};

export const isTerminalRunState = (state: RunState): boolean => TERMINAL.has(state);

export function backoffMs(attempt: number, settings: Pick<QueueSettings, "backoffBaseMs" | "backoffMaxMs"> = DEFAULT_QUEUE_SETTINGS): number {
  return Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
}

type Tx = Db;
type RunRow = typeof runs.$inferSelect;

/** Whether `from → to` is a move the run's life allows (terminal states never move). */
export function isAllowedTransition(from: RunState, to: RunState): boolean {
  if (TERMINAL.has(from)) return false;
  if (to === "failed" || to === "cancelled") return true;
  if (to === "queued") return from !== "queued";
  if (to === "assigned") return from === "queued";
  if (to === "graded") return from === "evaluating_final" || from === "grpo" || from === "evaluating_base" || from === "pretraining" || from === "assigned";
  // Runner phases only move forward (a runner with a cached origin skips pretraining).
  return from !== "queued" && PHASE_ORDER[to] > PHASE_ORDER[from];
}

async function lockRun(tx: Tx, runId: string): Promise<RunRow> {
  const [run] = await tx.select().from(runs).where(eq(runs.id, runId)).for("update");
  if (!run) throw new FleetError("not_found", "There is no such run.");
  return run;
}

async function writeTransition(tx: Tx, run: RunRow, attempt: number, to: RunState, reason: string): Promise<void> {
  await tx.insert(runStateTransitions).values({ runId: run.id, attempt, fromState: run.state, toState: to, reason });
  await publishFleetEvent(tx, { type: "run-updated", runId: run.id, state: to, attempt });
}

/**
 * Moves a run to `to`, recording why. `attempt` must be the run's current attempt (pass
 * `undefined` for a change not made on behalf of an attempt, e.g. by its submitter).
 * Throws FleetError `terminal`, `stale_attempt` or `invalid_transition`; moving to the
 * state the run is already in changes nothing and returns `changed: false`.
 */
export async function transitionRun(
  db: Db,
  input: { runId: string; attempt?: number; to: RunState; reason: string },
): Promise<{ from: RunState; to: RunState; changed: boolean }> {
  return db.transaction(async (tx) => {
    const run = await lockRun(tx, input.runId);
    return applyTransition(tx, run, input.attempt, input.to, input.reason);
  });
}

async function applyTransition(
  tx: Tx,
  run: RunRow,
  attempt: number | undefined,
  to: RunState,
  reason: string,
): Promise<{ from: RunState; to: RunState; changed: boolean }> {
  if (attempt !== undefined && attempt !== run.attempt) {
    throw new FleetError("stale_attempt", `Attempt ${attempt} of this run was superseded by attempt ${run.attempt}.`);
  }
  if (TERMINAL.has(run.state)) {
    if (run.state === to) return { from: run.state, to, changed: false };
    throw new FleetError("terminal", `This run is already ${run.state}; it cannot become ${to}.`);
  }
  if (run.state === to) return { from: run.state, to, changed: false };
  if (!isAllowedTransition(run.state, to)) {
    throw new FleetError("invalid_transition", `A run cannot go from ${run.state} to ${to}.`);
  }
  const terminal = TERMINAL.has(to);
  await tx
    .update(runs)
    .set({
      state: to,
      ...(terminal || to === "queued" ? { leaseRunnerId: null, leaseExpiresAt: null } : {}),
      ...(terminal ? { finishedAt: sql`now()` } : {}),
    })
    .where(eq(runs.id, run.id));
  await writeTransition(tx, run, run.attempt, to, reason);
  return { from: run.state, to, changed: true };
}

/**
 * Cancels a run wherever it is: a queued run never starts, a running attempt's runner is
 * told to stop (on whichever server instance it is connected). Authorisation (the
 * submitter) is the caller's. Throws FleetError `terminal` if the run already ended.
 */
export async function cancelRun(db: Db, input: { runId: string; reason: string }): Promise<{ from: RunState }> {
  const reason = input.reason.trim().slice(0, 2000) || "cancelled";
  return db.transaction(async (tx) => {
    const run = await lockRun(tx, input.runId);
    const { from } = await applyTransition(tx, run, undefined, "cancelled", reason);
    if (run.attempt > 0 && from !== "queued") {
      await tx
        .update(runAttempts)
        .set({ outcome: "cancelled", error: reason, endedAt: sql`now()` })
        .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, run.attempt), eq(runAttempts.outcome, "running")));
      await publishFleetEvent(tx, { type: "cancel-attempt", runId: run.id, attempt: run.attempt, reason });
    }
    return { from };
  });
}

// ── claiming ────────────────────────────────────────────────────────────────────

export interface ClaimedRun {
  runId: string;
  attempt: number;
  seed: number;
  variant: Record<string, unknown>;
  recipe: Record<string, unknown>;
  /** Raw per-attempt token for artifact uploads: sent to the runner once, stored hashed. */
  attemptToken: string;
  leaseExpiresAt: Date;
}

/** What the recipe asks of a runner, read from its optional `requirements` object. */
export interface RunRequirements {
  gpu: boolean;
  minMemoryBytes: number;
  minCores: number;
}

const hasGpu = (capabilities: RunnerCapabilities) => capabilities.backend === "tfjs-node-gpu";

// Recipes may carry `requirements: { gpu?: boolean, minMemoryBytes?: number, minCores?: number }`;
// read defensively, since the spec is JSON a person wrote.
const requiresGpuSql = sql`coalesce(${recipes.spec} #>> '{requirements,gpu}', 'false') = 'true'`;
const numberRequirement = (key: string) =>
  sql`(case when jsonb_typeof(${recipes.spec} #> ${`{requirements,${key}}`}) = 'number' then (${recipes.spec} #>> ${`{requirements,${key}}`})::numeric else 0 end)`;

/**
 * Gives the runner the oldest eligible queued run, fair across submitters (a submitter
 * with fewer runs executing now goes first), or undefined. Eligible: its backoff is over,
 * the recipe's requirements fit the runner, and a reproduction only goes to a runner of
 * an owner other than the original run's. A revoked runner claims nothing, even while its
 * socket is still open.
 */
export async function claimRun(
  db: Db,
  input: { runnerId: string; ownerId: string; capabilities: RunnerCapabilities; runnerName?: string; settings?: Partial<QueueSettings> },
): Promise<ClaimedRun | undefined> {
  const leaseMs = input.settings?.leaseMs ?? DEFAULT_QUEUE_SETTINGS.leaseMs;
  const caps = input.capabilities;
  const attemptToken = newSecret("tra_");
  const reason = `claimed by runner ${input.runnerName ?? input.runnerId}`;
  // One statement claims, records the attempt and the transition, announces it and reads
  // the exact specs: atomic without a transaction, and one round trip, which is what
  // bounds claim throughput (see `npm run bench:gateway`).
  const claimed = await queryRows<{
    id: string;
    attempt: number;
    seed: number;
    lease_expires_at: string | Date;
    variant: Record<string, unknown>;
    recipe: Record<string, unknown>;
  }>(
    db,
    sql`with executing as (
          select submitter_id, count(*)::int as n from runs
           where lease_expires_at is not null and state in ('assigned','pretraining','evaluating_base','grpo','evaluating_final')
           group by submitter_id),
        candidate as (
          select r.id from runs r
            join recipes on recipes.id = r.recipe_id
            left join executing e on e.submitter_id = r.submitter_id
           where r.state = 'queued' and r.not_before <= now()
             -- A runner revoked while still connected (its notice missed) is given nothing.
             and exists (select 1 from runners me where me.id = ${input.runnerId} and me.revoked_at is null)
             and (${hasGpu(caps)} or not ${requiresGpuSql})
             and ${numberRequirement("minMemoryBytes")} <= ${caps.memoryBytes}
             and ${numberRequirement("minCores")} <= ${caps.cores}
             and (r.reproduces_run_id is null or coalesce((
                   select o.owner_id from run_attempts ra join runners o on o.id = ra.runner_id
                    where ra.run_id = r.reproduces_run_id order by ra.attempt desc limit 1), '') <> ${input.ownerId})
           order by coalesce(e.n, 0), r.created_at, r.id
           limit 1
           for update of r skip locked),
        claimed as (
          update runs set state = 'assigned', attempt = runs.attempt + 1, lease_runner_id = ${input.runnerId},
                 lease_expires_at = now() + ${`${leaseMs} milliseconds`}::interval, updated_at = now()
            from candidate where runs.id = candidate.id
          returning runs.id, runs.attempt, runs.seed, runs.lease_expires_at, runs.variant_id, runs.recipe_id),
        new_attempt as (
          insert into run_attempts (run_id, attempt, runner_id, token_hash, capabilities)
          select id, attempt, ${input.runnerId}, ${hashSecret(attemptToken)}, ${JSON.stringify(caps)}::jsonb from claimed),
        new_transition as (
          insert into run_state_transitions (run_id, attempt, from_state, to_state, reason)
          select id, attempt, 'queued', 'assigned', ${reason} || ' (attempt ' || attempt || ')' from claimed)
        select claimed.id, claimed.attempt, claimed.seed, claimed.lease_expires_at,
               task_variants.spec as variant, recipes.spec as recipe,
               pg_notify(${FLEET_CHANNEL}, json_build_object('type', 'run-updated', 'runId', claimed.id, 'state', 'assigned', 'attempt', claimed.attempt)::text)
          from claimed
          join task_variants on task_variants.id = claimed.variant_id
          join recipes on recipes.id = claimed.recipe_id`,
  );
  const run = claimed[0];
  if (!run) return undefined;
  return {
    runId: run.id,
    attempt: run.attempt,
    seed: run.seed,
    variant: run.variant,
    recipe: run.recipe,
    attemptToken,
    leaseExpiresAt: new Date(run.lease_expires_at),
  };
}

// ── attempts ────────────────────────────────────────────────────────────────────

/**
 * Locks the run for a message of `ref` from `runnerId`, or throws FleetError
 * `not_your_run` (the attempt was never this runner's) or `stale_attempt` (it was, but
 * the run moved on: lease lost, re-queued, cancelled or ended).
 */
async function lockCurrentAttempt(tx: Tx, ref: AttemptRef, runnerId: string): Promise<RunRow> {
  const [run] = await tx.select().from(runs).where(eq(runs.id, ref.runId)).for("update");
  const [attempt] = run
    ? await tx
        .select({ runnerId: runAttempts.runnerId, runnerRevokedAt: runners.revokedAt })
        .from(runAttempts)
        .innerJoin(runners, eq(runners.id, runAttempts.runnerId))
        .where(and(eq(runAttempts.runId, ref.runId), eq(runAttempts.attempt, ref.attempt)))
    : [];
  if (!run || !attempt || attempt.runnerId !== runnerId) {
    throw new FleetError("not_your_run", `Attempt ${ref.attempt} of run ${ref.runId} was not given to this runner.`);
  }
  // A runner revoked while still connected (its notice missed, the credential check not yet
  // run) reports nothing more: its progress and results are no longer trusted.
  if (attempt.runnerRevokedAt !== null) {
    throw new FleetError("not_your_run", `This runner was revoked; attempt ${ref.attempt} of run ${ref.runId} is no longer its own.`);
  }
  if (run.attempt !== ref.attempt || run.leaseRunnerId !== runnerId || TERMINAL.has(run.state) || run.state === "queued") {
    const why = TERMINAL.has(run.state) ? `the run is ${run.state}` : run.attempt !== ref.attempt ? `attempt ${run.attempt} superseded it` : "its lease was lost";
    throw new FleetError("stale_attempt", `Attempt ${ref.attempt} of run ${ref.runId} is no longer current: ${why}.`);
  }
  return run;
}

/** Checks a message's attempt without changing anything (same errors as the writes). */
export async function checkAttempt(db: Db, ref: AttemptRef, runnerId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockCurrentAttempt(tx, ref, runnerId);
  });
}

/**
 * Renews the leases of the attempts a runner says it executes. Returns the attempts that
 * are no longer this runner's (the gateway tells the runner to stop them).
 */
export async function renewLeases(
  db: Db,
  input: {
    runnerId: string;
    attempts: AttemptRef[];
    settings?: Partial<QueueSettings>;
    /** Also record that the runner was seen (default true); the gateway does it every few heartbeats only. */
    touchRunner?: boolean;
  },
): Promise<{ renewed: AttemptRef[]; lost: AttemptRef[] }> {
  const leaseMs = input.settings?.leaseMs ?? DEFAULT_QUEUE_SETTINGS.leaseMs;
  if (input.touchRunner ?? true) await db.update(runners).set({ lastSeenAt: sql`now()` }).where(eq(runners.id, input.runnerId));
  if (input.attempts.length === 0) return { renewed: [], lost: [] };
  const ids = input.attempts.map((a) => a.runId);
  const updated = await db
    .update(runs)
    .set({ leaseExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
    .where(
      and(
        inArray(runs.id, ids),
        eq(runs.leaseRunnerId, input.runnerId),
        inArray(runs.state, [...ACTIVE_RUN_STATES]),
        // A revoked runner renews nothing: its leases run out and the sweeper re-queues them.
        sql`exists (select 1 from ${runners} me where me.id = ${input.runnerId} and me.revoked_at is null)`,
      ),
    )
    .returning({ runId: runs.id, attempt: runs.attempt });
  const current = new Set(updated.map((r) => `${r.runId}/${r.attempt}`));
  const renewed: AttemptRef[] = [];
  const lost: AttemptRef[] = [];
  for (const ref of input.attempts) (current.has(`${ref.runId}/${ref.attempt}`) ? renewed : lost).push(ref);
  return { renewed, lost };
}

/** The runner started the attempt (its child process is up); the lease is renewed. */
export async function acceptAttempt(db: Db, input: { ref: AttemptRef; runnerId: string; settings?: Partial<QueueSettings> }): Promise<void> {
  const leaseMs = input.settings?.leaseMs ?? DEFAULT_QUEUE_SETTINGS.leaseMs;
  await db.transaction(async (tx) => {
    await lockCurrentAttempt(tx, input.ref, input.runnerId);
    await tx
      .update(runs)
      .set({ leaseExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
      .where(eq(runs.id, input.ref.runId));
  });
}

/**
 * Stores one progress event: a `seq` at or below the highest stored is a re-send and is
 * dropped; metrics rows are keyed so a replay cannot duplicate them. A phase beyond the
 * run's state moves the run there. Returns the highest stored seq (what to ack).
 */
export async function recordProgress(
  db: Db,
  input: {
    ref: AttemptRef;
    runnerId: string;
    seq: number;
    phase: RunnerPhase;
    step: number;
    metrics: Record<string, number>;
  },
): Promise<{ stored: boolean; lastSeq: number }> {
  return db.transaction(async (tx) => {
    const run = await lockCurrentAttempt(tx, input.ref, input.runnerId);
    const [attempt] = await tx
      .update(runAttempts)
      .set({ lastSeq: input.seq })
      .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, input.ref.attempt), lt(runAttempts.lastSeq, input.seq)))
      .returning({ lastSeq: runAttempts.lastSeq });
    if (!attempt) {
      const [current] = await tx
        .select({ lastSeq: runAttempts.lastSeq })
        .from(runAttempts)
        .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, input.ref.attempt)));
      return { stored: false, lastSeq: current?.lastSeq ?? 0 };
    }
    const finite = Object.entries(input.metrics).filter(([, value]) => Number.isFinite(value));
    if (finite.length > 0) {
      await tx
        .insert(metrics)
        .values(finite.map(([name, value]) => ({ runId: run.id, attempt: input.ref.attempt, phase: input.phase, step: input.step, name, value })))
        .onConflictDoNothing();
    }
    if (run.state !== input.phase && isAllowedTransition(run.state, input.phase)) {
      await applyTransition(tx, run, input.ref.attempt, input.phase, `the runner reports ${input.phase.replace("_", " ")}`);
    } else {
      await publishFleetEvent(tx, {
        type: "run-updated",
        runId: run.id,
        attempt: input.ref.attempt,
        phase: input.phase,
        step: input.step,
        metrics: Object.fromEntries(finite),
      });
    }
    return { stored: true, lastSeq: input.seq };
  });
}

/** Stores a log chunk at its byte offset (a re-sent chunk is a no-op). Returns the offset just past it. */
export async function recordLog(
  db: Db,
  input: { ref: AttemptRef; runnerId: string; offset: number; text: string },
): Promise<{ endOffset: number; lastSeq: number }> {
  return db.transaction(async (tx) => {
    await lockCurrentAttempt(tx, input.ref, input.runnerId);
    if (input.text.length > 0) {
      await tx
        .insert(runLogChunks)
        .values({ runId: input.ref.runId, attempt: input.ref.attempt, offset: input.offset, text: input.text })
        .onConflictDoNothing();
    }
    const [attempt] = await tx
      .select({ lastSeq: runAttempts.lastSeq })
      .from(runAttempts)
      .where(and(eq(runAttempts.runId, input.ref.runId), eq(runAttempts.attempt, input.ref.attempt)));
    return { endOffset: input.offset + Buffer.byteLength(input.text, "utf8"), lastSeq: attempt?.lastSeq ?? 0 };
  });
}

/** The log of one attempt (or the current one), in order, for the run page. */
export async function readLog(db: Db, input: { runId: string; attempt?: number; limitBytes?: number }): Promise<{ attempt: number; text: string }> {
  const [run] = await db.select({ attempt: runs.attempt }).from(runs).where(eq(runs.id, input.runId));
  const attempt = input.attempt ?? run?.attempt ?? 0;
  const chunks = await db
    .select({ text: runLogChunks.text })
    .from(runLogChunks)
    .where(and(eq(runLogChunks.runId, input.runId), eq(runLogChunks.attempt, attempt)))
    .orderBy(runLogChunks.offset);
  const text = chunks.map((c) => c.text).join("");
  const limit = input.limitBytes ?? 1_000_000;
  return { attempt, text: text.length > limit ? text.slice(text.length - limit) : text };
}

/**
 * The attempt succeeded and the server graded it: the run is `graded`. Idempotent: a
 * re-sent `finished` for an already graded attempt changes nothing.
 */
export async function finishAttempt(
  db: Db,
  input: { ref: AttemptRef; runnerId: string; engineVersion: string; reason?: string },
): Promise<{ changed: boolean }> {
  return db.transaction(async (tx) => {
    const [already] = await tx.select().from(runs).where(eq(runs.id, input.ref.runId));
    if (already?.state === "graded" && already.attempt === input.ref.attempt) return { changed: false };
    const run = await lockCurrentAttempt(tx, input.ref, input.runnerId);
    await tx
      .update(runAttempts)
      .set({ outcome: "succeeded", engineVersion: input.engineVersion, endedAt: sql`now()` })
      .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, input.ref.attempt)));
    await applyTransition(tx, run, input.ref.attempt, "graded", input.reason ?? "graded by the server");
    await publishFleetEvent(tx, { type: "queue-changed" });
    return { changed: true };
  });
}

/**
 * The attempt failed. A retryable failure (infrastructure) re-queues the run with backoff
 * until `maxAttempts`; a non-retryable one (the run itself is bad) fails it at once.
 */
export async function failAttempt(
  db: Db,
  input: { ref: AttemptRef; runnerId: string; error: string; retryable: boolean; settings?: Partial<QueueSettings> },
): Promise<{ state: RunState }> {
  const settings = { ...DEFAULT_QUEUE_SETTINGS, ...input.settings };
  return db.transaction(async (tx) => {
    const run = await lockCurrentAttempt(tx, input.ref, input.runnerId);
    await tx
      .update(runAttempts)
      .set({ outcome: "failed", error: input.error, endedAt: sql`now()` })
      .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, input.ref.attempt)));
    return endAttempt(tx, run, settings, input.retryable, `attempt ${run.attempt} failed: ${input.error}`);
  });
}

/**
 * How this runner's attempt ended, if the server recorded its result (`finished` or
 * `failed`); undefined while it runs, or when it ended otherwise (lease expired,
 * cancelled) or was never this runner's. Lets the gateway acknowledge a re-sent result.
 */
export async function recordedOutcome(db: Db, ref: AttemptRef, runnerId: string): Promise<"succeeded" | "failed" | undefined> {
  const [row] = await db
    .select({ outcome: runAttempts.outcome })
    .from(runAttempts)
    .where(and(eq(runAttempts.runId, ref.runId), eq(runAttempts.attempt, ref.attempt), eq(runAttempts.runnerId, runnerId)));
  return row?.outcome === "succeeded" || row?.outcome === "failed" ? row.outcome : undefined;
}

async function endAttempt(tx: Tx, run: RunRow, settings: QueueSettings, retryable: boolean, reason: string): Promise<{ state: RunState }> {
  if (retryable && run.attempt < settings.maxAttempts) {
    const delay = backoffMs(run.attempt, settings);
    await applyTransition(tx, run, run.attempt, "queued", `${reason}; retrying in ${Math.round(delay / 1000)} s`);
    await tx
      .update(runs)
      .set({ notBefore: sql`now() + ${`${delay} milliseconds`}::interval` })
      .where(eq(runs.id, run.id));
    return { state: "queued" };
  }
  const final = retryable ? `${reason}; gave up after ${run.attempt} attempts` : reason;
  await applyTransition(tx, run, run.attempt, "failed", final);
  return { state: "failed" };
}

/**
 * Re-queues (with backoff) or fails every run whose lease ran out: its runner died or
 * lost its network. The dead attempt is marked `lease_expired`; if its runner is somehow
 * still connected somewhere, it is told to stop.
 */
export async function sweepExpiredLeases(
  db: Db,
  input: { now?: Date; settings?: Partial<QueueSettings>; limit?: number } = {},
): Promise<Array<{ runId: string; attempt: number; state: RunState }>> {
  const settings = { ...DEFAULT_QUEUE_SETTINGS, ...input.settings };
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const expired = await tx
      .select()
      .from(runs)
      .where(and(isNotNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, now), inArray(runs.state, [...ACTIVE_RUN_STATES])))
      .orderBy(runs.leaseExpiresAt)
      .limit(input.limit ?? 100)
      .for("update", { skipLocked: true });
    const swept: Array<{ runId: string; attempt: number; state: RunState }> = [];
    for (const run of expired) {
      const reason = `the runner stopped renewing the lease of attempt ${run.attempt}`;
      await tx
        .update(runAttempts)
        .set({ outcome: "lease_expired", error: reason, endedAt: sql`now()` })
        .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, run.attempt), eq(runAttempts.outcome, "running")));
      const { state } = await endAttempt(tx, run, settings, true, reason);
      await publishFleetEvent(tx, { type: "cancel-attempt", runId: run.id, attempt: run.attempt, reason: `${reason}; the run was ${state === "queued" ? "re-queued" : "failed"}` });
      swept.push({ runId: run.id, attempt: run.attempt, state });
    }
    if (swept.length > 0) await publishFleetEvent(tx, { type: "queue-changed" });
    return swept;
  });
}

/** The attempt a per-attempt upload token authorises, if it is still current. */
export async function attemptForToken(db: Db, token: string): Promise<{ runId: string; attempt: number; current: boolean } | undefined> {
  const [row] = await db
    .select({ runId: runAttempts.runId, attempt: runAttempts.attempt, outcome: runAttempts.outcome, runAttempt: runs.attempt, state: runs.state })
    .from(runAttempts)
    .innerJoin(runs, eq(runs.id, runAttempts.runId))
    .where(eq(runAttempts.tokenHash, hashSecret(token)));
  if (!row) return undefined;
  return { runId: row.runId, attempt: row.attempt, current: row.outcome === "running" && row.runAttempt === row.attempt && !TERMINAL.has(row.state) };
}

// ── why a run waits ─────────────────────────────────────────────────────────────

/**
 * A sentence saying why a queued run is not running yet (the run page shows it), or
 * null when the run is not queued.
 */
export async function queuedReason(db: Db, runId: string, input: { onlineWithinMs?: number } = {}): Promise<string | null> {
  const rows = await queryRows<{
    state: RunState;
    not_before: string | Date;
    created_at: string | Date;
    submitter_id: string;
    reproduces_run_id: string | null;
    requires_gpu: boolean;
    min_memory: string | number;
    min_cores: string | number;
    last_error: string | null;
    attempt: number;
  }>(
    db,
    sql`select r.state, r.not_before, r.created_at, r.submitter_id, r.reproduces_run_id, r.attempt,
               ${requiresGpuSql} as requires_gpu,
               ${numberRequirement("minMemoryBytes")} as min_memory,
               ${numberRequirement("minCores")} as min_cores,
               (select error from run_attempts where run_id = r.id order by attempt desc limit 1) as last_error
          from runs r join recipes on recipes.id = r.recipe_id where r.id = ${runId}`,
  );
  const run = rows[0];
  if (!run || run.state !== "queued") return null;
  const notBefore = new Date(run.not_before);
  if (notBefore.getTime() > Date.now()) {
    const seconds = Math.ceil((notBefore.getTime() - Date.now()) / 1000);
    return `Retrying in ${seconds} s after attempt ${run.attempt} ended${run.last_error ? ` (${run.last_error})` : ""}.`;
  }
  const onlineWithin = `${input.onlineWithinMs ?? 60_000} milliseconds`;
  const online = await queryRows<{ id: string; owner_id: string; capabilities: Partial<RunnerCapabilities> }>(
    db,
    sql`select id, owner_id, capabilities from runners
         where revoked_at is null and last_seen_at > now() - ${onlineWithin}::interval`,
  );
  if (online.length === 0) return "No runner is connected; the run starts when one is.";
  const minMemory = Number(run.min_memory);
  const minCores = Number(run.min_cores);
  let fitting = online.filter(
    (r) =>
      (!run.requires_gpu || r.capabilities.backend === "tfjs-node-gpu") &&
      (r.capabilities.memoryBytes ?? 0) >= minMemory &&
      (r.capabilities.cores ?? 0) >= minCores,
  );
  if (fitting.length === 0) {
    if (run.requires_gpu) return "No connected runner can run a GPU recipe (none trains on tfjs-node-gpu).";
    const wanted = [minMemory > 0 ? `${gibibytes(minMemory)} of memory` : undefined, minCores > 0 ? `${minCores} core${minCores === 1 ? "" : "s"}` : undefined];
    return `No connected runner meets the recipe's requirements (${wanted.filter((part) => part !== undefined).join(", ")}).`;
  }
  if (run.reproduces_run_id) {
    const [original] = await queryRows<{ owner_id: string }>(
      db,
      sql`select o.owner_id from run_attempts ra join runners o on o.id = ra.runner_id
           where ra.run_id = ${run.reproduces_run_id} order by ra.attempt desc limit 1`,
    );
    if (original) fitting = fitting.filter((r) => r.owner_id !== original.owner_id);
    if (fitting.length === 0) {
      return "A reproduction must run on a runner of another owner than the original's; none is connected.";
    }
  }
  const [ahead] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from runs where state = 'queued' and not_before <= now()
          and (created_at, id) < (${new Date(run.created_at)}, ${runId})`,
  );
  const n = ahead?.n ?? 0;
  return n === 0
    ? "Next in the queue: waiting for a runner to become free."
    : `${n} run${n === 1 ? "" : "s"} ahead in the queue; every fitting runner is busy.`;
}

/** Bytes in GiB as the recipe form shows them: "2 GiB", "2.5 GiB", "0.001 GiB". */
function gibibytes(bytes: number): string {
  return `${Number((bytes / 2 ** 30).toFixed(3))} GiB`;
}

/** Highest stored progress seq of each attempt (what a reconnecting runner is acked). */
export async function lastSeqOf(db: Db, refs: AttemptRef[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  if (refs.length === 0) return result;
  const rows = await db
    .select({ runId: runAttempts.runId, attempt: runAttempts.attempt, lastSeq: runAttempts.lastSeq })
    .from(runAttempts)
    .where(inArray(runAttempts.runId, refs.map((r) => r.runId)));
  for (const row of rows) result.set(`${row.runId}/${row.attempt}`, row.lastSeq);
  return result;
}

/** Whether any queued run's backoff is over: idle runners only try to claim when one is. */
export async function hasClaimableRuns(db: Db): Promise<boolean> {
  const rows = await queryRows<{ one: number }>(db, sql`select 1 as one from runs where state = 'queued' and not_before <= now() limit 1`);
  return rows.length > 0;
}

/** Tells every instance that runs were queued, so idle runners claim at once instead of at the next poll. */
export async function announceQueuedRuns(db: Db): Promise<void> {
  await publishFleetEvent(db, { type: "queue-changed" });
}
