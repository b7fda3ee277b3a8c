// A graded run's published results: statistics per split and model, the per-item
// base-vs-GRPO correct mass for the scatter, provenance, verification, and the per-item
// outcomes as JSON lines. Nothing is shown before the run is graded: until then items,
// outcomes and the evaluation seed are secrets of the grader.
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@transcend/db";
import {
  evaluationResults,
  recipes,
  runArtifacts,
  runAttempts,
  runners,
  runResults,
  runs,
  runVerifications,
  taskVariants,
  users,
} from "@transcend/db/schema";
import { itemOutcomeSchema, runStatisticsSchema, splitStatisticsSchema, type ItemOutcome } from "./statistics";

export const runResultsSchema = z.discriminatedUnion("graded", [
  z.object({ graded: z.literal(false) }),
  z.object({
    graded: z.literal(true),
    runId: z.string(),
    attempt: z.number().int(),
    seed: z.number().int(),
    /** The secret seed the evaluation items were drawn from, published once graded so anyone can regenerate them. */
    evalSeed: z.number().int(),
    splits: z.array(splitStatisticsSchema),
    oodGain: z.number().nullable(),
    idGain: z.number().nullable(),
    /** Per item and split: fraction of n samples correct under each model (the scatter's points). */
    items: z.array(z.object({ split: z.string(), id: z.string(), base: z.number(), grpo: z.number() })),
    /** The recipe's KL weight β, for the theoretical curve Q* = Q·e^{1/β} / (Q·e^{1/β} + 1 − Q). */
    klBeta: z.number().nullable(),
    provenance: z.object({
      variant: z.object({ slug: z.string(), version: z.number().int(), name: z.string() }),
      recipe: z.object({ slug: z.string(), version: z.number().int(), name: z.string() }),
      submitter: z.string(),
      runner: z.string().nullable(),
      backend: z.string().nullable(),
      device: z.string().nullable(),
      engineVersion: z.string().nullable(),
      checkpoints: z.record(z.string(), z.string()),
    }),
    /** Reproductions that agreed with this run, by the owner of the runner that ran them. */
    verifiedBy: z.array(z.object({ name: z.string(), runId: z.string() })),
    /** When this run is itself a reproduction: the run it reproduces. */
    reproducesRunId: z.string().nullable(),
    downloadUrl: z.string(),
  }),
]);
export type RunResults = z.infer<typeof runResultsSchema>;

const capabilitiesSchema = z.object({ backend: z.string().optional(), device: z.string().optional() });
const klBetaSchema = z.object({ grpo: z.object({ klBeta: z.number() }) });

/** The run, only when it is graded and has results from its current attempt. */
async function gradedRun(db: Db, runId: string) {
  const [row] = await db
    .select({
      runId: runs.id,
      attempt: runs.attempt,
      seed: runs.seed,
      evalSeed: runs.evalSeed,
      reproducesRunId: runs.reproducesRunId,
      statistics: runResults.statistics,
      oodGain: runResults.oodGain,
      idGain: runResults.idGain,
      variant: { slug: taskVariants.slug, version: taskVariants.version, name: taskVariants.name },
      variantSpec: taskVariants.spec,
      recipe: { slug: recipes.slug, version: recipes.version, name: recipes.name },
      recipeSpec: recipes.spec,
      submitter: users.name,
    })
    .from(runs)
    .innerJoin(runResults, and(eq(runResults.runId, runs.id), eq(runResults.attempt, runs.attempt)))
    .innerJoin(taskVariants, eq(taskVariants.id, runs.variantId))
    .innerJoin(recipes, eq(recipes.id, runs.recipeId))
    .innerJoin(users, eq(users.id, runs.submitterId))
    .where(and(eq(runs.id, runId), eq(runs.state, "graded")))
    .limit(1);
  return row;
}

interface PairedItem {
  split: string;
  id: string;
  n: number;
  base: ItemOutcome;
  grpo: ItemOutcome;
}

