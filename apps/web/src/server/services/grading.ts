// Server-side grading (DESIGN.md §2.2). Runners are untrusted: the server generates every
// evaluated split's items from the run's secret `evalSeed`, sends prompts only, verifies
// the completions it gets back with the family's verifier against its OWN prompts, and
// stores one `evaluation_results` row per (attempt, model, split) once every item has its
// greedy completion and n samples. Nothing a runner says about its own accuracy is read.
//
// Per-item counters live in memory, per process: a runner re-sends a split's completions
// until it receives `graded`, so a restart loses nothing that will not come again.
import { createHmac } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@transcend/db";
import {
  evaluationResults,
  recipes,
  runAttempts,
  runners,
  runResults,
  runs,
  runVerifications,
  taskVariants,
  type EvaluatedModel,
} from "@transcend/db/schema";
import { recipeSchema, taskVariantSchema, type EvaluationRecipe, type TaskVariant } from "@transcend/protocol";
import { createRng, resolveVariant, type ResolvedVariant } from "@transcend/tasks";
import {
  compareModels,
  itemOutcomeSchema,
  runStatistics,
  runStatisticsSchema,
  splitSummarySchema,
  summariseSplit,
  wilsonInterval,
  type ItemOutcome,
  type RunStatistics,
  type SplitSummary,
} from "./statistics";

export type GradingErrorCode = "not_found" | "stale_attempt" | "closed" | "not_evaluated" | "invalid_spec";

