// Test fixtures for grading, statistics and the leaderboard: a user, a preset task variant,
// a small recipe, runs, and an honest runner that answers through the real grader.
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "@transcend/db";
import { createRecipe, createTaskVariant } from "@transcend/db";
import { runAttempts, runners, runs, users, type EvaluatedModel } from "@transcend/db/schema";
import { recipeSchema, type RecipeInput } from "@transcend/protocol";
import { findPreset } from "@transcend/tasks";
import { evaluationSet, finalize, recordCompletions, referenceCompletions, type CompletionEntry } from "../server/services/grading";

export const TEST_EVALUATION = { itemsPerSplit: 8, samplesPerItem: 4, kValues: [1, 2, 4], maxNewTokens: 128 };

export async function createUser(db: Db, name = "user"): Promise<string> {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  await db.insert(users).values({ id, name, email: `${id}@example.com` });
  return id;
}

/** A copy of a preset variant under a fresh slug, owned by `ownerId`. */
export async function createVariant(db: Db, ownerId: string, preset = "string-ops-depth-zero", slug?: string) {
  const variant = findPreset(preset);
  if (variant === undefined) throw new Error(`no preset ${preset}`);
  return createTaskVariant(db, { ownerId, spec: { ...variant, slug: slug ?? `${preset}-${randomUUID().slice(0, 8)}` } });
}

export async function createTestRecipe(db: Db, ownerId: string, overrides: RecipeInput = {}, slug?: string) {
  const recipe = recipeSchema.parse({ evaluation: TEST_EVALUATION, ...overrides });
  return createRecipe(db, { ownerId, spec: { ...recipe, slug: slug ?? `recipe-${randomUUID().slice(0, 8)}` } });
}

export const TEST_CAPABILITIES = {
  backend: "wasm",
  device: "Test CPU (2 cores)",
  cores: 2,
  memoryBytes: 8 * 2 ** 30,
  matmul: { gflops: 12.5, path: "wasm SIMD" },
};

/** A registered runner of `ownerId`. */
export async function createRunner(db: Db, ownerId: string, name = "test-runner"): Promise<string> {
  const [runner] = await db
    .insert(runners)
    .values({ ownerId, name, credentialHash: randomUUID(), capabilities: TEST_CAPABILITIES })
    .returning({ id: runners.id });
  if (runner === undefined) throw new Error("runner not inserted");
  return runner.id;
}

/** A run in its first attempt, evaluating (on `runnerId` when given, with its provenance). */
export async function createRun(
  db: Db,
  input: { variantId: string; recipeId: string; submitterId: string; seed?: number; reproducesRunId?: string; runnerId?: string },
) {
  const [run] = await db
    .insert(runs)
    .values({
      variantId: input.variantId,
      recipeId: input.recipeId,
      submitterId: input.submitterId,
      seed: input.seed ?? 1,
      reproducesRunId: input.reproducesRunId,
      state: "evaluating_base",
      attempt: 1,
    })
    .returning();
  if (run === undefined) throw new Error("run not inserted");
  if (input.runnerId !== undefined) {
    await db.insert(runAttempts).values({
      runId: run.id,
      attempt: 1,
      runnerId: input.runnerId,
      capabilities: TEST_CAPABILITIES,
      engineVersion: "0.1.0-test",
    });
  }
  return run;
}

export async function markGraded(db: Db, runId: string): Promise<void> {
  await db.update(runs).set({ state: "graded", finishedAt: new Date() }).where(eq(runs.id, runId));
}

/**
 * How an honest runner's model does on one item: `greedy` whether its greedy completion is
 * right, `correct` how many of the n samples are. Items are numbered in evaluation-set order.
 */
export type Skill = (index: number) => { greedy: boolean; correct: number };

/** A completion that is well formed and wrong for any string-ops, graph or mod-arith prompt. */
export const WRONG_COMPLETION = ["<answer>", "<eos>"];

/**
 * Asks for one split's items and answers them through the grader as a runner would, in
 * chunks of `chunk` entries, using the server's reference answers where `skill` says the
 * model is right. Returns what the grader said after the last chunk.
 */
export async function answerSplit(
  db: Db,
  ref: { runId: string; attempt: number; model: EvaluatedModel; split: string },
  skill: Skill,
  chunk = 7,
): Promise<{ splitGraded: boolean; ids: string[] }> {
  const set = await evaluationSet(db, ref);
  const answers = await referenceCompletions(db, ref);
  const entries: CompletionEntry[] = [];
  set.items.forEach((item, index) => {
    const right = answers.get(item.id);
    if (right === undefined) throw new Error("no reference");
    const { greedy, correct } = skill(index);
    entries.push({ itemId: item.id, sample: 0, tokens: greedy ? right : WRONG_COMPLETION });
    for (let sample = 1; sample <= set.samplesPerItem; sample++) {
      entries.push({ itemId: item.id, sample, tokens: sample <= correct ? right : WRONG_COMPLETION });
    }
  });
  let last = { splitGraded: false };
  for (let start = 0; start < entries.length; start += chunk) {
    last = await recordCompletions(db, { ...ref, entries: entries.slice(start, start + chunk) });
  }
  return { splitGraded: last.splitGraded, ids: set.items.map((item) => item.id) };
}

/** Answers every evaluated split of both models; `skills[model][split]` defaults to all wrong. */
export async function answerAll(
  db: Db,
  run: { id: string; attempt: number },
  splits: readonly string[],
  skills: Partial<Record<EvaluatedModel, Record<string, Skill>>>,
): Promise<void> {
  for (const model of ["base", "grpo"] as const) {
    for (const split of splits) {
      const skill = skills[model]?.[split] ?? (() => ({ greedy: false, correct: 0 }));
      const { splitGraded } = await answerSplit(db, { runId: run.id, attempt: run.attempt, model, split }, skill);
      if (!splitGraded) throw new Error(`${model}/${split} not graded`);
    }
  }
}

/** Answers every split, finalizes and marks the run graded, as the gateway does after `finished`. */
export async function gradeRun(
  db: Db,
  run: { id: string; attempt: number },
  splits: readonly string[],
  skills: Partial<Record<EvaluatedModel, Record<string, Skill>>>,
): Promise<void> {
  await answerAll(db, run, splits, skills);
  const result = await finalize(db, { runId: run.id, attempt: run.attempt });
  if (!result.ok) throw new Error(result.reason);
  await markGraded(db, run.id);
}

/** A model that gets the first `right` items of a split right, greedy and all n samples. */
export const firstRight =
  (right: number, n: number): Skill =>
  (index) =>
    index < right ? { greedy: true, correct: n } : { greedy: false, correct: 0 };
