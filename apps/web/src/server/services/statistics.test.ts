import { describe, expect, it } from "vitest";
import { meanWithCI, studentTQuantile } from "@transcend/tasks";
import {
  aggregateRuns,
  compareModels,
  interval,
  readRunStatistics,
  runStatistics,
  summariseSplit,
  wilsonInterval,
  type ItemOutcome,
  type RunStatistics,
} from "./statistics";

// Per-item fixtures: n = 4 samples per item, four items per split.
const items = (greedy: boolean[], correct: number[]): ItemOutcome[] =>
  correct.map((c, index) => ({ id: `item-${index}`, greedyCorrect: greedy[index] ?? false, correct: c }));

describe("the t quantile behind every interval", () => {
  it("matches the printed table of Student's t at 97.5%", () => {
    // Values from any t table (two-sided 95%).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736, 6);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652730, 8);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445105, 8);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272456, 8);
  });
});

describe("one split of one model", () => {
  it("greedy accuracy, correct mass, unbiased pass@k and pass@n", () => {
    const summary = summariseSplit(items([true, false, false, true], [0, 1, 2, 4]), 4, [1, 2, 4, 8]);
    expect(summary.greedyAccuracy).toBe(0.5);
    // (0 + 1 + 2 + 4) / 16
    expect(summary.meanCorrectMass).toBeCloseTo(7 / 16, 12);
    // pass@1 = c/n per item.
    expect(summary.passAtK["1"]).toBeCloseTo(7 / 16, 12);
    // pass@2 = 1 − C(4−c,2)/C(4,2): 0, 1 − 3/6, 1 − 1/6, 1 → (0 + 0.5 + 5/6 + 1) / 4.
    expect(summary.passAtK["2"]).toBeCloseTo((0.5 + 5 / 6 + 1) / 4, 12);
    // pass@4 with n = 4 is "solved at least once"; k beyond n is not reported.
    expect(summary.passAtK["4"]).toBe(0.75);
    expect(summary.passAtK).not.toHaveProperty("8");
    expect(summary.passAtN).toBe(0.75);
  });
});

describe("base against GRPO", () => {
  it("novel solves both ways, origin ceiling and gain", () => {
    const base = items([false, false, true, true], [0, 0, 1, 3]);
    const grpo = items([true, false, false, true], [2, 0, 0, 4]);
    const statistics = compareModels({
      split: "ood",
      axis: "depth",
      base: { summary: summariseSplit(base, 4, [1]), items: base },
      grpo: { summary: summariseSplit(grpo, 4, [1]), items: [...grpo].reverse() },
    });
    // item-0: 0 → 2 (gained); item-1: 0 → 0; item-2: 1 → 0 (lost); item-3: 3 → 4.
    expect(statistics.novelSolves).toEqual({ gained: 1, lost: 1 });
    // Base solved items 2 and 3 at least once: 2 of 4.
    expect(statistics.originCeiling).toBe(0.5);
    expect(statistics.gain.greedyAccuracy).toBe(0);
    // (6 − 4) / 16
    expect(statistics.gain.meanCorrectMass).toBeCloseTo(2 / 16, 12);
  });

  it("refuses item sets that differ between the models", () => {
    const base = items([false], [0]);
    const grpo: ItemOutcome[] = [{ id: "other", greedyCorrect: false, correct: 0 }];
    expect(() =>
      compareModels({
        split: "id",
        axis: "id",
        base: { summary: summariseSplit(base, 4, [1]), items: base },
        grpo: { summary: summariseSplit(grpo, 4, [1]), items: grpo },
      }),
    ).toThrow(/no GRPO outcome/);
  });
});

/** A run whose id split gains `idGain` and whose OOD split goes from `oodBase` to `oodGrpo` (greedy). */
function fixtureRun(idGain: number, oodBase: number, oodGrpo: number, gained: number): RunStatistics {
  const summary = (greedyAccuracy: number) => ({
    n: 4,
    items: 4,
    greedyAccuracy,
    meanCorrectMass: greedyAccuracy,
    passAtK: { "1": greedyAccuracy },
    passAtN: greedyAccuracy,
  });
  const split = (name: string, axis: string, base: number, grpo: number, novel: number) => ({
    split: name,
    axis,
    base: summary(base),
    grpo: summary(grpo),
    originCeiling: base,
    novelSolves: { gained: novel, lost: 0 },
    gain: { greedyAccuracy: grpo - base, meanCorrectMass: grpo - base },
  });
  return runStatistics([split("id", "id", 0.5, 0.5 + idGain, 0), split("ood", "depth", oodBase, oodGrpo, gained)]);
}

