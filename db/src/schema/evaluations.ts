import { doublePrecision, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { runners } from "./runners";
import { runs } from "./runs";
import { users } from "./users";

export const EVALUATED_MODELS = ["base", "grpo"] as const;
export type EvaluatedModel = (typeof EVALUATED_MODELS)[number];
export const evaluatedModel = pgEnum("evaluated_model", EVALUATED_MODELS);

// Server-graded results of one model of one run on one split. `items` holds every
// item's outcome (greedy verdict, correct count out of n samples, …) so the
// leaderboard can compute pass@k, correct mass and novel solves, and users can
// download them; `summary` caches the per-split aggregates. Shapes belong to the
// grading service.
export const evaluationResults = pgTable(
  "evaluation_results",
  {
    id: uuid().primaryKey().defaultRandom(),
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    attempt: integer().notNull(),
    model: evaluatedModel().notNull(),
    split: text().notNull(),
    itemCount: integer().notNull(),
    items: jsonb().$type<Array<Record<string, unknown>>>().notNull(),
    summary: jsonb().$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // Grading is idempotent: one result per attempt, model and split.
    uniqueIndex("evaluation_results_run_attempt_model_split_key").on(t.runId, t.attempt, t.model, t.split),
    index("evaluation_results_run_id_idx").on(t.runId),
  ],
);

// A finished run's statistics (per split: both models, origin ceiling, novel solves, gain),
// computed once when the grader finalizes an attempt, so the leaderboard reads one small
// row per run instead of every item. The headline gains are columns so the overview can
// aggregate them in SQL. Written by the grading service; the shape is its own.
export const runResults = pgTable(
  "run_results",
  {
    runId: uuid()
      .primaryKey()
      .references(() => runs.id, { onDelete: "cascade" }),
    // The attempt these numbers come from; only the run's current attempt is shown.
    attempt: integer().notNull(),
    statistics: jsonb().$type<Record<string, unknown>>().notNull(),
    /** Mean greedy-accuracy gain (GRPO − base) over the OOD splits; null without OOD splits. */
    oodGain: doublePrecision(),
    idGain: doublePrecision(),
    createdAt: createdAt(),
  },
);

// A reproduction that agreed with the run it reproduces: the original's leaderboard row is
// "verified by" the owner of the runner that ran the reproduction.
export const runVerifications = pgTable(
  "run_verifications",
  {
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    verifierRunId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    verifiedBy: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    runnerId: uuid().references(() => runners.id, { onDelete: "set null" }),
    // What was compared and how (per split and model: reproduction value, original interval).
    details: jsonb().$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.verifierRunId] }), index("run_verifications_verifier_run_id_idx").on(t.verifierRunId)],
);
