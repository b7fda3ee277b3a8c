// The paper's five claims and the explicit rules by which a study supports them or not.
// Gains are GRPO minus base greedy accuracy on a split, per seed; a gain "is there" when its
// 95% interval over seeds lies above zero, and "is absent" when the interval contains zero.
// One seed gives no interval: then a tolerance of GAIN_TOLERANCE stands in for it.
import type { OodAxis } from "@transcend/protocol";
import { type MeanWithInterval, meanWithCI, studentTQuantile } from "@transcend/tasks";
import type { RunSplitPoint, SplitAggregate } from "./aggregate";

export type Verdict = "supported" | "partly supported" | "not supported" | "inconclusive";
export type ClaimId = "a" | "b" | "c" | "d" | "e";

export interface ClaimResult {
  id: ClaimId;
  claim: string;
  /** The decision rule, in words, as the report prints it. */
  rule: string;
  verdict: Verdict;
  /** By how much: the numbers the verdict rests on. */
  evidence: string;
}

/**
 * A claim about what GRPO adds means nothing where pretraining taught nothing: an experiment
 * counts only when its base model's mean ID greedy accuracy reaches this.
 */
export const LEARNED_FLOOR = 0.1;
/** With one seed, gains within ±2 points count as none (a single run has no error bar). */
export const GAIN_TOLERANCE = 0.02;
/** Claim (d) looks where accuracy saturates: splits whose base accuracy is at least this. */
export const SATURATION_FLOOR = 0.5;
/** Claim (e): GRPO stays in the base model's support if at most this share of items are novel solves. */
export const NOVEL_SOLVE_TOLERANCE = 0.02;

export type GainClass = "positive" | "none" | "negative";

export function classifyGain(gain: MeanWithInterval): GainClass {
  if (gain.lower === null || gain.upper === null) {
    if (gain.mean > GAIN_TOLERANCE) return "positive";
    if (gain.mean < -GAIN_TOLERANCE) return "negative";
    return "none";
  }
  if (gain.lower > 0) return "positive";
  if (gain.upper < 0) return "negative";
  return "none";
}

