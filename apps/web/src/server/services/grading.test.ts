import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluationResults, runResults, runs, runVerifications } from "@transcend/db/schema";
import { describeEachDatabase } from "@transcend/db/testing";
import { passAtK } from "@transcend/tasks";
import {
  createRun,
  createTestRecipe,
  createUser,
  createVariant,
  answerAll,
  answerSplit,
  createRunner,
  firstRight,
  gradeRun,
  markGraded,
  TEST_EVALUATION,
  WRONG_COMPLETION,
} from "../../test/graded-runs";
import { checkVerification, evaluationSet, finalize, isGradingError, recordCompletions, referenceCompletions, type CompletionEntry } from "./grading";
import { runStatisticsSchema, splitSummarySchema } from "./statistics";

const N = TEST_EVALUATION.samplesPerItem;

describeEachDatabase("grading", (getDb) => {
  let userId = "";
  let variantId = "";
  let recipeId = "";
  const newRun = (seed = 1) => createRun(getDb(), { variantId, recipeId, submitterId: userId, seed });

  beforeAll(async () => {
    userId = await createUser(getDb(), "grader");
    variantId = (await createVariant(getDb(), userId)).id;
    recipeId = (await createTestRecipe(getDb(), userId)).id;
  });

  const resultsOf = (runId: string) => getDb().select().from(evaluationResults).where(eq(evaluationResults.runId, runId));

  describe("evaluation sets", () => {
    it("sends the same prompts to both models, without answers, under ids unique to the run", async () => {
      const [a, b] = [await newRun(), await newRun()];
      const ref = { runId: a.id, attempt: 1, split: "id" } as const;
      const base = await evaluationSet(getDb(), { ...ref, model: "base" });
      const grpo = await evaluationSet(getDb(), { ...ref, model: "grpo" });
      expect(base.samplesPerItem).toBe(N);
      expect(base.items).toHaveLength(TEST_EVALUATION.itemsPerSplit);
      expect(grpo).toEqual(base);
      expect(base.items.every((item) => !item.prompt.includes("<answer>") && item.prompt[0] === "<bos>")).toBe(true);
      const other = await evaluationSet(getDb(), { runId: b.id, attempt: 1, model: "base", split: "id" });
      const ids = new Set(base.items.map((item) => item.id));
      expect(other.items.some((item) => ids.has(item.id))).toBe(false);
      // Different secret seeds draw different items.
      expect(other.items.map((item) => item.prompt.join(" "))).not.toEqual(base.items.map((item) => item.prompt.join(" ")));
    });

    it("refuses splits the variant does not evaluate, stale attempts and unknown runs", async () => {
      const run = await newRun();
      const refusal = (promise: Promise<unknown>) =>
        promise.then(
          () => "accepted",
          (error: unknown) => (isGradingError(error) ? error.code : String(error)),
        );
      expect(await refusal(evaluationSet(getDb(), { runId: run.id, attempt: 1, model: "base", split: "nope" }))).toBe("not_evaluated");
      expect(await refusal(evaluationSet(getDb(), { runId: run.id, attempt: 2, model: "base", split: "id" }))).toBe("stale_attempt");
      expect(
        await refusal(evaluationSet(getDb(), { runId: "00000000-0000-4000-8000-000000000000", attempt: 1, model: "base", split: "id" })),
      ).toBe("not_found");
      await getDb().update(runs).set({ state: "cancelled" }).where(eq(runs.id, run.id));
      expect(await refusal(evaluationSet(getDb(), { runId: run.id, attempt: 1, model: "base", split: "id" }))).toBe("closed");
    });
  });

  describe("an honest runner", () => {
    it("is graded once every item has its greedy and n samples, duplicates and all", async () => {
      const run = await newRun();
      const ref = { runId: run.id, attempt: 1, model: "base", split: "id" } as const;
      // Item i: greedy right on even items, i mod 5 of 4 samples right (capped at n).
      const skill = (index: number) => ({ greedy: index % 2 === 0, correct: Math.min(index % 5, N) });
      const set = await evaluationSet(getDb(), ref);
      const answers = await referenceCompletions(getDb(), ref);
      const entries: CompletionEntry[] = set.items.flatMap((item, index) =>
        Array.from({ length: N + 1 }, (_, sample) => {
          const right = sample === 0 ? skill(index).greedy : sample <= skill(index).correct;
          return { itemId: item.id, sample, tokens: right ? (answers.get(item.id) ?? []) : WRONG_COMPLETION };
        }),
      );
      const last = entries.pop();
      if (last === undefined) throw new Error("no entries");
      expect(await recordCompletions(getDb(), { ...ref, entries })).toEqual({ splitGraded: false });
      // Re-sent after a reconnect, and a later, different answer for a sample already graded.
      expect(await recordCompletions(getDb(), { ...ref, entries: entries.slice(0, 20) })).toEqual({ splitGraded: false });
      expect(await resultsOf(run.id)).toHaveLength(0);
      expect(await recordCompletions(getDb(), { ...ref, entries: [last] })).toEqual({ splitGraded: true });
      expect(await recordCompletions(getDb(), { ...ref, entries: [last] })).toEqual({ splitGraded: true });

      const rows = await resultsOf(run.id);
      expect(rows).toHaveLength(1);
      const row = rows[0];
      expect(row?.itemCount).toBe(8);
      expect(row?.items).toEqual(
        set.items.map((item, index) => ({ id: item.id, greedyCorrect: index % 2 === 0, correct: Math.min(index % 5, N) })),
      );
      // Correct counts over items 0..7: 0 1 2 3 4 0 1 2 (of n = 4).
      const counts = [0, 1, 2, 3, 4, 0, 1, 2];
      const summary = splitSummarySchema.parse(row?.summary);
      expect(summary.greedyAccuracy).toBe(0.5);
      expect(summary.meanCorrectMass).toBeCloseTo(13 / 32, 12);
      expect(summary.passAtN).toBe(6 / 8);
      expect(summary.passAtK["1"]).toBeCloseTo(13 / 32, 12);
      // pass@2 per item = 1 − C(4−c, 2)/C(4, 2): c=0 → 0, 1 → 1/2, 2 → 5/6, 3,4 → 1.
      expect(summary.passAtK["2"]).toBeCloseTo((0 + 0.5 + 5 / 6 + 1 + 1 + 0 + 0.5 + 5 / 6) / 8, 12);
      expect(summary.passAtK["2"]).toBeCloseTo(counts.reduce((s, c) => s + passAtK(4, c, 2), 0) / 8, 12);
      expect(summary.passAtK["4"]).toBe(6 / 8);
    });

    it("finalizes only when both models of every evaluated split are graded", async () => {
      const run = await newRun();
      const all = () => ({ greedy: true, correct: N });
      await answerSplit(getDb(), { runId: run.id, attempt: 1, model: "base", split: "id" }, all);
      const partial = await finalize(getDb(), { runId: run.id, attempt: 1 });
      expect(partial.ok).toBe(false);
      if (!partial.ok) expect(partial.reason).toMatch(/base\/ood.*grpo\/id.*grpo\/ood/);
      await answerAll(getDb(), run, ["id", "ood"], { base: { id: all }, grpo: { id: all, ood: all } });
      expect(await finalize(getDb(), { runId: run.id, attempt: 1 })).toEqual({ ok: true });
    });

    it("counts a completion longer than the recipe's maxNewTokens as wrong", async () => {
      const run = await newRun();
      const ref = { runId: run.id, attempt: 1, model: "base", split: "id" } as const;
      const set = await evaluationSet(getDb(), ref);
      const answers = await referenceCompletions(getDb(), ref);
      const padded = (id: string) => [...(answers.get(id) ?? []), ...Array<string>(TEST_EVALUATION.maxNewTokens).fill("a")];
      const entries = set.items.flatMap((item) =>
        Array.from({ length: N + 1 }, (_, sample) => ({ itemId: item.id, sample, tokens: padded(item.id) })),
      );
      expect(await recordCompletions(getDb(), { ...ref, entries })).toEqual({ splitGraded: true });
      const [row] = await resultsOf(run.id);
      expect(splitSummarySchema.parse(row?.summary).greedyAccuracy).toBe(0);
    });
  });

  describe("fake runners publish nothing", () => {
    it("a runner that claims perfect accuracy without evaluating cannot finalize", async () => {
      const run = await newRun();
      // Its `finished.selfReported` is never read by the grader: there is nothing to pass it to.
      const result = await finalize(getDb(), { runId: run.id, attempt: 1 });
      expect(result.ok).toBe(false);
      expect(await resultsOf(run.id)).toHaveLength(0);
    });

    it("a runner that replays another run's completions is never graded under the old ids, and wrong under the new", async () => {
      const [original, replay] = [await newRun(), await newRun()];
      const originalRef = { runId: original.id, attempt: 1, model: "base", split: "id" } as const;
      const answers = await referenceCompletions(getDb(), originalRef);
      const recorded: CompletionEntry[] = [...answers].flatMap(([itemId, tokens]) =>
        Array.from({ length: N + 1 }, (_, sample) => ({ itemId, sample, tokens })),
      );
      const replayRef = { runId: replay.id, attempt: 1, model: "base", split: "id" } as const;
      // Verbatim: every id is foreign to this run, so nothing counts.
      expect(await recordCompletions(getDb(), { ...replayRef, entries: recorded })).toEqual({ splitGraded: false });
      expect(await resultsOf(replay.id)).toHaveLength(0);
      expect((await finalize(getDb(), { runId: replay.id, attempt: 1 })).ok).toBe(false);

      // Re-labelled onto this run's ids in order: the answers are for other prompts.
      const set = await evaluationSet(getDb(), replayRef);
      const originalIds = [...answers.keys()];
      const relabelled = recorded.map((entry) => {
        const index = originalIds.indexOf(entry.itemId);
        return { ...entry, itemId: set.items[index]?.id ?? "" };
      });
      expect(await recordCompletions(getDb(), { ...replayRef, entries: relabelled })).toEqual({ splitGraded: true });
      const [row] = await resultsOf(replay.id);
      const own = await referenceCompletions(getDb(), replayRef);
      // Only items whose answer happens to coincide could count; with distinct prompts that is rare.
      const coincide = set.items.filter((item, index) => {
        const theirs = answers.get(originalIds[index] ?? "");
        return theirs !== undefined && JSON.stringify(theirs.slice(theirs.indexOf("<answer>"))) === JSON.stringify(own.get(item.id)?.slice(own.get(item.id)?.indexOf("<answer>")));
      }).length;
      const summary = splitSummarySchema.parse(row?.summary);
      expect(summary.greedyAccuracy).toBe(coincide / set.items.length);
      expect(summary.greedyAccuracy).toBeLessThan(0.5);
    });

    it("a runner that answers items it was never sent gets nothing counted", async () => {
      const run = await newRun();
      const ref = { runId: run.id, attempt: 1, model: "base", split: "id" } as const;
      const set = await evaluationSet(getDb(), ref);
      const answers = await referenceCompletions(getDb(), ref);
      const right = answers.get(set.items[0]?.id ?? "") ?? [];
      const invented: CompletionEntry[] = Array.from({ length: 40 }, (_, index) => ({
        itemId: `made-up-${index}`,
        sample: index % (N + 1),
        tokens: right,
      }));
      // Samples beyond n for a real item are not counted either.
      invented.push({ itemId: set.items[0]?.id ?? "", sample: N + 1, tokens: right });
      expect(await recordCompletions(getDb(), { ...ref, entries: invented })).toEqual({ splitGraded: false });
      // Its real items answered wrong: the split grades at 0 whatever it invented.
      const wrong = set.items.flatMap((item) =>
        Array.from({ length: N + 1 }, (_, sample) => ({ itemId: item.id, sample, tokens: WRONG_COMPLETION })),
      );
      expect(await recordCompletions(getDb(), { ...ref, entries: wrong })).toEqual({ splitGraded: true });
      const [row] = await getDb()
        .select()
        .from(evaluationResults)
        .where(and(eq(evaluationResults.runId, run.id), eq(evaluationResults.split, "id")));
      expect(row?.itemCount).toBe(8);
      const summary = splitSummarySchema.parse(row?.summary);
      expect(summary).toMatchObject({ greedyAccuracy: 0, meanCorrectMass: 0, passAtN: 0 });
    });
  });

  describe("finalize and verification", () => {
    it("stores the run's statistics once graded", async () => {
      const run = await newRun();
      await gradeRun(getDb(), run, ["id", "ood"], {
        base: { id: firstRight(4, N), ood: firstRight(1, N) },
        grpo: { id: firstRight(6, N), ood: firstRight(3, N) },
      });
      const [row] = await getDb().select().from(runResults).where(eq(runResults.runId, run.id));
      expect(row?.attempt).toBe(1);
      // id: 4/8 → 6/8; ood: 1/8 → 3/8, two items never solved by base now solved.
      expect(row?.idGain).toBeCloseTo(0.25, 12);
      expect(row?.oodGain).toBeCloseTo(0.25, 12);
      const statistics = runStatisticsSchema.parse(row?.statistics);
      expect(statistics.splits.find((split) => split.split === "ood")).toMatchObject({
        axis: "depth",
        originCeiling: 1 / 8,
        novelSolves: { gained: 2, lost: 0 },
      });
    });

    it("marks the original verified by a reproduction within its interval on another owner's runner", async () => {
      const otherUser = await createUser(getDb(), "verifier");
      const [mine, theirs] = [await createRunner(getDb(), userId), await createRunner(getDb(), otherUser)];
      const skills = { base: { id: firstRight(4, N), ood: firstRight(1, N) }, grpo: { id: firstRight(6, N), ood: firstRight(2, N) } };
      const original = await createRun(getDb(), { variantId, recipeId, submitterId: userId, seed: 11, runnerId: mine });
      await gradeRun(getDb(), original, ["id", "ood"], skills);

      // Same owner: no verification.
      const own = await createRun(getDb(), { variantId, recipeId, submitterId: userId, seed: 11, runnerId: mine, reproducesRunId: original.id });
      await gradeRun(getDb(), own, ["id", "ood"], skills);
      expect(await checkVerification(getDb(), own.id)).toMatchObject({ verified: false, reason: expect.stringMatching(/different owner/) });

      // Far outside the interval (everything right): no verification.
      const far = await createRun(getDb(), { variantId, recipeId, submitterId: otherUser, seed: 11, runnerId: theirs, reproducesRunId: original.id });
      const all = firstRight(8, N);
      await gradeRun(getDb(), far, ["id", "ood"], { base: { id: all, ood: all }, grpo: { id: all, ood: all } });
      expect(await checkVerification(getDb(), far.id)).toMatchObject({ verified: false, reason: expect.stringMatching(/outside/) });
      expect(await getDb().select().from(runVerifications).where(eq(runVerifications.runId, original.id))).toHaveLength(0);

      // Within: one grader's item more on id (5/8 inside Wilson [0.215, 0.785] of 4/8).
      const close = await createRun(getDb(), { variantId, recipeId, submitterId: otherUser, seed: 11, runnerId: theirs, reproducesRunId: original.id });
      await answerAll(getDb(), close, ["id", "ood"], { ...skills, base: { id: firstRight(5, N), ood: firstRight(1, N) } });
      // finalize checks verification itself.
      expect(await finalize(getDb(), { runId: close.id, attempt: 1 })).toEqual({ ok: true });
      await markGraded(getDb(), close.id);
      const verifications = await getDb().select().from(runVerifications).where(eq(runVerifications.runId, original.id));
      expect(verifications).toMatchObject([{ verifierRunId: close.id, verifiedBy: otherUser, runnerId: theirs }]);
      expect(await checkVerification(getDb(), close.id)).toEqual({ verified: true, verifiedBy: otherUser });
      expect(await getDb().select().from(runVerifications).where(eq(runVerifications.runId, original.id))).toHaveLength(1);
    });
  });
});
