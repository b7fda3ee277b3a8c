import { meanWithCI, resolveVariant } from "@transcend/tasks";
import { describe, expect, it } from "vitest";
import { compareSplit, summarizeSplit } from "../training/evaluation";
import { modelConfigFor } from "../training/config";
import { ENGINE_VERSION, RESULTS_FORMAT, type RunResults } from "../training/job";
import { aggregateSplits, itemPoints, noiseNovelSolves, optimalCorrectMass, runSplitPoints, type StudyRun } from "./aggregate";
import { classifyGain, evaluateClaims, formatGain, GAIN_TOLERANCE, slopeWithCI } from "./claims";
import { studyPresets, studyRecipe } from "./study";

const recipe = studyRecipe("ci");
const N = 4;

/** Per split: each item's correct samples out of N and whether its greedy answer verified, base and GRPO. */
type SplitSpec = { base: [correct: number, greedy: 0 | 1][]; final: [correct: number, greedy: 0 | 1][] };

/** A run's results built with the engine's own summarizeSplit/compareSplit from per-item scores. */
function studyRun(slug: string, seed: number, splits: Record<string, SplitSpec>): StudyRun {
  const preset = studyPresets("string-ops").find((p) => p.slug === slug);
  if (!preset) throw new Error(slug);
  const variant = resolveVariant(preset.variant);
  const evaluation: RunResults["evaluation"] = {};
  for (const [split, spec] of Object.entries(splits)) {
    const scores = (list: SplitSpec["base"]) => list.map(([correct, greedy], i) => ({ id: `${split}-${i}`, correct, greedyReward: greedy }));
    const base = summarizeSplit(split, scores(spec.base), N, [1, 4]);
    const final = summarizeSplit(split, scores(spec.final), N, [1, 4]);
    evaluation[split] = { base, final, comparison: compareSplit(base, final) };
  }
  const config = modelConfigFor(recipe.model, variant.tokenizer.size);
  const results: RunResults = {
    format: RESULTS_FORMAT,
    engine: { version: ENGINE_VERSION, backend: "wasm", label: "tfjs-wasm", threads: 1, matmul: "wasm-simd" },
    variant: preset.variant,
    recipe,
    seed,
    model: { config, parameters: 1, forwardFlopsPerToken: 1 },
    origin: { key: "k", reused: false },
    pretraining: { steps: 1, initialLoss: 2, finalLoss: 1, losses: [2, 1], tokens: 10 },
    grpo: { steps: 1, initialReward: 0, finalReward: 0, history: [] },
    evaluation,
    checkpoints: {},
    timings: { pretraining: 1, "evaluating-base": 1, grpo: 1, "evaluating-final": 1, total: 4 },
  };
  return { slug, axis: preset.axis, overlap: preset.overlap, seed, results };
}

/**
 * A split of `items` items of which the first `base` (then `final`) are solved greedily and in
 * every sample; the base model also solves 1 of N samples of the items up to `support`.
 */
function solved(items: number, base: number, final: number, support = base): SplitSpec {
  const list = (k: number, tail: number) =>
    Array.from({ length: items }, (_, i): [number, 0 | 1] => (i < k ? [N, 1] : i < tail ? [1, 0] : [0, 0]));
  return { base: list(base, support), final: list(final, final) };
}

describe("aggregation", () => {
  const runs = [
    studyRun("string-ops-depth-zero", 1, { id: solved(10, 5, 7), ood: solved(10, 0, 0) }),
    studyRun("string-ops-depth-zero", 2, { id: solved(10, 6, 9), ood: solved(10, 0, 1) }),
    studyRun("string-ops-depth-zero", 3, { id: solved(10, 4, 5), ood: solved(10, 0, 0) }),
  ];

  it("takes the mean and 95% CI over seeds of each split's accuracies and gains", () => {
    const [id, ood] = aggregateSplits(runs);
    expect(id?.split).toBe("id");
    expect(id?.splitAxis).toBe("id");
    expect(id?.seeds).toEqual([1, 2, 3]);
    expect(id?.base.greedyAccuracy).toEqual(meanWithCI([0.5, 0.6, 0.4]));
    expect(id?.final.greedyAccuracy).toEqual(meanWithCI([0.7, 0.9, 0.5]));
    expect(id?.gain.greedyAccuracy.mean).toBeCloseTo(0.2, 12);
    expect(id?.gain.greedyAccuracy.halfWidth).toBeCloseTo(meanWithCI([0.2, 0.3, 0.1]).halfWidth ?? Number.NaN, 12);
    expect(ood?.splitAxis).toBe("depth");
    expect(ood?.novelSolves).toEqual(meanWithCI([0, 1, 0]));
    expect(ood?.novelSolveRate.mean).toBeCloseTo(1 / 30, 12);
    expect(ood?.base.passAtN.mean).toBe(0);
  });

  it("keeps one point per run and split, and one per evaluated item", () => {
    expect(runSplitPoints(runs)).toHaveLength(6);
    const items = itemPoints(runs);
    expect(items).toHaveLength(60);
    expect(items.filter((i) => i.split === "id" && i.seed === 2 && i.finalMass === 1)).toHaveLength(9);
  });

  it("expects novel solves from sampling noise only where an item's correct mass is neither 0 nor 1", () => {
    const score = (id: string, correct: number) => ({ id, correct, greedyReward: 0 });
    expect(noiseNovelSolves([score("a", 0), score("b", 4)], [score("a", 0), score("b", 4)], 4)).toBe(0);
    // pooled Q = 4/8: the base misses all 4 with (1/2)^4, the other 4 samples hit with 1 − (1/2)^4
    expect(noiseNovelSolves([score("a", 0)], [score("a", 4)], 4)).toBeCloseTo((1 / 16) * (15 / 16), 12);
    expect(noiseNovelSolves([score("a", 1)], [score("b", 4)], 4)).toBe(0);
  });

  it("computes the theory's optimum without overflowing at small β", () => {
    expect(optimalCorrectMass(0, 0.04)).toBe(0);
    expect(optimalCorrectMass(1, 0.04)).toBe(1);
    expect(optimalCorrectMass(0.5, 1)).toBeCloseTo(Math.E / (Math.E + 1), 12);
    expect(optimalCorrectMass(0.01, 0.04)).toBeGreaterThan(0.999);
    expect(optimalCorrectMass(1e-15, 0.04)).toBeLessThan(0.001);
    expect(() => optimalCorrectMass(1.5, 1)).toThrow(RangeError);
  });
});