describe("a recipe over seeds", () => {
  it("mean ± 95% Student-t interval, by hand", () => {
    // OOD gains 0.1, 0.2, 0.3: mean 0.2, sd 0.1, half-width t(0.975, 2) · 0.1 / √3.
    const aggregate = aggregateRuns([
      { seed: 1, statistics: fixtureRun(0.25, 0.25, 0.35, 0) },
      { seed: 2, statistics: fixtureRun(0.25, 0.25, 0.45, 1) },
      { seed: 3, statistics: fixtureRun(0.25, 0.25, 0.55, 2) },
    ]);
    expect(aggregate.ranked).toBe(true);
    expect(aggregate.seeds).toEqual([1, 2, 3]);
    const half = (4.302652729749464 * 0.1) / Math.sqrt(3);
    expect(aggregate.oodGain?.mean).toBeCloseTo(0.2, 12);
    expect(aggregate.oodGain?.halfWidth).toBeCloseTo(half, 9);
    expect(aggregate.oodGain?.halfWidth).toBeCloseTo(0.248413771, 8);
    expect(aggregate.oodGain?.lower).toBeCloseTo(0.2 - half, 9);
    // No spread over seeds: a zero-width interval, not a missing one.
    expect(aggregate.idGain).toMatchObject({ mean: 0.25, halfWidth: 0 });
    const ood = aggregate.splits.find((split) => split.split === "ood");
    // Novel solves 0, 1, 2: mean 1, sd 1, half-width 4.3027 / √3.
    expect(ood?.novelSolves.gained.mean).toBe(1);
    expect(ood?.novelSolves.gained.halfWidth).toBeCloseTo(4.302652729749464 / Math.sqrt(3), 9);
    expect(ood?.grpo.greedyAccuracy.mean).toBeCloseTo(0.45, 12);
    expect(ood?.base.passAtK["1"]?.mean).toBe(0.25);
    expect(ood?.originCeiling.mean).toBe(0.25);
  });

  it("needs three distinct seeds to be ranked; one seed has no interval", () => {
    const one = aggregateRuns([{ seed: 7, statistics: fixtureRun(0.1, 0, 0.2, 0) }]);
    expect(one).toMatchObject({ ranked: false, runs: 1, seeds: [7] });
    expect(one.oodGain).toMatchObject({ mean: 0.2, halfWidth: null, lower: null });
    const twoSeeds = aggregateRuns([
      { seed: 7, statistics: fixtureRun(0.1, 0, 0.2, 0) },
      { seed: 7, statistics: fixtureRun(0.1, 0, 0.2, 0) },
      { seed: 8, statistics: fixtureRun(0.1, 0, 0.2, 0) },
    ]);
    expect(twoSeeds).toMatchObject({ ranked: false, runs: 3, seeds: [7, 8] });
  });

  it("agrees with meanWithCI of packages/tasks", () => {
    for (const values of [[0.1, 0.4, 0.35], [1, 2, 3, 4, 5, 6, 7], [0.5, 0.5]]) {
      const reference = meanWithCI(values);
      const mine = interval(values);
      expect(mine.mean).toBeCloseTo(reference.mean, 12);
      expect(mine.halfWidth).toBeCloseTo(reference.halfWidth ?? Number.NaN, 12);
    }
  });

  it("interval of two values: t(0.975, 1) · sd / √2", () => {
    // 0 and 1: mean 0.5, sd √0.5, half-width 12.7062 · √0.5 / √2 = 12.7062 / 2.
    expect(interval([0, 1]).halfWidth).toBeCloseTo(12.706204736 / 2, 6);
  });
});

describe("Wilson interval", () => {
  it("matches the closed form at 8 of 10 and stays inside [0, 1] at the edges", () => {
    // p = 0.8, n = 10, z = 1.96: centre (0.8 + 0.19208) / 1.38415, half 1.96·√(0.016 + 0.0096040)/1.38415.
    const { lower, upper } = wilsonInterval(8, 10);
    expect(lower).toBeCloseTo(0.49016, 4);
    expect(upper).toBeCloseTo(0.94332, 4);
    expect(wilsonInterval(0, 20).lower).toBe(0);
    expect(wilsonInterval(20, 20).upper).toBe(1);
    expect(wilsonInterval(20, 20).lower).toBeGreaterThan(0.8);
  });
});

describe("stored statistics", () => {
  it("are read back as written, and anything malformed goes through the schema", () => {
    const stored = JSON.parse(JSON.stringify(fixtureRun(0.1, 0.2, 0.3, 1))) as unknown;
    expect(readRunStatistics(stored)).toEqual(fixtureRun(0.1, 0.2, 0.3, 1));
    expect(() => readRunStatistics({ splits: [{ split: "id" }] })).toThrow();
    expect(() => readRunStatistics(null)).toThrow();
  });
});