/** Base and GRPO outcomes of every item of the attempt, in evaluation-set order, split by split. */
async function pairedItems(db: Db, runId: string, attempt: number, splitOrder: readonly string[]): Promise<PairedItem[]> {
  const rows = await db
    .select({ model: evaluationResults.model, split: evaluationResults.split, items: evaluationResults.items, summary: evaluationResults.summary })
    .from(evaluationResults)
    .where(and(eq(evaluationResults.runId, runId), eq(evaluationResults.attempt, attempt)));
  const find = (model: string, split: string) => rows.find((row) => row.model === model && row.split === split);
  return splitOrder.flatMap((split) => {
    const [base, grpo] = [find("base", split), find("grpo", split)];
    if (base === undefined || grpo === undefined) return [];
    const n = z.object({ n: z.number().int().min(1) }).parse(base.summary).n;
    const grpoById = new Map(itemOutcomeSchema.array().parse(grpo.items).map((item) => [item.id, item]));
    return itemOutcomeSchema
      .array()
      .parse(base.items)
      .flatMap((item) => {
        const other = grpoById.get(item.id);
        return other === undefined ? [] : [{ split, id: item.id, n, base: item, grpo: other }];
      });
  });
}

/** A graded run's results, or `{ graded: false }` (also for unknown runs: nothing leaks either way). */
export async function runResultsView(db: Db, runId: string): Promise<RunResults> {
  const run = await gradedRun(db, runId);
  if (run === undefined) return { graded: false };
  const statistics = runStatisticsSchema.parse(run.statistics);
  const [items, attemptRows, checkpointRows, verifications] = await Promise.all([
    pairedItems(db, runId, run.attempt, statistics.splits.map((split) => split.split)),
    db
      .select({ capabilities: runAttempts.capabilities, engineVersion: runAttempts.engineVersion, runner: runners.name })
      .from(runAttempts)
      .leftJoin(runners, eq(runners.id, runAttempts.runnerId))
      .where(and(eq(runAttempts.runId, runId), eq(runAttempts.attempt, run.attempt)))
      .limit(1),
    db
      .select({ name: runArtifacts.name, sha256: runArtifacts.sha256 })
      .from(runArtifacts)
      .where(and(eq(runArtifacts.runId, runId), eq(runArtifacts.attempt, run.attempt))),
    db
      .select({ name: users.name, runId: runVerifications.verifierRunId })
      .from(runVerifications)
      .innerJoin(runs, and(eq(runs.id, runVerifications.verifierRunId), eq(runs.state, "graded")))
      .innerJoin(users, eq(users.id, runVerifications.verifiedBy))
      .where(eq(runVerifications.runId, runId)),
  ]);
  const attempt = attemptRows[0];
  const capabilities = capabilitiesSchema.safeParse(attempt?.capabilities ?? {});
  const klBeta = klBetaSchema.safeParse(run.recipeSpec);
  return {
    graded: true,
    runId,
    attempt: run.attempt,
    seed: run.seed,
    evalSeed: run.evalSeed,
    splits: statistics.splits,
    oodGain: run.oodGain,
    idGain: run.idGain,
    items: items.map((item) => ({ split: item.split, id: item.id, base: item.base.correct / item.n, grpo: item.grpo.correct / item.n })),
    klBeta: klBeta.success ? klBeta.data.grpo.klBeta : null,
    provenance: {
      variant: run.variant,
      recipe: run.recipe,
      submitter: run.submitter,
      runner: attempt?.runner ?? null,
      backend: capabilities.success ? (capabilities.data.backend ?? null) : null,
      device: capabilities.success ? (capabilities.data.device ?? null) : null,
      engineVersion: attempt?.engineVersion ?? null,
      checkpoints: Object.fromEntries(checkpointRows.map((row) => [row.name, row.sha256])),
    },
    verifiedBy: verifications,
    reproducesRunId: run.reproducesRunId,
    downloadUrl: runItemsUrl(runId),
  };
}

export const runItemsUrl = (runId: string) => `/api/runs/${runId}/items`;

/**
 * Every item's outcome under both models as JSON lines (one object per item and split),
 * or undefined when the run is not graded.
 */
export async function runItemLines(db: Db, runId: string): Promise<string[] | undefined> {
  const run = await gradedRun(db, runId);
  if (run === undefined) return undefined;
  const statistics = runStatisticsSchema.parse(run.statistics);
  const axisOf = new Map(statistics.splits.map((split) => [split.split, split.axis]));
  const items = await pairedItems(db, runId, run.attempt, statistics.splits.map((split) => split.split));
  return items.map((item) =>
    JSON.stringify({
      runId,
      attempt: run.attempt,
      split: item.split,
      axis: axisOf.get(item.split) ?? null,
      item: item.id,
      n: item.n,
      base: { greedyCorrect: item.base.greedyCorrect, correct: item.base.correct },
      grpo: { greedyCorrect: item.grpo.greedyCorrect, correct: item.grpo.correct },
    }),
  );
}
