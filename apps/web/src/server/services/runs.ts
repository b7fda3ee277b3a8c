// Runs as people submit and follow them: submission (N seeds → N queued runs, within a
// daily quota), the list with filters, one run's page (timeline, why it waits, curves,
// logs), and "Reproduce". The queue itself (claims, leases, transitions, cancel) is
// services/queue.ts; grading and results are services/grading.ts and run-results.ts.
import { and, avg, count, desc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Db } from "@transcend/db";
import {
  RUN_STATES,
  artifacts,
  metrics,
  recipes,
  runArtifacts,
  runAttempts,
  runStateTransitions,
  runners,
  runs,
  taskVariants,
  users,
  type RunState,
} from "@transcend/db/schema";
import { estimateRecipeCompute, recipeSchema, type TaskVariant } from "@transcend/protocol";
import { resolveVariant } from "@transcend/tasks";
import { ServiceError } from "./errors";
import { findVersion, type VersionRef } from "./catalogue";
import { pageDirectionSchema } from "./paging";
import { queuedReason, readLog } from "./queue";
import { publishFleetEvent } from "./run-events";

export const MAX_SEEDS_PER_SUBMISSION = 32;
/** First key of the advisory lock that serialises one user's submissions (the second is the user). */
const SUBMIT_LOCK_CLASS = 74203;
const DAY_MS = 24 * 60 * 60 * 1000;

const versionRefOutput = z.object({ id: z.uuid(), slug: z.string(), version: z.number().int(), name: z.string() });

