import { randomInt } from "node:crypto";
import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  uuid,
  type AnyPgColumn,
} from "drizzle-orm/pg-core";
import { RUN_STATES } from "@transcend/protocol";
import { createdAt, timestamptz, updatedAt } from "./columns";
import { recipes } from "./recipes";
import { runners } from "./runners";
import { taskVariants } from "./task-variants";
import { users } from "./users";

export { RUN_STATES, TERMINAL_RUN_STATES, type RunState } from "@transcend/protocol";
export const runState = pgEnum("run_state", RUN_STATES);

/** A uniformly random uint32, drawn from the OS's CSPRNG so a runner cannot predict it. */
export const newEvaluationSeed = () => randomInt(0, 2 ** 32);

// A run is (task variant version, recipe version, seed). It is also the queue entry:
// the lease columns say which runner holds the current attempt and until when, and
// `not_before` delays a re-queued run (backoff after a lost lease).
export const runs = pgTable(
  "runs",
  {
    id: uuid().primaryKey().defaultRandom(),
    variantId: uuid()
      .notNull()
      .references(() => taskVariants.id),
    recipeId: uuid()
      .notNull()
      .references(() => recipes.id),
    seed: integer().notNull(),
    state: runState().notNull().default("queued"),
    // Number of the current (or last) attempt; 0 until first claimed. Every runner
    // message carries it, so a message from a superseded attempt is recognisable.
    attempt: integer().notNull().default(0),
    leaseRunnerId: uuid().references(() => runners.id, { onDelete: "set null" }),
    leaseExpiresAt: timestamptz(),
    notBefore: timestamptz().notNull().defaultNow(),
    // Seeds the server-generated evaluation items. Never sent to a runner, never shown
    // before the run is graded: runners are untrusted (DESIGN.md §2.2).
    evalSeed: bigint({ mode: "number" }).notNull().$defaultFn(newEvaluationSeed),
    submitterId: text()
      .notNull()
      .references(() => users.id),
    // Set on a "Reproduce" run: the run whose numbers it is meant to confirm on a
    // runner of a different owner.
    reproducesRunId: uuid().references((): AnyPgColumn => runs.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: timestamptz(),
  },
  (t) => [
    // Queue claim order: oldest eligible queued run first; partial so the index holds
    // only the (few) queued rows however large the history grows.
    index("runs_queue_idx").on(t.createdAt, t.id).where(sql`${t.state} = 'queued'`),
    // Fair order across users: each submitter's oldest queued run.
    index("runs_queue_submitter_idx").on(t.submitterId, t.createdAt).where(sql`${t.state} = 'queued'`),
    // The sweeper looks for leases that ran out.
    index("runs_lease_expires_idx").on(t.leaseExpiresAt).where(sql`${t.leaseExpiresAt} is not null`),
    index("runs_lease_runner_id_idx").on(t.leaseRunnerId),
    index("runs_variant_recipe_idx").on(t.variantId, t.recipeId),
    index("runs_recipe_id_idx").on(t.recipeId),
    // "My runs" pages and per-day submission quotas.
    index("runs_submitter_created_idx").on(t.submitterId, t.createdAt),
    index("runs_reproduces_run_id_idx").on(t.reproducesRunId),
    // The leaderboard caches its pages until a run ends: max(finished_at) is part of the key
    // (updated_at would not do: every heartbeat renews a lease and bumps it).
    index("runs_finished_at_idx").on(t.finishedAt),
    check("runs_attempt_nonnegative", sql`${t.attempt} >= 0`),
  ],
);

export const ATTEMPT_OUTCOMES = ["running", "succeeded", "failed", "lease_expired", "cancelled"] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
export const attemptOutcome = pgEnum("attempt_outcome", ATTEMPT_OUTCOMES);

// One row per claim of a run: who ran it, on what, and how it ended. Provenance for
// the leaderboard (backend, device, engine version) comes from here.
export const runAttempts = pgTable(
  "run_attempts",
  {
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    attempt: integer().notNull(),
    runnerId: uuid()
      .notNull()
      .references(() => runners.id),
    // Hash of the per-attempt token that authorises artifact uploads for this attempt.
    tokenHash: text().unique("run_attempts_token_hash_key"),
    outcome: attemptOutcome().notNull().default("running"),
    error: text(),
    // Snapshot of the runner's capabilities when it claimed the run; the runner row
    // may change later, the provenance of this attempt must not.
    capabilities: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    engineVersion: text(),
    // Highest progress `seq` stored, so replays after a reconnect are dropped.
    lastSeq: integer().notNull().default(0),
    startedAt: createdAt(),
    endedAt: timestamptz(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.attempt] }),
    index("run_attempts_runner_id_idx").on(t.runnerId, t.startedAt),
  ],
);

// The run's history: every state change with its time and reason, so a user can
// always see where a run is and why.
export const runStateTransitions = pgTable(
  "run_state_transitions",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    attempt: integer().notNull().default(0),
    at: timestamptz().notNull().defaultNow(),
    // Null for the creation of the run.
    fromState: runState(),
    toState: runState().notNull(),
    reason: text().notNull().default(""),
  },
  (t) => [index("run_state_transitions_run_id_idx").on(t.runId, t.id)],
);

// Runner logs, appended by byte offset: a chunk re-sent after a reconnect hits the
// primary key and is ignored.
export const runLogChunks = pgTable(
  "run_log_chunks",
  {
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    attempt: integer().notNull(),
    offset: bigint({ mode: "number" }).notNull(),
    text: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.attempt, t.offset] })],
);
