import { index, integer, jsonb, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { runs } from "./runs";

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
