// The services the leaderboard pages and the results router read, on seeded graded runs:
// the page tests of this area (the Playwright flow is the e2e suite's).
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { runArtifacts, artifacts, runs } from "@transcend/db/schema";
import { describeEachDatabase } from "@transcend/db/testing";
import { createCaller } from "../routers/_app";
import {
  answerAll,
  createRun,
  createRunner,
  createTestRecipe,
  createUser,
  createVariant,
  firstRight,
  gradeRun,
  markGraded,
  TEST_EVALUATION,
} from "../../test/graded-runs";
import { finalize } from "./grading";
import { leaderboardOverview, variantLeaderboard } from "./leaderboard";
import { runItemLines, runResultsView } from "./run-results";

const N = TEST_EVALUATION.samplesPerItem;
const T_975_2 = 4.302652729749464;

describeEachDatabase("leaderboard", (getDb) => {
  const slug = `lb-depth-${Date.now().toString(36)}`;
  let userId = "";
  let verifierId = "";
  let runnerId = "";
  let otherRunnerId = "";
  let variantId = "";
  let recipeA = "";
  let recipeB = "";
  let recipeFake = "";
  const firstRuns: { id: string; attempt: number }[] = [];

  beforeAll(async () => {
    const db = getDb();
    userId = await createUser(db, "Ada");
    verifierId = await createUser(db, "Grace");
    runnerId = await createRunner(db, userId, "ada-box");
    otherRunnerId = await createRunner(db, verifierId, "grace-box");
    variantId = (await createVariant(db, userId, "string-ops-depth-partial", slug)).id;
    recipeA = (await createTestRecipe(db, userId, {}, `${slug}-a`)).id;
    recipeB = (await createTestRecipe(db, userId, { grpo: { klBeta: 0.1 } }, `${slug}-b`)).id;
    recipeFake = (await createTestRecipe(db, userId, { grpo: { klBeta: 0.2 } }, `${slug}-fake`)).id;

    // Recipe A, three seeds: id 4/8 → 5/8; OOD 0/8 → 1/8, 2/8, 3/8 (gains 0.125, 0.25, 0.375).
    for (const seed of [1, 2, 3]) {
      const run = await createRun(db, { variantId, recipeId: recipeA, submitterId: userId, seed, runnerId });
      await gradeRun(db, run, ["id", "ood"], {
        base: { id: firstRight(4, N), ood: firstRight(0, N) },
        grpo: { id: firstRight(5, N), ood: firstRight(seed, N) },
      });
      firstRuns.push(run);
    }
    await db.insert(artifacts).values({ sha256: "a".repeat(64), sizeBytes: 10, kind: "final" }).onConflictDoNothing();
    await db.insert(runArtifacts).values({ runId: firstRuns[0]?.id ?? "", attempt: 1, name: "final", sha256: "a".repeat(64) });

    // Recipe B, one seed, a larger gain (0.5): shown, but "needs seeds" and not ranked.
    const single = await createRun(db, { variantId, recipeId: recipeB, submitterId: userId, seed: 1, runnerId });
    await gradeRun(db, single, ["id", "ood"], { base: {}, grpo: { ood: firstRight(4, N) } });

    // A fake runner's run: marked graded by a buggy caller without anything graded by the server.
    const fake = await createRun(db, { variantId, recipeId: recipeFake, submitterId: userId, seed: 1, runnerId });
    expect((await finalize(db, { runId: fake.id, attempt: 1 })).ok).toBe(false);
    await markGraded(db, fake.id);
  });

  it("aggregates a recipe's seeds with a Student-t interval and ranks only rows with three seeds", async () => {
    const board = await variantLeaderboard(getDb(), { slug });
    expect(board?.variant).toMatchObject({ slug, family: "string-ops", overlap: { total: 0.05 } });
    expect(board?.variant.splits.map((split) => split.axis)).toEqual(["id", "depth"]);
    expect(board?.rows.map((row) => [row.recipe.slug, row.rank])).toEqual([
      [`${slug}-a`, 1],
      [`${slug}-b`, null],
    ]);
    const [a, b] = board?.rows ?? [];
    // Gains 1/8, 2/8, 3/8: mean 0.25, sd 0.125, half-width t(0.975, 2) · 0.125 / √3.
    expect(a?.oodGain?.mean).toBeCloseTo(0.25, 12);
    expect(a?.oodGain?.halfWidth).toBeCloseTo((T_975_2 * 0.125) / Math.sqrt(3), 9);
    expect(a?.aggregate.idGain).toMatchObject({ mean: 0.125, halfWidth: 0 });
    const ood = a?.aggregate.splits.find((split) => split.split === "ood");
    // Base never solves an OOD item: ceiling 0, and every GRPO solve is novel (1, 2, 3 items).
    expect(ood?.originCeiling.mean).toBe(0);
    expect(ood?.novelSolves.gained.mean).toBe(2);
    expect(ood?.novelSolves.gained.halfWidth).toBeCloseTo((T_975_2 * 1) / Math.sqrt(3), 9);
    expect(ood?.grpo.passAtK["2"]?.mean).toBeCloseTo(0.25, 12);
    expect(a?.aggregate).toMatchObject({ ranked: true, seeds: [1, 2, 3], runs: 3 });
    expect(a?.overlap.total).toBeCloseTo(0.05, 12);
    expect(a?.recipe).toMatchObject({ samplesPerItem: N, kValues: [1, 2, 4] });
    expect(a?.runs.map((run) => [run.seed, run.runner, run.backend, run.engineVersion])).toEqual([
      [1, "ada-box", "wasm", "0.1.0-test"],
      [2, "ada-box", "wasm", "0.1.0-test"],
      [3, "ada-box", "wasm", "0.1.0-test"],
    ]);
    expect(a?.runs[0]?.checkpoint).toBe("a".repeat(64));
    expect(a?.hardware).toEqual(["wasm · Test CPU (2 cores)"]);
    expect(a?.submitters).toEqual(["Ada"]);
    expect(b).toMatchObject({ rank: null, aggregate: { ranked: false, seeds: [1] }, oodGain: { mean: 0.5, halfWidth: null } });
  });

  it("publishes nothing for a run the server did not grade", async () => {
    const board = await variantLeaderboard(getDb(), { slug });
    expect(board?.rows.some((row) => row.recipe.slug === `${slug}-fake`)).toBe(false);
    const fake = await getDb().select({ id: runs.id }).from(runs).where(eq(runs.recipeId, recipeFake));
    expect(await runResultsView(getDb(), fake[0]?.id ?? "")).toEqual({ graded: false });
    expect(await runItemLines(getDb(), fake[0]?.id ?? "")).toBeUndefined();
  });

  it("sorts and filters as the URL asks", async () => {
    const byRecipe = await variantLeaderboard(getDb(), { slug, sort: "recipe", direction: "asc" });
    expect(byRecipe?.rows.map((row) => row.recipe.slug)).toEqual([`${slug}-a`, `${slug}-b`]);
    expect((await variantLeaderboard(getDb(), { slug, backend: "tfjs-node-gpu" }))?.rows).toEqual([]);
    expect((await variantLeaderboard(getDb(), { slug, axis: "length" }))?.rows[0]?.oodGain).toBeNull();
    expect((await variantLeaderboard(getDb(), { slug: "no-such-variant" }))).toBeUndefined();
  });

  it("overview: best ranked recipe per variant with the same interval, filterable", async () => {
    const overview = await leaderboardOverview(getDb());
    const entry = overview.variants.find((variant) => variant.slug === slug);
    expect(entry).toMatchObject({ family: "string-ops", axes: ["depth"], gradedRuns: 4 });
    expect(entry?.best).toMatchObject({ recipe: { slug: `${slug}-a` }, seeds: 3, ranked: true });
    expect(entry?.best?.oodGain.mean).toBeCloseTo(0.25, 12);
    expect(entry?.best?.oodGain.halfWidth).toBeCloseTo((T_975_2 * 0.125) / Math.sqrt(3), 9);
    expect(entry?.best?.overlap).toBeCloseTo(0.05, 12);
    // Preset variants without runs are listed too, with no best recipe.
    expect((await leaderboardOverview(getDb(), { family: "graph-path" })).variants.every((variant) => variant.family === "graph-path")).toBe(true);
    expect((await leaderboardOverview(getDb(), { axis: "length" })).variants.some((variant) => variant.slug === slug)).toBe(false);
    expect((await leaderboardOverview(getDb(), { backend: "cpu" })).variants.find((variant) => variant.slug === slug)?.best).toBeNull();
  });

  it("a graded run's results, scatter points and item lines; nothing before grading", async () => {
    const run = firstRuns[0];
    if (run === undefined) throw new Error("no run");
    const results = await runResultsView(getDb(), run.id);
    if (!results.graded) throw new Error("not graded");
    expect(results.splits.map((split) => split.split)).toEqual(["id", "ood"]);
    expect(results.items).toHaveLength(16);
    expect(results.items.filter((item) => item.split === "ood" && item.base === 0 && item.grpo === 1)).toHaveLength(1);
    expect(results.klBeta).toBe(0.04);
    expect(results.provenance).toMatchObject({ runner: "ada-box", backend: "wasm", checkpoints: { final: "a".repeat(64) } });
    const lines = await runItemLines(getDb(), run.id);
    expect(lines).toHaveLength(16);
    expect(JSON.parse(lines?.[8] ?? "{}")).toMatchObject({ split: "ood", axis: "depth", n: N, base: { correct: 0 }, grpo: { correct: N } });

    const pending = await createRun(getDb(), { variantId, recipeId: recipeA, submitterId: userId, seed: 4, runnerId });
    await answerAll(getDb(), pending, ["id", "ood"], {});
    expect(await runResultsView(getDb(), pending.id)).toEqual({ graded: false });
    await getDb().update(runs).set({ state: "cancelled" }).where(eq(runs.id, pending.id));
  });

  it("shows a verified mark once a reproduction on another owner's runner agrees", async () => {
    const original = firstRuns[1];
    if (original === undefined) throw new Error("no run");
    const reproduction = await createRun(getDb(), {
      variantId,
      recipeId: recipeA,
      submitterId: verifierId,
      seed: 2,
      runnerId: otherRunnerId,
      reproducesRunId: original.id,
    });
    await gradeRun(getDb(), reproduction, ["id", "ood"], {
      base: { id: firstRight(4, N), ood: firstRight(0, N) },
      grpo: { id: firstRight(5, N), ood: firstRight(2, N) },
    });
    const board = await variantLeaderboard(getDb(), { slug });
    const a = board?.rows.find((row) => row.recipe.slug === `${slug}-a`);
    expect(a?.verifiedBy).toEqual([{ name: "Grace", runId: reproduction.id }]);
    // A reproduction confirms; it is not a fourth seed.
    expect(a?.aggregate.runs).toBe(3);
    const results = await runResultsView(getDb(), original.id);
    expect(results.graded && results.verifiedBy).toEqual([{ name: "Grace", runId: reproduction.id }]);
  });

  it("caches a page until a run ends", async () => {
    const before = (await leaderboardOverview(getDb())).variants.find((variant) => variant.slug === slug)?.gradedRuns ?? 0;
    // A second read is the cached answer.
    expect(await leaderboardOverview(getDb())).toBe(await leaderboardOverview(getDb()));
    const run = await createRun(getDb(), { variantId, recipeId: recipeB, submitterId: userId, seed: 2, runnerId });
    await answerAll(getDb(), run, ["id", "ood"], {});
    expect((await finalize(getDb(), { runId: run.id, attempt: 1 })).ok).toBe(true);
    // Finalized but not yet graded: still not counted.
    expect((await leaderboardOverview(getDb())).variants.find((variant) => variant.slug === slug)?.gradedRuns).toBe(before);
    await markGraded(getDb(), run.id);
    expect((await leaderboardOverview(getDb())).variants.find((variant) => variant.slug === slug)?.gradedRuns).toBe(before + 1);
    const board = await variantLeaderboard(getDb(), { slug });
    expect(board?.rows.find((row) => row.recipe.slug === `${slug}-b`)?.aggregate.seeds).toEqual([1, 2]);
  });

  describe("public procedures", () => {
    it("serve the overview, a variant and a run's results without an account", async () => {
      const caller = createCaller({ db: getDb(), user: null, authMethod: null, origin: "http://localhost" });
      const overview = await caller.leaderboard.overview({ family: "string-ops" });
      expect(overview.variants.some((variant) => variant.slug === slug)).toBe(true);
      const board = await caller.leaderboard.variant({ slug, sort: "seeds" });
      expect(board.rows[0]?.recipe.slug).toBe(`${slug}-a`);
      await expect(caller.leaderboard.variant({ slug: "missing-variant" })).rejects.toThrow(/no task variant/);
      const results = await caller.results.run({ runId: firstRuns[2]?.id ?? "" });
      expect(results.graded).toBe(true);
    });
  });
});
