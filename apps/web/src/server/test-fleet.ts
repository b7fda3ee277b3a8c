// Fixtures for fleet tests: users, a registered runner, a variant/recipe pair and queued
// runs, made through the real services (no rows written behind their back).
import { createRecipe, createTaskVariant, type Db } from "@transcend/db";
import { inArray } from "drizzle-orm";
import { runStateTransitions, runs, users } from "@transcend/db/schema";
import { recipePresets, type RunnerCapabilities } from "@transcend/protocol";
import { presets } from "@transcend/tasks";
import { ACTIVE_RUN_STATES, cancelRun } from "./services/queue";
import { createRegistrationToken, registerRunner } from "./services/runners";

export const testCapabilities: RunnerCapabilities = { backend: "wasm", device: "test CPU", cores: 2, memoryBytes: 2 ** 30 };

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export async function createUser(db: Db, prefix = "user"): Promise<string> {
  const id = unique(prefix);
  await db.insert(users).values({ id, name: id, email: `${id}@example.com` });
  return id;
}

export async function createRunner(db: Db, ownerId: string, name = "test runner"): Promise<{ runnerId: string; credential: string; ownerId: string }> {
  const { token } = await createRegistrationToken(db, { ownerId });
  const { runnerId, credential } = await registerRunner(db, { token, name });
  return { runnerId, credential, ownerId };
}

export async function createVariantAndRecipe(
  db: Db,
  ownerId: string,
  recipeSpec: Record<string, unknown> = {},
): Promise<{ variantId: string; recipeId: string }> {
  const variant = await createTaskVariant(db, { ownerId, spec: { slug: unique("variant"), family: "string-ops" } });
  const recipe = await createRecipe(db, { ownerId, spec: { slug: unique("recipe"), ...recipeSpec } });
  return { variantId: variant.id, recipeId: recipe.id };
}

/** Queues `count` runs (each with its `queued` transition), oldest first. */
export async function queueRuns(
  db: Db,
  input: { submitterId: string; variantId: string; recipeId: string; count: number; reproducesRunId?: string; createdAt?: (i: number) => Date },
): Promise<string[]> {
  const values = Array.from({ length: input.count }, (_, i) => ({
    variantId: input.variantId,
    recipeId: input.recipeId,
    seed: i,
    submitterId: input.submitterId,
    reproducesRunId: input.reproducesRunId,
    createdAt: input.createdAt?.(i) ?? new Date(Date.now() - 1_000_000 + i),
  }));
  const ids: string[] = [];
  for (let start = 0; start < values.length; start += 500) {
    const inserted = await db.insert(runs).values(values.slice(start, start + 500)).returning({ id: runs.id });
    await db.insert(runStateTransitions).values(inserted.map((r) => ({ runId: r.id, toState: "queued" as const, reason: "submitted" })));
    ids.push(...inserted.map((r) => r.id));
  }
  return ids;
}

/**
 * A real preset variant and the `tiny` recipe with a small evaluation (few items, two
 * samples), so the real grader can grade a simulated runner's completions quickly.
 */
export async function createGradableVariantAndRecipe(
  db: Db,
  ownerId: string,
  recipeOverrides: Record<string, unknown> = {},
): Promise<{ variantId: string; recipeId: string; evalSplits: string[] }> {
  const preset = presets[0];
  if (!preset) throw new Error("no preset task variants");
  const variant = await createTaskVariant(db, { ownerId, spec: { ...preset, slug: unique("variant"), name: "test variant" } });
  const recipe = await createRecipe(db, {
    ownerId,
    spec: {
      ...recipePresets.tiny,
      slug: unique("recipe"),
      name: "test recipe",
      evaluation: { ...recipePresets.tiny.evaluation, itemsPerSplit: 3, samplesPerItem: 2, kValues: [1, 2] },
      ...recipeOverrides,
    },
  });
  return { variantId: variant.id, recipeId: recipe.id, evalSplits: [...preset.evalSplits] };
}

/** Cancels every run still queued or running, so one test's runs never reach the next test's runners. */
export async function cancelOpenRuns(db: Db): Promise<void> {
  const open = await db.select({ id: runs.id }).from(runs).where(inArray(runs.state, ["queued", ...ACTIVE_RUN_STATES]));
  for (const run of open) await cancelRun(db, { runId: run.id, reason: "test over" }).catch(() => undefined);
}