const points = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)}`;

/** "+12.5 pp [+3.1, +21.9]" — a gain in percentage points with its interval. */
export function formatGain(gain: MeanWithInterval): string {
  const interval = gain.lower === null || gain.upper === null ? " (one seed)" : ` [${points(gain.lower)}, ${points(gain.upper)}]`;
  return `${points(gain.mean)} pp${interval}`;
}

/** Whether the experiment's base model learned its ID split (see LEARNED_FLOOR). */
function learned(aggregates: readonly SplitAggregate[], slug: string): boolean {
  const id = aggregates.find((a) => a.slug === slug && a.splitAxis === "id");
  return id !== undefined && id.base.greedyAccuracy.mean >= LEARNED_FLOOR;
}

function oodAggregates(aggregates: readonly SplitAggregate[], overlap: "zero" | "partial"): SplitAggregate[] {
  return aggregates.filter((a) => a.overlap === overlap && a.splitAxis !== "id");
}

function countVerdict(hits: number, total: number): Verdict {
  if (total === 0) return "inconclusive";
  if (hits === total) return "supported";
  if (hits === 0) return "not supported";
  return "partly supported";
}

function perAxis(list: readonly SplitAggregate[], aggregates: readonly SplitAggregate[]): string {
  return list
    .map((a) => `${a.axis} ${formatGain(a.gain.greedyAccuracy)}${learned(aggregates, a.slug) ? "" : " (ID not learned: not counted)"}`)
    .join("; ");
}

const NOT_LEARNED = `base ID accuracy ≥ ${100 * LEARNED_FLOOR}%`;

export interface SlopeEstimate {
  n: number;
  slope: number;
  lower: number;
  upper: number;
}

/** Least-squares slope of y on x with a 95% Student-t interval (n − 2 degrees of freedom). */
export function slopeWithCI(xs: readonly number[], ys: readonly number[], confidence = 0.95): SlopeEstimate | undefined {
  const n = xs.length;
  if (n !== ys.length) throw new RangeError("x and y differ in length");
  if (n < 3) return undefined;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] ?? 0) - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += ((ys[i] ?? 0) - my - slope * ((xs[i] ?? 0) - mx)) ** 2;
  const half = studentTQuantile((1 + confidence) / 2, n - 2) * Math.sqrt(sse / (n - 2) / sxx);
  return { n, slope, lower: slope - half, upper: slope + half };
}

export function evaluateClaims(aggregates: readonly SplitAggregate[], runSplits: readonly RunSplitPoint[]): ClaimResult[] {
  const claims: ClaimResult[] = [];

  // (a) Without overlap, GRPO gains nothing out of distribution.
  const zero = oodAggregates(aggregates, "zero");
  const zeroCounted = zero.filter((a) => learned(aggregates, a.slug));
  claims.push({
    id: "a",
    claim: "No OOD gain without pretraining overlap",
    rule:
      `for each axis at zero overlap whose ${NOT_LEARNED}, the OOD gain's 95% CI over seeds contains 0; ` +
      "supported if on every such axis, partly if on some, inconclusive if no axis counts",
    verdict: countVerdict(zeroCounted.filter((a) => classifyGain(a.gain.greedyAccuracy) === "none").length, zeroCounted.length),
    evidence: perAxis(zero, aggregates) || "no zero-overlap run finished",
  });

  // (b) With partial overlap, GRPO does gain out of distribution.
  const partial = oodAggregates(aggregates, "partial");
  const partialCounted = partial.filter((a) => learned(aggregates, a.slug));
  claims.push({
    id: "b",
    claim: "OOD gain with partial pretraining overlap",
    rule:
      `for each axis at partial (5%) overlap whose ${NOT_LEARNED}, the OOD gain's 95% CI lies above 0; ` +
      "supported if on every such axis, partly if on some, inconclusive if no axis counts",
    verdict: countVerdict(partialCounted.filter((a) => classifyGain(a.gain.greedyAccuracy) === "positive").length, partialCounted.length),
    evidence: perAxis(partial, aggregates) || "no partial-overlap run finished",
  });

  // (c) GRPO does not carry a skill over to tokens pretraining never showed.
  const representation = aggregates.find((a) => a.axis === ("representation" satisfies OodAxis) && a.overlap === "zero" && a.splitAxis !== "id");
  const representationId = aggregates.find((a) => a.axis === "representation" && a.overlap === "zero" && a.splitAxis === "id");
  const transfer = representation ? classifyGain(representation.gain.greedyAccuracy) : undefined;
  claims.push({
    id: "c",
    claim: "No transfer to an unseen token representation",
    rule: `at zero overlap on the representation axis, with ${NOT_LEARNED}, the OOD gain's 95% CI contains 0 (or lies below it)`,
    verdict:
      transfer === undefined || !representation || !learned(aggregates, representation.slug)
        ? "inconclusive"
        : transfer === "positive"
          ? "not supported"
          : "supported",
    evidence: representation
      ? `OOD (unseen tokens) ${formatGain(representation.gain.greedyAccuracy)}` +
        (representationId
          ? `, while ID ${formatGain(representationId.gain.greedyAccuracy)} from a base of ${(100 * representationId.base.greedyAccuracy.mean).toFixed(1)}%`
          : "")
      : "the representation-zero preset did not finish",
  });

  // (d) The gain shrinks as the base model saturates.
  const saturated = runSplits.filter((p) => p.baseAccuracy >= SATURATION_FLOOR);
  const slope = slopeWithCI(
    saturated.map((p) => p.baseAccuracy),
    saturated.map((p) => p.gain),
  );
  const idGain = runSplits.filter((p) => p.splitAxis === "id");
  claims.push({
    id: "d",
    claim: "ID gain shrinks as base accuracy saturates",
    rule:
      `over every (run, split) whose base accuracy is ≥ ${100 * SATURATION_FLOOR}%, the least-squares slope of gain on base accuracy ` +
      "has a 95% CI below 0 (supported) or above 0 (not supported); otherwise, or with fewer than 3 such points, inconclusive",
    verdict: slope === undefined ? "inconclusive" : slope.upper < 0 ? "supported" : slope.lower > 0 ? "not supported" : "inconclusive",
    evidence:
      (slope === undefined
        ? `${saturated.length} (run, split) pairs reached base accuracy ≥ ${100 * SATURATION_FLOOR}%: too few to fit a slope`
        : `slope ${slope.slope.toFixed(2)} [${slope.lower.toFixed(2)}, ${slope.upper.toFixed(2)}] over ${slope.n} (run, split) pairs`) +
      (idGain.length > 0 ? `; mean ID gain over all runs ${formatGain(meanWithCI(idGain.map((p) => p.gain)))}` : ""),
  });

  // (e) GRPO reweights; it does not solve what the base model never did. Some "novel solves"
  // are sampling noise (an item of small correct mass that n base samples happened to miss), so
  // the rule judges the excess over what noise alone would give (noiseNovelSolves).
  const excess = runSplits.map((p) => (p.items === 0 ? 0 : (p.novelSolves - p.noiseNovelSolves) / p.items));
  const novel = excess.length > 0 ? meanWithCI(excess) : undefined;
  const totalNovel = runSplits.reduce((sum, p) => sum + p.novelSolves, 0);
  const totalNoise = runSplits.reduce((sum, p) => sum + p.noiseNovelSolves, 0);
  const totalItems = runSplits.reduce((sum, p) => sum + p.items, 0);
  const upper = novel ? (novel.upper ?? novel.mean) : 0;
  // Nothing solved anywhere makes "no novel solves" empty, not evidence.
  const anyLearned = runSplits.some((p) => p.baseAccuracy >= LEARNED_FLOOR);
  claims.push({
    id: "e",
    claim: "GRPO stays within the base model's support (novel solves ≈ 0)",
    rule:
      "novel solves are items the GRPO model solves that the base model never did (greedy or n samples); per (run, split), their share of " +
      `the items in excess of what sampling noise alone gives: supported if its 95% CI's upper bound is ≤ ${100 * NOVEL_SOLVE_TOLERANCE}%, ` +
      `partly if only its mean is, not supported otherwise; inconclusive unless some split has base accuracy ≥ ${100 * LEARNED_FLOOR}%`,
    verdict: !novel || !anyLearned ? "inconclusive" : upper <= NOVEL_SOLVE_TOLERANCE ? "supported" : novel.mean <= NOVEL_SOLVE_TOLERANCE ? "partly supported" : "not supported",
    evidence: novel
      ? `${totalNovel} novel solves in ${totalItems} evaluated items, ${totalNoise.toFixed(1)} expected from sampling noise; ` +
        `excess per (run, split) ${(100 * novel.mean).toFixed(2)}%` +
        (novel.upper === null ? "" : ` (95% CI upper ${(100 * novel.upper).toFixed(2)}%)`) +
        `, at most ${Math.max(...runSplits.map((p) => p.novelSolves))} in one`
      : "no run finished",
  });
  return claims;
}