describe("claim rules", () => {
  it("classifies a gain by its interval, or by a tolerance with one seed", () => {
    expect(classifyGain(meanWithCI([0.1, 0.2, 0.15]))).toBe("positive");
    expect(classifyGain(meanWithCI([-0.1, 0.2, 0.05]))).toBe("none");
    expect(classifyGain(meanWithCI([0, 0, 0]))).toBe("none");
    expect(classifyGain(meanWithCI([-0.3, -0.2, -0.25]))).toBe("negative");
    expect(classifyGain(meanWithCI([GAIN_TOLERANCE]))).toBe("none");
    expect(classifyGain(meanWithCI([0.05]))).toBe("positive");
    expect(formatGain(meanWithCI([0.1, 0.2, 0.15]))).toMatch(/^\+15\.0 pp \[\+2\.6, \+27\.4\]$/);
  });

  it("fits a slope with an interval, and declines with fewer than three points", () => {
    const slope = slopeWithCI([0.5, 0.6, 0.7, 0.8, 0.9], [0.3, 0.24, 0.17, 0.1, 0.05]);
    expect(slope?.slope).toBeCloseTo(-0.64, 6);
    expect(slope?.upper).toBeLessThan(0);
    expect(slopeWithCI([0.5, 0.6], [0.1, 0.2])).toBeUndefined();
    expect(slopeWithCI([0.5, 0.5, 0.5], [0.1, 0.2, 0.3])).toBeUndefined();
  });

  it("supports the paper where the numbers behave as it says", () => {
    const runs = [1, 2, 3].flatMap((seed) => [
      // zero overlap: ID learned and improved, OOD stays at zero
      studyRun("string-ops-depth-zero", seed, { id: solved(20, 10 + seed, 14 + seed, 20), ood: solved(20, 0, 0) }),
      studyRun("string-ops-representation-zero", seed, { id: solved(20, 12 + seed, 15 + seed, 20), ood: solved(20, 0, 0) }),
      // partial overlap: OOD starts above zero and GRPO raises it, within the base model's support
      studyRun("string-ops-depth-partial", seed, { id: solved(20, 16 + seed, 17 + seed, 20), ood: solved(20, 4, 8 + seed, 13) }),
      studyRun("string-ops-representation-partial", seed, { id: solved(20, 17, 18, 20), ood: solved(20, 5 + seed, 9 + seed, 13) }),
    ]);
    const claims = evaluateClaims(aggregateSplits(runs), runSplitPoints(runs));
    const verdict = Object.fromEntries(claims.map((c) => [c.id, c.verdict]));
    expect(verdict).toEqual({ a: "supported", b: "supported", c: "supported", d: "supported", e: "supported" });
    expect(claims.find((c) => c.id === "a")?.evidence).toContain("depth +0.0 pp [+0.0, +0.0]");
    expect(claims.find((c) => c.id === "d")?.evidence).toMatch(/^slope -0\.\d\d \[/);
  });

  it("says not supported where the numbers contradict it", () => {
    const runs = [1, 2, 3].flatMap((seed) => [
      // GRPO solves OOD items the base model never did, at zero overlap
      studyRun("string-ops-representation-zero", seed, { id: solved(20, 10, 12), ood: solved(20, 0, 5 + seed) }),
      studyRun("string-ops-depth-partial", seed, { id: solved(20, 10, 12), ood: solved(20, 5, 5) }),
    ]);
    const claims = evaluateClaims(aggregateSplits(runs), runSplitPoints(runs));
    const verdict = Object.fromEntries(claims.map((c) => [c.id, c.verdict]));
    expect(verdict.a).toBe("not supported");
    expect(verdict.b).toBe("not supported");
    expect(verdict.c).toBe("not supported");
    expect(verdict.e).toBe("not supported");
  });

  it("is inconclusive where pretraining taught nothing", () => {
    const runs = [1, 2].map((seed) => studyRun("string-ops-representation-zero", seed, { id: solved(20, 0, 0), ood: solved(20, 0, 0) }));
    const claims = evaluateClaims(aggregateSplits(runs), runSplitPoints(runs));
    for (const claim of claims) expect(claim.verdict, claim.id).toBe("inconclusive");
    expect(claims.find((c) => c.id === "a")?.evidence).toContain("ID not learned");
  });
});