export const runSummarySchema = z.object({
  id: z.uuid(),
  state: z.enum(RUN_STATES),
  seed: z.number().int(),
  attempt: z.number().int(),
  variant: versionRefOutput,
  recipe: versionRefOutput,
  submitter: z.object({ id: z.string(), name: z.string() }),
  reproducesRunId: z.uuid().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  finishedAt: z.date().nullable(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

// ── submission ──────────────────────────────────────────────────────────────────

export interface SubmitInput {
  submitterId: string;
  variant: VersionRef;
  recipe: VersionRef;
  /** Explicit seeds, or how many (seeds 1…count); neither: the recipe's own seeds. */
  seeds?: number[] | undefined;
  seedCount?: number | undefined;
  dailyQuota: number;
  reproducesRunId?: string | undefined;
  now?: Date;
}

export const submitResultSchema = z.object({
  runs: z.array(z.object({ id: z.uuid(), seed: z.number().int() })),
  /** 1 = next to be claimed (of the first new run), counting every queued run ahead. */
  queuePosition: z.number().int().min(1),
  /** Rough seconds until the last new run is done; null when nothing is known to estimate with. */
  etaSeconds: z.number().nullable(),
  /** How the ETA was made, in a sentence for the submit page. */
  etaBasis: z.string(),
  /** Submissions left in the caller's rolling 24 hours. */
  quotaRemaining: z.number().int().min(0),
});
export type SubmitResult = z.infer<typeof submitResultSchema>;

export async function submitRuns(db: Db, input: SubmitInput): Promise<SubmitResult> {
  const now = input.now ?? new Date();
  const variant = await findVersion(db, "task_variant", input.variant);
  const recipe = await findVersion(db, "recipe", input.recipe);
  const recipeSpec = recipeSchema.parse(recipe.spec);
  const seeds =
    input.seeds !== undefined
      ? [...new Set(input.seeds)]
      : input.seedCount !== undefined
        ? Array.from({ length: input.seedCount }, (_, index) => index + 1)
        : recipeSpec.seeds;
  if (seeds.length === 0 || seeds.length > MAX_SEEDS_PER_SUBMISSION) {
    throw new ServiceError("invalid", `Submit 1 to ${MAX_SEEDS_PER_SUBMISSION} seeds at a time.`);
  }

  const created = await db.transaction(async (tx) => {
    // Two submissions by one user at once must not both pass the quota check.
    await tx.execute(sql`select pg_advisory_xact_lock(${SUBMIT_LOCK_CLASS}, hashtext(${input.submitterId}))`);
    const since = new Date(now.getTime() - DAY_MS);
    const [used] = await tx
      .select({ n: count(), oldest: sql<Date | string | null>`min(${runs.createdAt})` })
      .from(runs)
      .where(and(eq(runs.submitterId, input.submitterId), gt(runs.createdAt, since)));
    const usedCount = used?.n ?? 0;
    if (usedCount + seeds.length > input.dailyQuota) {
      const left = Math.max(0, input.dailyQuota - usedCount);
      const oldest = used?.oldest ? new Date(used.oldest) : now;
      const frees = new Date(oldest.getTime() + DAY_MS).toISOString().slice(0, 16).replace("T", " ");
      throw new ServiceError(
        "quota",
        `Daily run quota reached: you submitted ${usedCount} of ${input.dailyQuota} runs in the last 24 hours, ` +
          `so ${left === 0 ? "no more runs" : `only ${left} more run${left === 1 ? "" : "s"}`} can be submitted now` +
          `${left === 0 ? `; the next slot frees at ${frees} UTC` : ""}.`,
      );
    }
    const rows = await tx
      .insert(runs)
      .values(
        seeds.map((seed) => ({
          variantId: variant.id,
          recipeId: recipe.id,
          seed,
          submitterId: input.submitterId,
          reproducesRunId: input.reproducesRunId ?? null,
          createdAt: now,
          notBefore: now,
        })),
      )
      .returning({ id: runs.id, seed: runs.seed, createdAt: runs.createdAt });
    const reason = input.reproducesRunId ? `Submitted to reproduce run ${input.reproducesRunId}` : "Submitted";
    await tx.insert(runStateTransitions).values(rows.map((row) => ({ runId: row.id, at: now, fromState: null, toState: "queued" as const, reason })));
    // Idle runners on every instance may claim now.
    await publishFleetEvent(tx, { type: "queue-changed" });
    return { rows, quotaRemaining: input.dailyQuota - usedCount - rows.length };
  });

  const first = created.rows[0];
  if (first === undefined) throw new Error("submitRuns inserted no run");
  const [ahead] = await db
    .select({ n: count() })
    .from(runs)
    .where(and(eq(runs.state, "queued"), or(lt(runs.createdAt, first.createdAt), and(eq(runs.createdAt, first.createdAt), lt(runs.id, first.id)))));
  const queuePosition = (ahead?.n ?? 0) + 1;
  const eta = await estimateWait(db, {
    recipeId: recipe.id,
    runsToFinish: queuePosition - 1 + created.rows.length,
    recipe: recipeSpec,
    variant: variant.spec as TaskVariant,
  });
  return {
    runs: created.rows.map((row) => ({ id: row.id, seed: row.seed })),
    queuePosition,
    etaSeconds: eta.seconds,
    etaBasis: eta.basis,
    quotaRemaining: created.quotaRemaining,
  };
}

/** Runs `userId` may still submit in the rolling 24 hours. */
export async function quotaRemaining(db: Db, userId: string, dailyQuota: number, now: Date = new Date()): Promise<number> {
  const [used] = await db
    .select({ n: count() })
    .from(runs)
    .where(and(eq(runs.submitterId, userId), gt(runs.createdAt, new Date(now.getTime() - DAY_MS))));
  return Math.max(0, dailyQuota - (used?.n ?? 0));
}

/**
 * A rough wait: the runs to finish (those ahead plus the new ones) spread over the online
 * runners, at the mean duration of this recipe's recent graded runs (or any recipe's), or
 * failing that at its estimated FLOPs over the runners' measured matmul throughput.
 */
async function estimateWait(
  db: Db,
  input: { recipeId: string; runsToFinish: number; recipe: z.infer<typeof recipeSchema>; variant: TaskVariant },
): Promise<{ seconds: number | null; basis: string }> {
  const online = await queryRows<{ n: number; gflops: number | null }>(
    db,
    sql`select count(*)::int as n, sum(nullif(capabilities->'matmul'->>'gflops', '')::float8) as gflops
          from runners where revoked_at is null and last_seen_at > now() - interval '60 seconds'`,
  );
  const runnersOnline = online[0]?.n ?? 0;
  const parallel = Math.max(1, runnersOnline);
  const duration = async (recipeOnly: boolean) => {
    const [row] = await db
      .select({ seconds: avg(sql<number>`extract(epoch from (${runs.finishedAt} - ${runs.createdAt}))`) })
      .from(runs)
      .where(and(eq(runs.state, "graded"), recipeOnly ? eq(runs.recipeId, input.recipeId) : undefined));
    return row?.seconds === null || row?.seconds === undefined ? null : Number(row.seconds);
  };
  const perRun = (await duration(true)) ?? (await duration(false));
  const who = runnersOnline === 0 ? "once a runner connects" : `on ${runnersOnline} online runner${runnersOnline === 1 ? "" : "s"}`;
  if (perRun !== null) {
    return {
      seconds: Math.round((Math.ceil(input.runsToFinish / parallel) * perRun)),
      basis: `${input.runsToFinish} run${input.runsToFinish === 1 ? "" : "s"} to finish at the mean duration of recent graded runs, ${who}.`,
    };
  }
  const gflops = Number(online[0]?.gflops ?? 0);
  if (gflops > 0) {
    const resolved = resolveVariant(input.variant);
    const id = input.variant.splits.find((split) => split.axis === "id") ?? input.variant.splits[0];
    const bound = id === undefined ? { prompt: 32, completion: 32 } : resolved.lengthBound(id.name);
    const compute = estimateRecipeCompute(input.recipe, {
      vocabSize: resolved.tokenizer.size,
      promptTokens: bound.prompt,
      completionTokens: bound.completion,
      evalSplits: input.variant.evalSplits.length,
      evalItemsPerSplit: input.variant.evalItemsPerSplit,
    });
    // Small models reach a fraction of peak matmul throughput; a factor of 4 is what the bench shows.
    const perRunSeconds = (compute.totalFlops / (gflops / runnersOnline) / 1e9) * 4;
    return {
      seconds: Math.round(Math.ceil(input.runsToFinish / parallel) * perRunSeconds),
      basis: `the recipe's estimated FLOPs over the online runners' measured throughput, ${input.runsToFinish} run${input.runsToFinish === 1 ? "" : "s"} to finish.`,
    };
  }
  return { seconds: null, basis: runnersOnline === 0 ? "No runner is connected, so no estimate yet." : "No graded run yet to estimate from." };
}

// ── list ────────────────────────────────────────────────────────────────────────

export const runListInputSchema = z.strictObject({
  /** Only the caller's runs (needs an account). */
  mine: z.boolean().default(false),
  state: z.enum(RUN_STATES).optional(),
  /** Runs of any version of this task variant. */
  variantSlug: z.string().min(1).max(64).optional(),
  recipeSlug: z.string().min(1).max(64).optional(),
  limit: z.number().int().min(1).max(100).default(25),
  /** `nextCursor` of the previous page. */
  cursor: z
    .string()
    .max(100)
    .regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z\|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "not a cursor this API returned")
    // The shape alone lets "2026-13-45T9:Z" through, which would reach the query as an Invalid Date.
    .refine((cursor) => !Number.isNaN(Date.parse(cursor.split("|", 1)[0] ?? "")), "not a cursor this API returned")
    .optional(),
  /** Sent by tRPC's infinite queries; ignored (see `pageDirectionSchema`). */
  direction: pageDirectionSchema,
});
export type RunListInput = z.input<typeof runListInputSchema>;

const variantsAlias = taskVariants;

function summaryQuery(db: Db) {
  return db
    .select({
      id: runs.id,
      state: runs.state,
      seed: runs.seed,
      attempt: runs.attempt,
      reproducesRunId: runs.reproducesRunId,
      createdAt: runs.createdAt,
      updatedAt: runs.updatedAt,
      finishedAt: runs.finishedAt,
      variant: { id: variantsAlias.id, slug: variantsAlias.slug, version: variantsAlias.version, name: variantsAlias.name },
      recipe: { id: recipes.id, slug: recipes.slug, version: recipes.version, name: recipes.name },
      submitter: { id: users.id, name: users.name },
    })
    .from(runs)
    .innerJoin(variantsAlias, eq(variantsAlias.id, runs.variantId))
    .innerJoin(recipes, eq(recipes.id, runs.recipeId))
    .innerJoin(users, eq(users.id, runs.submitterId));
}

/** Newest first, filtered, paged by an opaque `createdAt|id` cursor. */
export async function listRuns(
  db: Db,
  rawInput: RunListInput,
  viewerId: string | null,
): Promise<{ items: RunSummary[]; nextCursor: string | null }> {
  const input = runListInputSchema.parse(rawInput);
  const filters = [];
  if (input.mine) {
    if (viewerId === null) throw new ServiceError("unauthorized", "Sign in to list your own runs.");
    filters.push(eq(runs.submitterId, viewerId));
  }
  if (input.state !== undefined) filters.push(eq(runs.state, input.state));
  if (input.variantSlug !== undefined) filters.push(eq(variantsAlias.slug, input.variantSlug));
  if (input.recipeSlug !== undefined) filters.push(eq(recipes.slug, input.recipeSlug));
  if (input.cursor !== undefined) {
    const [at, id] = input.cursor.split("|") as [string, string];
    const cursorAt = new Date(at);
    filters.push(or(lt(runs.createdAt, cursorAt), and(eq(runs.createdAt, cursorAt), lt(runs.id, id))));
  }
  const rows = await summaryQuery(db)
    .where(filters.length > 0 ? and(...filters) : undefined)
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > input.limit && last !== undefined ? `${last.createdAt.toISOString()}|${last.id}` : null,
  };
}

// ── one run ─────────────────────────────────────────────────────────────────────

/** Points kept per curve: enough for a chart, bounded however long the run. */
export const MAX_POINTS_PER_SERIES = 1000;

export const runDetailSchema = runSummarySchema.extend({
  /** The caller submitted it (may cancel it). */
  isMine: z.boolean(),
  timeline: z.array(
    z.object({ at: z.date(), attempt: z.number().int(), fromState: z.enum(RUN_STATES).nullable(), toState: z.enum(RUN_STATES), reason: z.string() }),
  ),
  /** Why a queued run is not running yet; null otherwise. */
  queuedReason: z.string().nullable(),
  attempts: z.array(
    z.object({
      attempt: z.number().int(),
      runnerId: z.uuid(),
      runnerName: z.string(),
      outcome: z.string(),
      error: z.string().nullable(),
      backend: z.string().nullable(),
      device: z.string().nullable(),
      engineVersion: z.string().nullable(),
      startedAt: z.date(),
      endedAt: z.date().nullable(),
    }),
  ),
  /** Self-reported training curves of the current attempt (the runner's numbers, not graded). */
  metrics: z.array(z.object({ phase: z.string(), name: z.string(), points: z.array(z.object({ step: z.number().int(), value: z.number() })) })),
  /** The end of the current attempt's log. */
  log: z.object({ attempt: z.number().int(), text: z.string() }),
  /** Checkpoints of the current attempt (origin, grpo), content-addressed. */
  checkpoints: z.array(z.object({ name: z.string(), sha256: z.string(), sizeBytes: z.number() })),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

export async function getRun(db: Db, runId: string, viewerId: string | null): Promise<RunDetail> {
  const [summary] = await summaryQuery(db).where(eq(runs.id, runId));
  if (summary === undefined) throw new ServiceError("not_found", "There is no such run.");
  const timeline = await db
    .select({
      at: runStateTransitions.at,
      attempt: runStateTransitions.attempt,
      fromState: runStateTransitions.fromState,
      toState: runStateTransitions.toState,
      reason: runStateTransitions.reason,
    })
    .from(runStateTransitions)
    .where(eq(runStateTransitions.runId, runId))
    .orderBy(runStateTransitions.id);
  const attemptRows = await db
    .select({
      attempt: runAttempts.attempt,
      runnerId: runAttempts.runnerId,
      runnerName: runners.name,
      outcome: runAttempts.outcome,
      error: runAttempts.error,
      capabilities: runAttempts.capabilities,
      engineVersion: runAttempts.engineVersion,
      startedAt: runAttempts.startedAt,
      endedAt: runAttempts.endedAt,
    })
    .from(runAttempts)
    .innerJoin(runners, eq(runners.id, runAttempts.runnerId))
    .where(eq(runAttempts.runId, runId))
    .orderBy(runAttempts.attempt);
  const metricRows = await db
    .select({ phase: metrics.phase, name: metrics.name, step: metrics.step, value: metrics.value })
    .from(metrics)
    .where(and(eq(metrics.runId, runId), eq(metrics.attempt, summary.attempt)))
    .orderBy(metrics.phase, metrics.name, metrics.step);
  const series = new Map<string, { phase: string; name: string; points: { step: number; value: number }[] }>();
  for (const row of metricRows) {
    const key = `${row.phase}\u0000${row.name}`;
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { phase: row.phase, name: row.name, points: [] };
      series.set(key, entry);
    }
    entry.points.push({ step: row.step, value: row.value });
  }
  const checkpoints = await db
    .select({ name: runArtifacts.name, sha256: runArtifacts.sha256, sizeBytes: artifacts.sizeBytes })
    .from(runArtifacts)
    .innerJoin(artifacts, eq(artifacts.sha256, runArtifacts.sha256))
    .where(and(eq(runArtifacts.runId, runId), eq(runArtifacts.attempt, summary.attempt)))
    .orderBy(runArtifacts.name);
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    ...summary,
    isMine: viewerId !== null && summary.submitter.id === viewerId,
    timeline,
    queuedReason: summary.state === "queued" ? await queuedReason(db, runId) : null,
    attempts: attemptRows.map(({ capabilities, ...row }) => ({ ...row, backend: text(capabilities.backend), device: text(capabilities.device) })),
    metrics: [...series.values()].map((entry) => ({ ...entry, points: downsample(entry.points, MAX_POINTS_PER_SERIES) })),
    log: await readLog(db, { runId, limitBytes: 64 * 1024 }),
    checkpoints,
  };
}

/** Every k-th point (and the last), so a long run's curve keeps its shape within `max` points. */
function downsample<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const stride = Math.ceil(points.length / max);
  const kept = points.filter((_, index) => index % stride === 0);
  const last = points[points.length - 1];
  if (last !== undefined && kept[kept.length - 1] !== last) kept.push(last);
  return kept;
}