/** A refused grading request, with a code the gateway maps to its refusal and a sentence for a person. */
export class GradingError extends Error {
  override name = "GradingError" as const;
  constructor(
    readonly code: GradingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const isGradingError = (error: unknown): error is GradingError => error instanceof GradingError;

export interface SplitRef {
  runId: string;
  attempt: number;
  model: EvaluatedModel;
  split: string;
}

export interface EvaluationSet {
  /** Sampled completions expected per item besides the greedy one (n). */
  samplesPerItem: number;
  items: { id: string; prompt: string[] }[];
}

export interface CompletionEntry {
  itemId: string;
  /** 0 is the greedy completion, 1..n the samples. */
  sample: number;
  tokens: string[];
}

// ── the run's evaluation context ───────────────────────────────────────────────

interface RunContext {
  runId: string;
  attempt: number;
  state: string;
  evalSeed: number;
  variant: TaskVariant;
  resolved: ResolvedVariant;
  evaluation: EvaluationRecipe;
}

const CLOSED_STATES = new Set(["failed", "cancelled"]);

// Variants and recipes are immutable once a run uses them, so their parsed form can be
// kept by row id for the life of the process.
const resolvedVariants = new Map<string, { variant: TaskVariant; resolved: ResolvedVariant }>();
const parsedEvaluations = new Map<string, EvaluationRecipe>();

async function loadRun(db: Db, runId: string, attempt: number): Promise<RunContext> {
  const [row] = await db
    .select({
      state: runs.state,
      attempt: runs.attempt,
      evalSeed: runs.evalSeed,
      variantId: runs.variantId,
      variantSpec: taskVariants.spec,
      recipeId: runs.recipeId,
      recipeSpec: recipes.spec,
    })
    .from(runs)
    .innerJoin(taskVariants, eq(taskVariants.id, runs.variantId))
    .innerJoin(recipes, eq(recipes.id, runs.recipeId))
    .where(eq(runs.id, runId))
    .limit(1);
  if (row === undefined) throw new GradingError("not_found", `There is no run ${runId}.`);
  if (row.attempt !== attempt) {
    throw new GradingError("stale_attempt", `Attempt ${attempt} of run ${runId} is not its current attempt (${row.attempt}).`);
  }
  if (CLOSED_STATES.has(row.state)) throw new GradingError("closed", `Run ${runId} is ${row.state}; it is no longer graded.`);

  let variant = resolvedVariants.get(row.variantId);
  if (variant === undefined) {
    const parsed = taskVariantSchema.safeParse(row.variantSpec);
    if (!parsed.success) throw new GradingError("invalid_spec", `The task variant of run ${runId} is not a valid variant.`);
    variant = { variant: parsed.data, resolved: resolveVariant(parsed.data) };
    resolvedVariants.set(row.variantId, variant);
  }
  let evaluation = parsedEvaluations.get(row.recipeId);
  if (evaluation === undefined) {
    const parsed = recipeSchema.safeParse(row.recipeSpec);
    if (!parsed.success) throw new GradingError("invalid_spec", `The recipe of run ${runId} is not a valid recipe.`);
    evaluation = parsed.data.evaluation;
    parsedEvaluations.set(row.recipeId, evaluation);
  }
  return { runId, attempt, state: row.state, evalSeed: row.evalSeed, ...variant, evaluation };
}

function assertEvaluated(context: RunContext, split: string): void {
  if (!context.variant.evalSplits.includes(split)) {
    throw new GradingError(
      "not_evaluated",
      `Split "${split}" is not evaluated by task variant ${context.variant.slug} (it evaluates ${context.variant.evalSplits.join(", ")}).`,
    );
  }
}

/** Items per evaluated split: the recipe's choice, else the variant's. */
export const itemsPerSplit = (variant: TaskVariant, evaluation: EvaluationRecipe) =>
  evaluation.itemsPerSplit ?? variant.evalItemsPerSplit;

interface GeneratedItem {
  id: string;
  prompt: string[];
  /** The reference completion: never leaves the server. */
  reference: string[];
}

/**
 * The split's items, a pure function of the secret seed, the run and the split: the same
 * for the base and the GRPO model and for every attempt. Each item has its own generator
 * (a fork by index), so item i does not depend on how many draws item i−1 took. Ids are an
 * HMAC keyed by the secret seed: a runner cannot guess them, and completions replayed from
 * another run name ids this run never sent.
 */
function generateItems(context: RunContext, split: string): GeneratedItem[] {
  const count = itemsPerSplit(context.variant, context.evaluation);
  const rng = createRng(`evaluation:${context.evalSeed}:${split}`);
  const key = `transcend-evaluation:${context.runId}:${context.evalSeed}`;
  const items: GeneratedItem[] = [];
  for (let index = 0; index < count; index++) {
    const example = context.resolved.sample(split, rng.fork(`item:${index}`));
    const id = createHmac("sha256", key).update(`${split}:${index}`).digest("base64url").slice(0, 22);
    items.push({ id, prompt: context.resolved.promptTokens(example), reference: context.resolved.completionTokens(example) });
  }
  return items;
}

/**
 * The prompts of one evaluated split for one model of one attempt. Refuses (GradingError)
 * unknown runs, stale attempts, closed runs and splits the variant does not evaluate.
 */
export async function evaluationSet(db: Db, ref: SplitRef): Promise<EvaluationSet> {
  const context = await loadRun(db, ref.runId, ref.attempt);
  assertEvaluated(context, ref.split);
  return {
    samplesPerItem: context.evaluation.samplesPerItem,
    items: generateItems(context, ref.split).map((item) => ({ id: item.id, prompt: item.prompt })),
  };
}

/**
 * The reference completion of every item of a split, by item id. Server side only, never
 * sent to a runner: tests and seeded demo data use it as an honest oracle.
 */
export async function referenceCompletions(db: Db, ref: SplitRef): Promise<Map<string, string[]>> {
  const context = await loadRun(db, ref.runId, ref.attempt);
  assertEvaluated(context, ref.split);
  return new Map(generateItems(context, ref.split).map((item) => [item.id, item.reference]));
}

// ── grading completions ────────────────────────────────────────────────────────

const UNSEEN = 0;
const WRONG = 1;
const CORRECT = 2;

interface SplitGrading {
  context: RunContext;
  ref: SplitRef;
  n: number;
  items: GeneratedItem[];
  indexById: Map<string, number>;
  /** items × (n + 1) verdicts, sample 0 (greedy) first: UNSEEN, WRONG or CORRECT. */
  verdicts: Uint8Array;
  /** Verdicts still UNSEEN; the split is complete at 0. */
  missing: number;
  /** Set once the result row is being written; later calls wait for it. */
  stored?: Promise<void>;
  touchedAt: number;
}

// Bounded so a flood of evaluation requests cannot grow memory without end; a state
// evicted mid-split is rebuilt from the runner's re-sends.
const MAX_SPLITS_IN_MEMORY = 256;
const gradings = new Map<string, Promise<SplitGrading>>();

const gradingKey = (ref: SplitRef) => `${ref.runId}:${ref.attempt}:${ref.model}:${ref.split}`;

function evictOldest(): void {
  if (gradings.size < MAX_SPLITS_IN_MEMORY) return;
  const oldest = gradings.keys().next();
  if (!oldest.done) gradings.delete(oldest.value);
}

async function openGrading(db: Db, ref: SplitRef): Promise<SplitGrading> {
  const context = await loadRun(db, ref.runId, ref.attempt);
  assertEvaluated(context, ref.split);
  const items = generateItems(context, ref.split);
  const n = context.evaluation.samplesPerItem;
  return {
    context,
    ref,
    n,
    items,
    indexById: new Map(items.map((item, index) => [item.id, index])),
    verdicts: new Uint8Array(items.length * (n + 1)),
    missing: items.length * (n + 1),
    touchedAt: Date.now(),
  };
}

async function resultExists(db: Db, ref: SplitRef): Promise<boolean> {
  const [row] = await db
    .select({ id: evaluationResults.id })
    .from(evaluationResults)
    .where(
      and(
        eq(evaluationResults.runId, ref.runId),
        eq(evaluationResults.attempt, ref.attempt),
        eq(evaluationResults.model, ref.model),
        eq(evaluationResults.split, ref.split),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** Whether one completion answers the server's prompt; a completion the verifier cannot read is wrong. */
function isCorrect(grading: SplitGrading, prompt: readonly string[], tokens: readonly string[]): boolean {
  // Longer than the recipe lets a model write: not what the model under test produced.
  if (tokens.length > grading.context.evaluation.maxNewTokens) return false;
  try {
    return grading.context.resolved.verify(prompt, tokens) >= 1;
  } catch {
    return false;
  }
}

function outcomes(grading: SplitGrading): ItemOutcome[] {
  const stride = grading.n + 1;
  return grading.items.map((item, index) => {
    let correct = 0;
    for (let sample = 1; sample <= grading.n; sample++) {
      if (grading.verdicts[index * stride + sample] === CORRECT) correct++;
    }
    return { id: item.id, greedyCorrect: grading.verdicts[index * stride] === CORRECT, correct };
  });
}

async function storeResult(db: Db, grading: SplitGrading): Promise<void> {
  const items = outcomes(grading);
  const summary: SplitSummary = summariseSplit(items, grading.n, grading.context.evaluation.kValues);
  await db
    .insert(evaluationResults)
    .values({ ...grading.ref, itemCount: items.length, items, summary })
    // Grading is idempotent: a second process that graded the same split wrote the same row.
    .onConflictDoNothing({
      target: [evaluationResults.runId, evaluationResults.attempt, evaluationResults.model, evaluationResults.split],
    });
}

/**
 * Grades a chunk of completions. Entries for items this run never sent, samples beyond n
 * and repeats of a (item, sample) already graded are ignored: the first completion of a
 * sample is the one that counts. Returns `splitGraded: true` once the split's result row is
 * stored (also for chunks re-sent after that), so the gateway can answer `graded`.
 */
export async function recordCompletions(
  db: Db,
  input: SplitRef & { entries: readonly CompletionEntry[] },
): Promise<{ splitGraded: boolean }> {
  const ref: SplitRef = { runId: input.runId, attempt: input.attempt, model: input.model, split: input.split };
  const key = gradingKey(ref);
  let pending = gradings.get(key);
  if (pending === undefined) {
    // After a restart or an eviction the row may already be there.
    if (await resultExists(db, ref)) return { splitGraded: true };
    pending = gradings.get(key);
    if (pending === undefined) {
      evictOldest();
      pending = openGrading(db, ref);
      gradings.set(key, pending);
      // A refused request must not stay cached as a rejected promise.
      pending.catch(() => gradings.delete(key));
    }
  }
  const grading = await pending;
  grading.touchedAt = Date.now();
  // Re-inserted so the Map's order stays least-recently-used first.
  gradings.delete(key);
  gradings.set(key, pending);

  if (grading.stored === undefined) {
    const stride = grading.n + 1;
    for (const entry of input.entries) {
      const index = grading.indexById.get(entry.itemId);
      if (index === undefined || entry.sample < 0 || entry.sample > grading.n) continue;
      const slot = index * stride + entry.sample;
      if (grading.verdicts[slot] !== UNSEEN) continue;
      const item = grading.items[index];
      if (item === undefined) continue;
      grading.verdicts[slot] = isCorrect(grading, item.prompt, entry.tokens) ? CORRECT : WRONG;
      grading.missing--;
    }
    if (grading.missing > 0) return { splitGraded: false };
    grading.stored = storeResult(db, grading);
    grading.stored.catch(() => {
      // Writing failed (database down): forget the state so the re-sent split grades again.
      gradings.delete(key);
    });
  }
  await grading.stored;
  return { splitGraded: true };
}

/** Drops in-memory grading state of a run (e.g. when it is cancelled); results already stored stay. */
export function forgetRun(runId: string): void {
  for (const key of [...gradings.keys()]) if (key.startsWith(`${runId}:`)) gradings.delete(key);
}

// ── finishing a run ────────────────────────────────────────────────────────────

const MODELS: readonly EvaluatedModel[] = ["base", "grpo"];

/** Splits × models of the attempt that have no stored result yet. */
export async function missingResults(db: Db, runId: string, attempt: number): Promise<{ model: EvaluatedModel; split: string }[]> {
  const context = await loadRun(db, runId, attempt);
  const stored = await db
    .select({ model: evaluationResults.model, split: evaluationResults.split })
    .from(evaluationResults)
    .where(and(eq(evaluationResults.runId, runId), eq(evaluationResults.attempt, attempt)));
  const have = new Set(stored.map((row) => `${row.model}:${row.split}`));
  return MODELS.flatMap((model) =>
    context.variant.evalSplits.filter((split) => !have.has(`${model}:${split}`)).map((split) => ({ model, split })),
  );
}

/** The attempt's statistics from its stored results (every split of both models must be graded). */
async function computeRunStatistics(db: Db, context: RunContext): Promise<RunStatistics> {
  const rows = await db
    .select({ model: evaluationResults.model, split: evaluationResults.split, items: evaluationResults.items, summary: evaluationResults.summary })
    .from(evaluationResults)
    .where(and(eq(evaluationResults.runId, context.runId), eq(evaluationResults.attempt, context.attempt)));
  const parsed = (model: EvaluatedModel, split: string) => {
    const row = rows.find((candidate) => candidate.model === model && candidate.split === split);
    if (row === undefined) throw new Error(`run ${context.runId}: no ${model}/${split} result`);
    return { summary: splitSummarySchema.parse(row.summary), items: itemOutcomeSchema.array().parse(row.items) };
  };
  const axisOf = new Map(context.variant.splits.map((split) => [split.name, split.axis]));
  return runStatistics(
    context.variant.evalSplits.map((split) =>
      compareModels({ split, axis: axisOf.get(split) ?? "id", base: parsed("base", split), grpo: parsed("grpo", split) }),
    ),
  );
}

export type FinalizeResult = { ok: true } | { ok: false; reason: string };

/**
 * Whether the attempt may become `graded`: only when the server graded every evaluated
 * split of both models. A runner that reports `finished` without having its completions
 * graded gets a reason instead, and nothing of it is published.
 */
export async function finalize(db: Db, input: { runId: string; attempt: number }): Promise<FinalizeResult> {
  let missing: { model: EvaluatedModel; split: string }[];
  try {
    missing = await missingResults(db, input.runId, input.attempt);
  } catch (error) {
    if (isGradingError(error)) return { ok: false, reason: error.message };
    throw error;
  }
  if (missing.length > 0) {
    const list = missing.map((entry) => `${entry.model}/${entry.split}`).join(", ");
    return { ok: false, reason: `The server has not graded ${list}: the runner finished without sending every completion.` };
  }
  const context = await loadRun(db, input.runId, input.attempt);
  const statistics = await computeRunStatistics(db, context);
  const values = { attempt: input.attempt, statistics, oodGain: statistics.oodGain, idGain: statistics.idGain };
  await db
    .insert(runResults)
    .values({ runId: input.runId, ...values })
    // A later attempt replaces an earlier one's numbers, never the other way round.
    .onConflictDoUpdate({ target: runResults.runId, set: values, setWhere: sql`${runResults.attempt} <= ${input.attempt}` });
  forgetRun(input.runId);
  await checkVerification(db, input.runId);
  return { ok: true };
}

// ── verification ───────────────────────────────────────────────────────────────

export type VerificationResult = { verified: true; verifiedBy: string } | { verified: false; reason: string };

async function attemptOwner(db: Db, runId: string, attempt: number): Promise<{ ownerId: string; runnerId: string } | undefined> {
  const [row] = await db
    .select({ ownerId: runners.ownerId, runnerId: runners.id })
    .from(runAttempts)
    .innerJoin(runners, eq(runners.id, runAttempts.runnerId))
    .where(and(eq(runAttempts.runId, runId), eq(runAttempts.attempt, attempt)))
    .limit(1);
  return row;
}

async function storedStatistics(db: Db, runId: string): Promise<{ attempt: number; statistics: RunStatistics } | undefined> {
  const [row] = await db
    .select({ attempt: runResults.attempt, statistics: runResults.statistics, runAttempt: runs.attempt })
    .from(runResults)
    .innerJoin(runs, eq(runs.id, runResults.runId))
    .where(eq(runResults.runId, runId))
    .limit(1);
  // Numbers of a superseded attempt are not the run's.
  if (row === undefined || row.attempt !== row.runAttempt) return undefined;
  return { attempt: row.attempt, statistics: runStatisticsSchema.parse(row.statistics) };
}

/**
 * When `runId` reproduces another run (same variant, recipe and seed, on a runner of a
 * different owner) and is graded, marks the original verified if, on every evaluated split,
 * both models' greedy accuracies fall inside the original's 95% interval (Wilson, over the
 * original's items: a reproduction draws fresh items from its own secret seed, so that is
 * the noise it must be within). Idempotent; the finalizer calls it, the gateway may too.
 */
export async function checkVerification(db: Db, runId: string): Promise<VerificationResult> {
  const [run] = await db
    .select({ reproducesRunId: runs.reproducesRunId, state: runs.state, variantId: runs.variantId, recipeId: runs.recipeId, seed: runs.seed })
    .from(runs)
    .where(eq(runs.id, runId))
    .limit(1);
  if (run?.reproducesRunId == null) return { verified: false, reason: "The run reproduces no other run." };
  if (CLOSED_STATES.has(run.state)) return { verified: false, reason: `The reproduction is ${run.state}.` };
  const [original] = await db
    .select({ state: runs.state, variantId: runs.variantId, recipeId: runs.recipeId, seed: runs.seed })
    .from(runs)
    .where(eq(runs.id, run.reproducesRunId))
    .limit(1);
  if (original?.state !== "graded") return { verified: false, reason: "The original run is not graded." };
  if (original.variantId !== run.variantId || original.recipeId !== run.recipeId || original.seed !== run.seed) {
    return { verified: false, reason: "The reproduction does not use the original's variant, recipe and seed." };
  }
  const [mine, theirs] = [await storedStatistics(db, runId), await storedStatistics(db, run.reproducesRunId)];
  if (mine === undefined || theirs === undefined) return { verified: false, reason: "Both runs need server-graded results." };
  const [verifier, author] = [await attemptOwner(db, runId, mine.attempt), await attemptOwner(db, run.reproducesRunId, theirs.attempt)];
  if (verifier === undefined || author === undefined) return { verified: false, reason: "Both runs need a known runner." };
  if (verifier.ownerId === author.ownerId) {
    return { verified: false, reason: "A reproduction only verifies on a runner of a different owner." };
  }

  const comparisons = theirs.statistics.splits.flatMap((split) =>
    (["base", "grpo"] as const).map((model) => {
      const reference = split[model];
      const bounds = wilsonInterval(Math.round(reference.greedyAccuracy * reference.items), reference.items);
      const value = mine.statistics.splits.find((candidate) => candidate.split === split.split)?.[model].greedyAccuracy;
      return { split: split.split, model, value: value ?? null, ...bounds };
    }),
  );
  const outside = comparisons.filter((entry) => entry.value === null || entry.value < entry.lower || entry.value > entry.upper);
  if (outside.length > 0) {
    const list = outside.map((entry) => `${entry.model}/${entry.split}`).join(", ");
    return { verified: false, reason: `The reproduction falls outside the original's interval on ${list}.` };
  }
  await db
    .insert(runVerifications)
    .values({
      runId: run.reproducesRunId,
      verifierRunId: runId,
      verifiedBy: verifier.ownerId,
      runnerId: verifier.runnerId,
      details: { metric: "greedyAccuracy", interval: "wilson95", comparisons },
    })
    .onConflictDoNothing();
  return { verified: true, verifiedBy: verifier.ownerId };
}
