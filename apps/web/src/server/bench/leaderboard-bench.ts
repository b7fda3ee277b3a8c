// `npm run bench:leaderboard`: seeds 10,000 graded runs over 50 task variants into a fresh
// database and measures the server time of the leaderboard's two pages through the same
// tRPC procedures the pages call (services + output validation), as p50/p95.
//
//   npm run bench:leaderboard                       # PGlite in memory
//   BENCH_DATABASE_URL=postgres://… npm run bench:leaderboard   # an EMPTY PostgreSQL database
//
// Runs are written in bulk with statistics computed from synthetic per-item outcomes by the
// real statistics functions (the grader's per-item rows are not needed by these pages).
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { PGlite } from "@electric-sql/pglite";
import { count } from "drizzle-orm";
import { createDatabase, createRecipe, createTaskVariant, type Database, type Db } from "@transcend/db";
import { wrapPglite } from "@transcend/db/client";
import { runAttempts, runners, runResults, runs, users } from "@transcend/db/schema";
import { recipeSchema } from "@transcend/protocol";
import { createRng, presets, type Rng } from "@transcend/tasks";
import { createCaller } from "../routers/_app";
import { clearLeaderboardCache } from "../services/leaderboard";
import { compareModels, runStatistics, summariseSplit, type ItemOutcome } from "../services/statistics";

const VARIANTS = 50;
const RECIPES = 40;
const SEEDS = 5;
const ITEMS = 64;
const N = 8;
const K_VALUES = [1, 4, 8];
const TOTAL_RUNS = VARIANTS * RECIPES * SEEDS;

async function openDatabase(): Promise<Database> {
  const url = process.env.BENCH_DATABASE_URL?.trim();
  if (url) {
    const database = await createDatabase({ url });
    const [row] = await database.db.select({ runs: count() }).from(runs);
    if ((row?.runs ?? 0) > 0) {
      await database.close();
      throw new Error("BENCH_DATABASE_URL must name an empty database: the bench writes 10,000 runs into it.");
    }
    return database;
  }
  return wrapPglite(await PGlite.create());
}

/** Per-item outcomes of a model whose skill is `q` (probability a sample is correct). */
function outcomes(rng: Rng, q: number): ItemOutcome[] {
  return Array.from({ length: ITEMS }, (_, index) => {
    const itemQ = Math.min(1, Math.max(0, q + (rng.next() - 0.5) * 0.6));
    let correct = 0;
    for (let sample = 0; sample < N; sample++) if (rng.next() < itemQ) correct++;
    return { id: `item-${index}`, greedyCorrect: rng.next() < itemQ, correct };
  });
}

