// Leaderboard queries. Plain functions that take `db` first, so routers, pages and tests
// call them the same way. Only server-graded numbers appear: a run counts when it is
// `graded` and its `run_results` row is from its current attempt (the grader writes it at
// finalize). Reproductions confirm rows (verified mark); they are not extra seeds. The
// runner's self-reported curves are never read here.
import { and, count, countDistinct, desc, eq, inArray, isNull, max, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Db } from "@transcend/db";
import {
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
import { AXES, backendNameSchema, TASK_FAMILIES } from "@transcend/protocol";
import {
  aggregateRuns,
  intervalFromMoments,
  intervalSchema,
  RANKING_MIN_SEEDS,
  readRunStatistics,
  recipeAggregateSchema,
  type RecipeAggregate,
} from "./statistics";

export const leaderboardVariantSchema = z.object({
  slug: z.string(),
  name: z.string(),
  /** Latest version of the variant; the leaderboard lists each variant once. */
  version: z.number().int(),
  /** The task family (string-ops, graph-path, mod-arith), when the spec names one. */
  family: z.string().nullable(),
  description: z.string().nullable(),
  /** Runs of any version of this variant that the server has graded. */
  gradedRuns: z.number().int().min(0),
});
export type LeaderboardVariant = z.infer<typeof leaderboardVariantSchema>;

// The spec is validated by packages/protocol when written; here only the fields the
// leaderboard shows matter, read leniently so one odd spec cannot break the page.
const specDisplaySchema = z.object({
  family: z.string().optional(),
  description: z.string().optional(),
  splits: z.array(z.object({ name: z.string(), axis: z.string() })).optional(),
  pretrainingMix: z.record(z.string(), z.number()).optional(),
  evalSplits: z.array(z.string()).optional(),
});
type SpecDisplay = z.infer<typeof specDisplaySchema>;
const readSpec = (spec: unknown): SpecDisplay => {
  const parsed = specDisplaySchema.safeParse(spec);
  return parsed.success ? parsed.data : {};
};

const recipeDisplaySchema = z.object({
  evaluation: z.object({ samplesPerItem: z.number(), kValues: z.array(z.number()) }).partial().optional(),
  grpo: z.object({ klBeta: z.number() }).partial().optional(),
});

/** Every task variant (latest version), with how many graded runs it has. */
export async function listLeaderboardVariants(db: Db): Promise<LeaderboardVariant[]> {
  const latest = await latestVariants(db);
  const graded = await db
    .select({ slug: taskVariants.slug, gradedRuns: count() })
    .from(runs)
    .innerJoin(taskVariants, eq(runs.variantId, taskVariants.id))
    .where(eq(runs.state, "graded"))
    .groupBy(taskVariants.slug);
  const gradedBySlug = new Map(graded.map((row) => [row.slug, row.gradedRuns]));

  return latest
    .map((row) => {
      const display = readSpec(row.spec);
      return {
        slug: row.slug,
        name: row.name,
        version: row.version,
        family: display.family ?? null,
        description: display.description ?? null,
        gradedRuns: gradedBySlug.get(row.slug) ?? 0,
      };
    })
    .sort((a, b) => b.gradedRuns - a.gradedRuns || a.name.localeCompare(b.name));
}

function latestVariants(db: Db) {
  return db
    .selectDistinctOn([taskVariants.slug], {
      id: taskVariants.id,
      slug: taskVariants.slug,
      name: taskVariants.name,
      version: taskVariants.version,
      spec: taskVariants.spec,
    })
    .from(taskVariants)
    .orderBy(taskVariants.slug, desc(taskVariants.version));
}

// ── caching ────────────────────────────────────────────────────────────────────

// The pages aggregate thousands of runs, but their inputs change only when a run ends (a
// graded run is final) or a variant appears. Answers are kept per database and query under
// a key read from indexes (newest finished_at, variant count and newest variant) that any
// such change moves; the TTL bounds staleness from what the key cannot see (a transaction
// that commits an older finished_at late, a verification recorded after its run ended).
const CACHE_TTL_MS = 30_000;
const CACHE_MAX_ENTRIES = 500;
const caches = new WeakMap<Db, Map<string, { key: string; at: number; value: unknown }>>();

async function cacheKey(db: Db): Promise<string> {
  const [row] = await queryRows<{ finished: string | null; variants: string }>(
    db,
    sql`select (select max(finished_at) from runs)::text as finished,
               (select count(*) || ':' || coalesce(max(created_at)::text, '') from task_variants) as variants`,
  );
  return `${row?.finished ?? ""}|${row?.variants ?? ""}`;
}

async function cached<T>(db: Db, query: string, compute: () => Promise<T>): Promise<T> {
  let cache = caches.get(db);
  if (cache === undefined) caches.set(db, (cache = new Map()));
  const key = await cacheKey(db);
  const hit = cache.get(query);
  if (hit !== undefined && hit.key === key && Date.now() - hit.at < CACHE_TTL_MS) return hit.value as T;
  const value = await compute();
  if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
  cache.set(query, { key, at: Date.now(), value });
  return value;
}

/** Forgets cached pages (tests, and callers that changed results out of the usual order). */
export function clearLeaderboardCache(db: Db): void {
  caches.delete(db);
}

// ── pretraining overlap ────────────────────────────────────────────────────────

export const overlapSchema = z.object({
  /** Share of pretraining drawn from OOD splits (0 = "zero overlap"). */
  total: z.number(),
  /** Share of pretraining drawn from each split, by split name. */
  bySplit: z.record(z.string(), z.number()),
});
export type Overlap = z.infer<typeof overlapSchema>;

/** The pretraining mix as shares: the variable the study is about, shown on every row. */
export function pretrainingOverlap(spec: unknown): Overlap {
  const { pretrainingMix = {}, splits = [] } = readSpec(spec);
  const total = Object.values(pretrainingMix).reduce((sum, weight) => sum + Math.max(0, weight), 0);
  if (!(total > 0)) return { total: 0, bySplit: {} };
  const bySplit = Object.fromEntries(Object.entries(pretrainingMix).map(([split, weight]) => [split, Math.max(0, weight) / total]));
  const ood = splits.filter((split) => split.axis !== "id").reduce((sum, split) => sum + (bySplit[split.name] ?? 0), 0);
  return { total: ood, bySplit };
}

// ── filters and sorting (carried in the page URL) ──────────────────────────────

export const LEADERBOARD_SORTS = ["ood-gain", "id-gain", "ceiling", "novel", "seeds", "date", "recipe"] as const;
const oodAxisSchema = z.enum(AXES).exclude(["id"]);

export const leaderboardFilterSchema = z.object({
  /** Only OOD splits of this axis count (columns, OOD gain and its sort). */
  axis: oodAxisSchema.optional(),
  family: z.enum(TASK_FAMILIES).optional(),
  /** Only runs that trained on this backend are aggregated. */
  backend: backendNameSchema.optional(),
});
export type LeaderboardFilter = z.infer<typeof leaderboardFilterSchema>;

export const variantLeaderboardQuerySchema = leaderboardFilterSchema.extend({
  slug: z.string().min(1).max(64),
  sort: z.enum(LEADERBOARD_SORTS).default("ood-gain"),
  direction: z.enum(["asc", "desc"]).default("desc"),
});
export type VariantLeaderboardQuery = z.input<typeof variantLeaderboardQuerySchema>;

// ── one variant's page ─────────────────────────────────────────────────────────

export const provenanceRunSchema = z.object({
  runId: z.string(),
  seed: z.number().int(),
  submitter: z.string(),
  runner: z.string().nullable(),
  backend: z.string().nullable(),
  device: z.string().nullable(),
  engineVersion: z.string().nullable(),
  /** sha256 of the GRPO model's checkpoint; null when none was uploaded. */
  checkpoint: z.string().nullable(),
  /** sha256 of the pretrained ("origin") checkpoint. */
  originCheckpoint: z.string().nullable(),
  gradedAt: z.date().nullable(),
});
export type ProvenanceRun = z.infer<typeof provenanceRunSchema>;

export const leaderboardRowSchema = z.object({
  /** 1-based rank among ranked rows in the current order; null for "needs seeds" rows. */
  rank: z.number().int().nullable(),
  variant: z.object({ id: z.string(), slug: z.string(), version: z.number().int(), name: z.string() }),
  recipe: z.object({
    id: z.string(),
    slug: z.string(),
    version: z.number().int(),
    name: z.string(),
    samplesPerItem: z.number().int().nullable(),
    kValues: z.array(z.number().int()),
  }),
  aggregate: recipeAggregateSchema,
  /** OOD gain under the current axis filter (the default sort key). */
  oodGain: intervalSchema.nullable(),
  overlap: overlapSchema,
  runs: z.array(provenanceRunSchema),
  submitters: z.array(z.string()),
  /** Distinct "backend · device" the runs trained on. */
  hardware: z.array(z.string()),
  verifiedBy: z.array(z.object({ name: z.string(), runId: z.string() })),
  lastGradedAt: z.date().nullable(),
});
export type LeaderboardRow = z.infer<typeof leaderboardRowSchema>;

export const variantLeaderboardSchema = z.object({
  variant: z.object({
    slug: z.string(),
    name: z.string(),
    version: z.number().int(),
    family: z.string().nullable(),
    description: z.string().nullable(),
    /** Evaluated splits of the latest version with their axes, id first. */
    splits: z.array(z.object({ name: z.string(), axis: z.string() })),
    overlap: overlapSchema,
  }),
  rows: z.array(leaderboardRowSchema),
  minSeeds: z.number().int(),
});
export type VariantLeaderboard = z.infer<typeof variantLeaderboardSchema>;

const capabilitiesSchema = z.object({ backend: z.string().optional(), device: z.string().optional() }).partial();

function gradedOnCurrentAttempt(): SQL {
  // `and` of fixed conditions never yields undefined; the fallback satisfies the type.
  return (
    and(eq(runs.state, "graded"), eq(runResults.attempt, runs.attempt), isNull(runs.reproducesRunId)) ?? sql`false`
  );
}

/** OOD gain restricted to one axis: the mean of that axis's split gains per run, over runs. */
function axisGain(aggregate: RecipeAggregate, axis: string | undefined): RecipeAggregate["oodGain"] {
  if (axis === undefined) return aggregate.oodGain;
  const splits = aggregate.splits.filter((split) => split.axis === axis);
  if (splits.length === 0) return null;
  if (splits.length === 1) return splits[0]?.gain ?? null;
  // Several splits on one axis: average their means; the interval is not recomputed from runs here.
  const mean = splits.reduce((sum, split) => sum + split.gain.mean, 0) / splits.length;
  return { n: splits[0]?.gain.n ?? 0, mean, halfWidth: null, lower: null, upper: null };
}

function sortValue(row: LeaderboardRow, sort: (typeof LEADERBOARD_SORTS)[number], axis: string | undefined): number | string {
  const oodSplits = row.aggregate.splits.filter((split) => split.axis !== "id" && (axis === undefined || split.axis === axis));
  const meanOf = (values: number[]) => (values.length === 0 ? Number.NEGATIVE_INFINITY : values.reduce((a, b) => a + b, 0) / values.length);
  switch (sort) {
    case "ood-gain":
      return row.oodGain?.mean ?? Number.NEGATIVE_INFINITY;
    case "id-gain":
      return row.aggregate.idGain?.mean ?? Number.NEGATIVE_INFINITY;
    case "ceiling":
      return meanOf(oodSplits.map((split) => split.originCeiling.mean));
    case "novel":
      return meanOf(oodSplits.map((split) => split.novelSolves.gained.mean));
    case "seeds":
      return row.aggregate.seeds.length;
    case "date":
      return row.lastGradedAt?.getTime() ?? 0;
    case "recipe":
      return row.recipe.name.toLowerCase();
  }
}

/**
 * One variant's leaderboard (every version of its slug): one row per (variant version,
 * recipe version), its graded runs aggregated over seeds. Ranked rows (≥ RANKING_MIN_SEEDS
 * seeds) come first in the requested order, then "needs seeds" rows in the same order.
 * Undefined when no variant has this slug.
 */
export async function variantLeaderboard(db: Db, query: VariantLeaderboardQuery): Promise<VariantLeaderboard | undefined> {
  const parsed = variantLeaderboardQuerySchema.parse(query);
  // Cached answers are shared between callers, who must treat them as read-only.
  return cached(db, `variant:${JSON.stringify(parsed)}`, () => computeVariantLeaderboard(db, parsed));
}

async function computeVariantLeaderboard(
  db: Db,
  { slug, sort, direction, axis, backend }: z.output<typeof variantLeaderboardQuerySchema>,
): Promise<VariantLeaderboard | undefined> {
  const versions = await db
    .select({ id: taskVariants.id, version: taskVariants.version, name: taskVariants.name, spec: taskVariants.spec })
    .from(taskVariants)
    .where(eq(taskVariants.slug, slug))
    .orderBy(desc(taskVariants.version));
  const latest = versions[0];
  if (latest === undefined) return undefined;
  const latestSpec = readSpec(latest.spec);
  const evaluated = new Set(latestSpec.evalSplits ?? []);
  const splits = (latestSpec.splits ?? [])
    .filter((split) => evaluated.size === 0 || evaluated.has(split.name))
    .sort((a, b) => Number(b.axis === "id") - Number(a.axis === "id"));
  const header = {
    slug,
    name: latest.name,
    version: latest.version,
    family: latestSpec.family ?? null,
    description: latestSpec.description ?? null,
    splits,
    overlap: pretrainingOverlap(latest.spec),
  };

  const conditions = [gradedOnCurrentAttempt(), inArray(runs.variantId, versions.map((version) => version.id))];
  if (backend !== undefined) conditions.push(sql`${runAttempts.capabilities} ->> 'backend' = ${backend}`);
  const graded = await db
    .select({
      runId: runs.id,
      variantId: runs.variantId,
      recipeId: runs.recipeId,
      seed: runs.seed,
      attempt: runs.attempt,
      finishedAt: runs.finishedAt,
      updatedAt: runs.updatedAt,
      statistics: runResults.statistics,
      recipeSlug: recipes.slug,
      recipeVersion: recipes.version,
      recipeName: recipes.name,
      recipeSpec: recipes.spec,
      submitter: users.name,
      capabilities: runAttempts.capabilities,
      engineVersion: runAttempts.engineVersion,
      runnerName: runners.name,
    })
    .from(runs)
    .innerJoin(runResults, eq(runResults.runId, runs.id))
    .innerJoin(recipes, eq(recipes.id, runs.recipeId))
    .innerJoin(users, eq(users.id, runs.submitterId))
    .leftJoin(runAttempts, and(eq(runAttempts.runId, runs.id), eq(runAttempts.attempt, runs.attempt)))
    .leftJoin(runners, eq(runners.id, runAttempts.runnerId))
    .where(and(...conditions));
  if (graded.length === 0) return { variant: header, rows: [], minSeeds: RANKING_MIN_SEEDS };

  const runIds = graded.map((run) => run.runId);
  const [checkpoints, verifications] = await Promise.all([
    db
      .select({ runId: runArtifacts.runId, attempt: runArtifacts.attempt, name: runArtifacts.name, sha256: runArtifacts.sha256 })
      .from(runArtifacts)
      .where(inArray(runArtifacts.runId, runIds)),
    verificationsOf(db, runIds),
  ]);
  const attemptOf = new Map(graded.map((run) => [run.runId, run.attempt]));
  const checkpointBy = new Map(
    checkpoints.filter((row) => row.attempt === attemptOf.get(row.runId)).map((row) => [`${row.runId}:${row.name}`, row.sha256]),
  );
  const checkpoint = (runId: string, name: string) => checkpointBy.get(`${runId}:${name}`) ?? null;

  const groups = new Map<string, typeof graded>();
  for (const run of graded) {
    const key = `${run.variantId}:${run.recipeId}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [run]);
    else group.push(run);
  }
  const versionById = new Map(versions.map((version) => [version.id, version]));

  const rows: LeaderboardRow[] = [...groups.values()].map((group) => {
    const first = group[0];
    if (first === undefined) throw new Error("empty leaderboard group");
    const variantVersion = versionById.get(first.variantId);
    const parsed = group.map((run) => ({ seed: run.seed, statistics: readRunStatistics(run.statistics) }));
    const aggregate = aggregateRuns(parsed);
    const recipe = recipeDisplaySchema.safeParse(first.recipeSpec);
    const provenance = group
      .map((run): ProvenanceRun => {
        const capabilities = capabilitiesSchema.safeParse(run.capabilities ?? {});
        return {
          runId: run.runId,
          seed: run.seed,
          submitter: run.submitter,
          runner: run.runnerName,
          backend: capabilities.success ? (capabilities.data.backend ?? null) : null,
          device: capabilities.success ? (capabilities.data.device ?? null) : null,
          engineVersion: run.engineVersion,
          checkpoint: checkpoint(run.runId, "final"),
          originCheckpoint: checkpoint(run.runId, "origin"),
          gradedAt: run.finishedAt ?? run.updatedAt,
        };
      })
      .sort((a, b) => a.seed - b.seed);
    const gradedTimes = provenance.flatMap((run) => (run.gradedAt === null ? [] : [run.gradedAt.getTime()]));
    const groupRunIds = new Set(group.map((run) => run.runId));
    return {
      rank: null,
      variant: { id: first.variantId, slug, version: variantVersion?.version ?? 0, name: variantVersion?.name ?? slug },
      recipe: {
        id: first.recipeId,
        slug: first.recipeSlug,
        version: first.recipeVersion,
        name: first.recipeName,
        samplesPerItem: recipe.success ? (recipe.data.evaluation?.samplesPerItem ?? null) : null,
        kValues: recipe.success ? (recipe.data.evaluation?.kValues ?? []) : [],
      },
      aggregate,
      oodGain: axisGain(aggregate, axis),
      overlap: pretrainingOverlap(variantVersion?.spec),
      runs: provenance,
      submitters: [...new Set(provenance.map((run) => run.submitter))],
      hardware: [
        ...new Set(provenance.map((run) => [run.backend, run.device].filter((part) => part !== null).join(" · ")).filter(Boolean)),
      ],
      verifiedBy: verifications.filter((entry) => groupRunIds.has(entry.runId)).map(({ name, verifierRunId }) => ({ name, runId: verifierRunId })),
      lastGradedAt: gradedTimes.length === 0 ? null : new Date(Math.max(...gradedTimes)),
    };
  });

  const factor = direction === "asc" ? 1 : -1;
  const compare = (a: LeaderboardRow, b: LeaderboardRow) => {
    const [x, y] = [sortValue(a, sort, axis), sortValue(b, sort, axis)];
    const order = typeof x === "string" || typeof y === "string" ? String(x).localeCompare(String(y)) : x - y;
    return order * factor || a.recipe.name.localeCompare(b.recipe.name) || a.variant.version - b.variant.version;
  };
  const ranked = rows.filter((row) => row.aggregate.ranked).sort(compare);
  const unranked = rows.filter((row) => !row.aggregate.ranked).sort(compare);
  ranked.forEach((row, index) => (row.rank = index + 1));
  return { variant: header, rows: [...ranked, ...unranked], minSeeds: RANKING_MIN_SEEDS };
}

/** Agreeing reproductions of `runIds` whose own run is graded, with the verifier's name. */
async function verificationsOf(db: Db, runIds: string[]): Promise<{ runId: string; verifierRunId: string; name: string }[]> {
  if (runIds.length === 0) return [];
  return db
    .select({ runId: runVerifications.runId, verifierRunId: runVerifications.verifierRunId, name: users.name })
    .from(runVerifications)
    .innerJoin(runs, and(eq(runs.id, runVerifications.verifierRunId), eq(runs.state, "graded")))
    .innerJoin(users, eq(users.id, runVerifications.verifiedBy))
    .where(inArray(runVerifications.runId, runIds));
}

// ── the overview ───────────────────────────────────────────────────────────────

export const overviewEntrySchema = z.object({
  slug: z.string(),
  name: z.string(),
  version: z.number().int(),
  family: z.string().nullable(),
  description: z.string().nullable(),
  /** OOD axes the variant evaluates. */
  axes: z.array(z.string()),
  overlap: overlapSchema,
  gradedRuns: z.number().int(),
  /** The recipe with the highest mean OOD gain, ranked rows first; null without graded runs. */
  best: z
    .object({
      recipe: z.object({ slug: z.string(), version: z.number().int(), name: z.string() }),
      variantVersion: z.number().int(),
      /** Pretraining overlap of the variant version the best recipe ran on. */
      overlap: z.number(),
      oodGain: intervalSchema,
      seeds: z.number().int(),
      ranked: z.boolean(),
    })
    .nullable(),
});
export type OverviewEntry = z.infer<typeof overviewEntrySchema>;

export const leaderboardOverviewSchema = z.object({
  variants: z.array(overviewEntrySchema),
  minSeeds: z.number().int(),
});
export type LeaderboardOverview = z.infer<typeof leaderboardOverviewSchema>;

/**
 * Every variant with its best recipe by OOD gain. The per-run OOD gains are aggregated in
 * SQL (count, mean, sample sd per variant version × recipe), so the overview reads one row
 * per recipe rather than every run's statistics.
 */
export async function leaderboardOverview(db: Db, filter: LeaderboardFilter = {}): Promise<LeaderboardOverview> {
  const parsed = leaderboardFilterSchema.parse(filter);
  return cached(db, `overview:${JSON.stringify(parsed)}`, () => computeOverview(db, parsed));
}

async function computeOverview(db: Db, { axis, family, backend }: LeaderboardFilter): Promise<LeaderboardOverview> {
  const conditions = [gradedOnCurrentAttempt()];
  if (backend !== undefined) conditions.push(sql`${runAttempts.capabilities} ->> 'backend' = ${backend}`);
  let grouped = db
    .select({
      variantId: runs.variantId,
      recipeId: runs.recipeId,
      runs: count(),
      seeds: countDistinct(runs.seed),
      gains: count(runResults.oodGain),
      mean: sql<number | null>`avg(${runResults.oodGain})::float8`,
      sd: sql<number | null>`stddev_samp(${runResults.oodGain})::float8`,
      lastGradedAt: max(runs.finishedAt),
    })
    .from(runs)
    .innerJoin(runResults, eq(runResults.runId, runs.id))
    .$dynamic();
  if (backend !== undefined) {
    grouped = grouped.innerJoin(runAttempts, and(eq(runAttempts.runId, runs.id), eq(runAttempts.attempt, runs.attempt)));
  }
  const [aggregates, variantRows, recipeRows] = await Promise.all([
    grouped.where(and(...conditions)).groupBy(runs.variantId, runs.recipeId),
    db
      .select({ id: taskVariants.id, slug: taskVariants.slug, version: taskVariants.version, name: taskVariants.name, spec: taskVariants.spec })
      .from(taskVariants),
    db.select({ id: recipes.id, slug: recipes.slug, version: recipes.version, name: recipes.name }).from(recipes),
  ]);
  const variantById = new Map(variantRows.map((row) => [row.id, row]));
  const recipeById = new Map(recipeRows.map((row) => [row.id, row]));

  const bySlug = new Map<string, { gradedRuns: number; best: OverviewEntry["best"] }>();
  for (const aggregate of aggregates) {
    const variant = variantById.get(aggregate.variantId);
    const recipe = recipeById.get(aggregate.recipeId);
    if (variant === undefined || recipe === undefined) continue;
    const entry = bySlug.get(variant.slug) ?? { gradedRuns: 0, best: null };
    entry.gradedRuns += aggregate.runs;
    if (aggregate.mean !== null) {
      const candidate = {
        recipe: { slug: recipe.slug, version: recipe.version, name: recipe.name },
        variantVersion: variant.version,
        overlap: pretrainingOverlap(variant.spec).total,
        oodGain: intervalFromMoments(aggregate.gains, Number(aggregate.mean), aggregate.sd === null ? null : Number(aggregate.sd)),
        seeds: aggregate.seeds,
        ranked: aggregate.seeds >= RANKING_MIN_SEEDS,
      };
      const current = entry.best;
      const better =
        current === null ||
        (candidate.ranked && !current.ranked) ||
        (candidate.ranked === current.ranked && candidate.oodGain.mean > current.oodGain.mean);
      if (better) entry.best = candidate;
    }
    bySlug.set(variant.slug, entry);
  }

  const latest = new Map<string, (typeof variantRows)[number]>();
  for (const row of variantRows) {
    const seen = latest.get(row.slug);
    if (seen === undefined || seen.version < row.version) latest.set(row.slug, row);
  }
  const entries: OverviewEntry[] = [...latest.values()].flatMap((row) => {
    const spec = readSpec(row.spec);
    const evaluated = new Set(spec.evalSplits ?? []);
    const axes = [
      ...new Set((spec.splits ?? []).filter((split) => split.axis !== "id" && (evaluated.size === 0 || evaluated.has(split.name))).map((split) => split.axis)),
    ];
    if (family !== undefined && spec.family !== family) return [];
    if (axis !== undefined && !axes.includes(axis)) return [];
    const stats = bySlug.get(row.slug);
    return [
      {
        slug: row.slug,
        name: row.name,
        version: row.version,
        family: spec.family ?? null,
        description: spec.description ?? null,
        axes,
        overlap: pretrainingOverlap(row.spec),
        gradedRuns: stats?.gradedRuns ?? 0,
        best: stats?.best ?? null,
      },
    ];
  });
  entries.sort(
    (a, b) =>
      Number(b.best?.ranked ?? false) - Number(a.best?.ranked ?? false) ||
      (b.best?.oodGain.mean ?? Number.NEGATIVE_INFINITY) - (a.best?.oodGain.mean ?? Number.NEGATIVE_INFINITY) ||
      b.gradedRuns - a.gradedRuns ||
      a.name.localeCompare(b.name),
  );
  return { variants: entries, minSeeds: RANKING_MIN_SEEDS };
}