/** The submitter of a run, for authorisation; not_found when there is none. */
export async function runSubmitter(db: Db, runId: string): Promise<{ submitterId: string; state: RunState }> {
  const [row] = await db.select({ submitterId: runs.submitterId, state: runs.state }).from(runs).where(eq(runs.id, runId));
  if (row === undefined) throw new ServiceError("not_found", "There is no such run.");
  return row;
}

/**
 * "Reproduce": the same variant version, recipe version and seed as a graded run, queued
 * as a run that names it; the queue gives it to a runner of another owner. Counts
 * towards the caller's quota like any submission.
 */
export async function reproduceRun(
  db: Db,
  input: { runId: string; submitterId: string; dailyQuota: number },
): Promise<SubmitResult> {
  const [original] = await db
    .select({ id: runs.id, state: runs.state, variantId: runs.variantId, recipeId: runs.recipeId, seed: runs.seed })
    .from(runs)
    .where(eq(runs.id, input.runId));
  if (original === undefined) throw new ServiceError("not_found", "There is no such run.");
  if (original.state !== "graded") {
    throw new ServiceError("conflict", "Only a graded run can be reproduced: there is nothing to confirm yet.");
  }
  return submitRuns(db, {
    submitterId: input.submitterId,
    variant: { id: original.variantId },
    recipe: { id: original.recipeId },
    seeds: [original.seed],
    dailyQuota: input.dailyQuota,
    reproducesRunId: original.id,
  });
}

/** Current states of some runs (the subscription's first answer, and polling clients). */
export async function runStates(db: Db, runIds: string[]): Promise<Map<string, RunState>> {
  if (runIds.length === 0) return new Map();
  const rows = await db.select({ id: runs.id, state: runs.state }).from(runs).where(inArray(runs.id, runIds));
  return new Map(rows.map((row) => [row.id, row.state]));
}