async function seed(db: Db): Promise<string[]> {
  const started = performance.now();
  const ownerId = "bench-user";
  await db.insert(users).values({ id: ownerId, name: "Bench", email: "bench@example.com" });
  const [runner] = await db
    .insert(runners)
    .values({ ownerId, name: "bench-runner", credentialHash: randomUUID(), capabilities: { backend: "wasm", device: "bench CPU" } })
    .returning({ id: runners.id });
  if (runner === undefined) throw new Error("no runner");

  // 24 presets, then copies with other pretraining overlaps, up to 50 variants.
  const variants: { id: string; slug: string; overlap: number }[] = [];
  for (let index = 0; index < VARIANTS; index++) {
    const preset = presets[index % presets.length];
    if (preset === undefined) throw new Error("no presets");
    const overlap = index < presets.length ? (preset.pretrainingMix.ood ?? 0) : ((index % 7) + 1) / 50;
    const spec = { ...preset, slug: `${preset.slug}-${index}`, pretrainingMix: { id: 1 - overlap, ood: overlap } };
    const row = await createTaskVariant(db, { ownerId, spec });
    variants.push({ id: row.id, slug: row.slug, overlap });
  }
  const recipeIds: string[] = [];
  for (let index = 0; index < RECIPES; index++) {
    const recipe = recipeSchema.parse({ evaluation: { itemsPerSplit: ITEMS, samplesPerItem: N, kValues: K_VALUES }, grpo: { klBeta: 0.01 * (index + 1) } });
    recipeIds.push((await createRecipe(db, { ownerId, spec: { ...recipe, slug: `bench-recipe-${index}`, name: `Recipe ${index}` } })).id);
  }

  const rng = createRng("bench-leaderboard");
  const batch: { run: typeof runs.$inferInsert; result: typeof runResults.$inferInsert }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await db.insert(runs).values(batch.map((entry) => entry.run));
    await db.insert(runResults).values(batch.map((entry) => entry.result));
    await db.insert(runAttempts).values(
      batch.map((entry) => ({
        runId: entry.run.id ?? "",
        attempt: 1,
        runnerId: runner.id,
        outcome: "succeeded" as const,
        capabilities: { backend: "wasm", device: "bench CPU" },
        engineVersion: "bench",
      })),
    );
    batch.length = 0;
  };
  for (const variant of variants) {
    for (const recipeId of recipeIds) {
      for (let seedIndex = 1; seedIndex <= SEEDS; seedIndex++) {
        const base = { id: outcomes(rng, 0.6), ood: outcomes(rng, 0.1) };
        const grpo = { id: outcomes(rng, 0.7), ood: outcomes(rng, 0.1 + variant.overlap * 2) };
        const split = (name: "id" | "ood", axis: string) =>
          compareModels({
            split: name,
            axis,
            base: { summary: summariseSplit(base[name], N, K_VALUES), items: base[name] },
            grpo: { summary: summariseSplit(grpo[name], N, K_VALUES), items: grpo[name] },
          });
        const statistics = runStatistics([split("id", "id"), split("ood", "depth")]);
        const runId = randomUUID();
        batch.push({
          run: { id: runId, variantId: variant.id, recipeId, seed: seedIndex, submitterId: ownerId, state: "graded", attempt: 1, finishedAt: new Date() },
          result: { runId, attempt: 1, statistics, oodGain: statistics.oodGain, idGain: statistics.idGain },
        });
        if (batch.length >= 500) await flush();
      }
    }
  }
  await flush();
  console.log(`seeded ${TOTAL_RUNS} graded runs over ${VARIANTS} variants × ${RECIPES} recipes × ${SEEDS} seeds in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return variants.map((variant) => variant.slug);
}

async function measure(label: string, iterations: number, body: (iteration: number) => Promise<unknown>): Promise<void> {
  for (let warmup = 0; warmup < 5; warmup++) await body(warmup);
  const times: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    const start = performance.now();
    await body(iteration);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? Number.NaN;
  console.log(`${label.padEnd(28)} p50 ${at(0.5).toFixed(1).padStart(7)} ms   p95 ${at(0.95).toFixed(1).padStart(7)} ms   (${iterations} requests)`);
}

async function main(): Promise<void> {
  const database = await openDatabase();
  try {
    console.log(`database: ${database.kind}`);
    const slugs = await seed(database.db);

    const caller = createCaller({ db: database.db, user: null, authMethod: null, origin: "http://localhost" });
    const overview = await caller.leaderboard.overview({});
    const board = await caller.leaderboard.variant({ slug: slugs[0] ?? "" });
    console.log(`overview: ${overview.variants.length} variants; a variant page: ${board.rows.length} rows of ${board.rows[0]?.aggregate.runs ?? 0} runs`);
    const db = database.db;
    const slugAt = (iteration: number) => slugs[iteration % slugs.length] ?? "";
    // Cold: the cache emptied before every request, as right after a run was graded.
    console.log("cold (every request recomputes):");
    await measure("  overview", 40, () => (clearLeaderboardCache(db), caller.leaderboard.overview({})));
    await measure("  variant page", 100, (iteration) => (clearLeaderboardCache(db), caller.leaderboard.variant({ slug: slugAt(iteration) })));
    // Warm: between runs ending, pages come from the cache after one indexed key query.
    console.log("warm (no run ended since the last request for the page):");
    await measure("  overview", 200, () => caller.leaderboard.overview({}));
    await measure("  variant page", 200, (iteration) => caller.leaderboard.variant({ slug: slugAt(iteration) }));
    await measure("  variant page, sorted+axis", 200, (iteration) =>
      caller.leaderboard.variant({ slug: slugAt(iteration), sort: "novel", axis: "depth" }),
    );
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
