// Honest statistics of server-graded results (DESIGN.md §1.1): per split and model the
// greedy accuracy, unbiased pass@k and mean correct mass; per run the origin ceiling, novel
// solves both ways and the GRPO gain; per (variant, recipe) the mean over seeds with a 95%
// Student-t interval, ranked only from RANKING_MIN_SEEDS seeds on. Pure functions: the
// grader, the leaderboard and the results router share them, and tests check them against
// values worked out by hand.
import { z } from "zod";
import { meanPassAtK, studentTQuantile } from "@transcend/tasks";

/** A leaderboard row needs this many seeds before it is ranked; fewer are shown as "needs seeds". */
export const RANKING_MIN_SEEDS = 3;

/** One graded item of one model on one split: `correct` of the split's n samples verified. */
export const itemOutcomeSchema = z.object({
  id: z.string(),
  greedyCorrect: z.boolean(),
  correct: z.number().int().min(0),
});
export type ItemOutcome = z.infer<typeof itemOutcomeSchema>;

/** Aggregates of one model on one split, stored as `evaluation_results.summary`. */
export const splitSummarySchema = z.object({
  /** Sampled completions per item (besides the greedy one). */
  n: z.number().int().min(1),
  items: z.number().int().min(1),
  greedyAccuracy: z.number(),
  /** Mean over items of the fraction of n samples that verified: the estimated correct mass Q. */
  meanCorrectMass: z.number(),
  /** Unbiased pass@k per k of the recipe (keys are k as decimal strings). */
  passAtK: z.record(z.string(), z.number()),
  /** pass@n: the share of items solved at least once in n samples. */
  passAtN: z.number(),
});
export type SplitSummary = z.infer<typeof splitSummarySchema>;

/** What every evaluated split of a run shows, both models side by side. */
export const splitStatisticsSchema = z.object({
  split: z.string(),
  /** The split's axis (id, depth, length, representation, composition). */
  axis: z.string(),
  base: splitSummarySchema,
  grpo: splitSummarySchema,
  /** The base model's pass@n: what reweighting alone can at most reach. */
  originCeiling: z.number(),
  novelSolves: z.object({
    /** Items with 0 of n correct under the base model and ≥ 1 under GRPO (theory: ≈ 0). */
    gained: z.number().int().min(0),
    /** Items the base model solved at least once that GRPO never solves. */
    lost: z.number().int().min(0),
  }),
  /** GRPO minus base. */
  gain: z.object({ greedyAccuracy: z.number(), meanCorrectMass: z.number() }),
});
export type SplitStatistics = z.infer<typeof splitStatisticsSchema>;

export const runStatisticsSchema = z.object({
  splits: z.array(splitStatisticsSchema),
  /** Mean greedy-accuracy gain over the OOD splits; null when only the id split is evaluated. */
  oodGain: z.number().nullable(),
  /** Greedy-accuracy gain on the id split; null when it is not evaluated. */
  idGain: z.number().nullable(),
});
export type RunStatistics = z.infer<typeof runStatisticsSchema>;

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Aggregates of one model on one split from its per-item outcomes. */
export function summariseSplit(items: readonly ItemOutcome[], n: number, kValues: readonly number[]): SplitSummary {
  if (items.length === 0) throw new RangeError("a split summary needs at least one item");
  const counts = items.map((item) => ({ n, correct: item.correct }));
  const passAtK: Record<string, number> = {};
  for (const k of [...new Set(kValues)].sort((a, b) => a - b)) {
    if (k <= n) passAtK[String(k)] = meanPassAtK(counts, k);
  }
  return {
    n,
    items: items.length,
    greedyAccuracy: items.filter((item) => item.greedyCorrect).length / items.length,
    meanCorrectMass: mean(items.map((item) => item.correct / n)),
    passAtK,
    passAtN: items.filter((item) => item.correct > 0).length / items.length,
  };
}

/**
 * Base against GRPO on one split. Items are matched by id (the grader sends both models
 * the same items); an item graded for one model only is a grader bug, so it throws.
 */
export function compareModels(input: {
  split: string;
  axis: string;
  base: { summary: SplitSummary; items: readonly ItemOutcome[] };
  grpo: { summary: SplitSummary; items: readonly ItemOutcome[] };
}): SplitStatistics {
  const grpoById = new Map(input.grpo.items.map((item) => [item.id, item]));
  if (grpoById.size !== input.base.items.length) {
    throw new Error(`split ${input.split}: base and GRPO were graded on different item sets`);
  }
  let gained = 0;
  let lost = 0;
  for (const base of input.base.items) {
    const grpo = grpoById.get(base.id);
    if (grpo === undefined) throw new Error(`split ${input.split}: item ${base.id} has no GRPO outcome`);
    if (base.correct === 0 && grpo.correct > 0) gained++;
    if (base.correct > 0 && grpo.correct === 0) lost++;
  }
  const { base, grpo } = input;
  return {
    split: input.split,
    axis: input.axis,
    base: base.summary,
    grpo: grpo.summary,
    originCeiling: base.summary.passAtN,
    novelSolves: { gained, lost },
    gain: {
      greedyAccuracy: grpo.summary.greedyAccuracy - base.summary.greedyAccuracy,
      meanCorrectMass: grpo.summary.meanCorrectMass - base.summary.meanCorrectMass,
    },
  };
}

/** A run's statistics from its compared splits; the headline gains are greedy-accuracy gains. */
export function runStatistics(splits: readonly SplitStatistics[]): RunStatistics {
  const ood = splits.filter((split) => split.axis !== "id");
  const id = splits.find((split) => split.axis === "id");
  return {
    splits: [...splits],
    oodGain: ood.length === 0 ? null : mean(ood.map((split) => split.gain.greedyAccuracy)),
    idGain: id === undefined ? null : id.gain.greedyAccuracy,
  };
}

/** Mean ± 95% CI over seeds; `halfWidth` is null from one seed. */
export const intervalSchema = z.object({
  n: z.number().int(),
  mean: z.number(),
  halfWidth: z.number().nullable(),
  lower: z.number().nullable(),
  upper: z.number().nullable(),
});
export type Interval = z.infer<typeof intervalSchema>;

// The 97.5% t quantile by degrees of freedom. Computing it takes a bisection over the
// incomplete beta function, and a leaderboard page needs thousands of intervals over a
// handful of seed counts, so each is computed once per process.
const tQuantiles = new Map<number, number>();
function t975(degrees: number): number {
  let value = tQuantiles.get(degrees);
  if (value === undefined) {
    value = studentTQuantile(0.975, degrees);
    tQuantiles.set(degrees, value);
  }
  return value;
}

/** Mean with its two-sided 95% Student-t interval (as `meanWithCI` of packages/tasks, whose quantile it shares). */
export function interval(values: readonly number[]): Interval {
  if (values.length === 0) throw new RangeError("an interval needs at least one value");
  const n = values.length;
  const m = values.reduce((sum, value) => sum + value, 0) / n;
  if (n === 1) return { n, mean: m, halfWidth: null, lower: null, upper: null };
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (n - 1));
  return intervalFromMoments(n, m, sd);
}

export const splitAggregateSchema = z.object({
  split: z.string(),
  axis: z.string(),
  base: z.object({ greedyAccuracy: intervalSchema, meanCorrectMass: intervalSchema, passAtK: z.record(z.string(), intervalSchema) }),
  grpo: z.object({ greedyAccuracy: intervalSchema, meanCorrectMass: intervalSchema, passAtK: z.record(z.string(), intervalSchema) }),
  originCeiling: intervalSchema,
  novelSolves: z.object({ gained: intervalSchema, lost: intervalSchema }),
  gain: intervalSchema,
});
export type SplitAggregate = z.infer<typeof splitAggregateSchema>;

export const recipeAggregateSchema = z.object({
  /** Distinct seeds aggregated. */
  seeds: z.array(z.number().int()),
  runs: z.number().int(),
  /** Ranked only with RANKING_MIN_SEEDS seeds or more; otherwise shown as "needs seeds". */
  ranked: z.boolean(),
  splits: z.array(splitAggregateSchema),
  oodGain: intervalSchema.nullable(),
  idGain: intervalSchema.nullable(),
});
export type RecipeAggregate = z.infer<typeof recipeAggregateSchema>;

function modelAggregate(summaries: readonly SplitSummary[]): SplitAggregate["base"] {
  const kValues = Object.keys(summaries[0]?.passAtK ?? {}).filter((k) => summaries.every((summary) => k in summary.passAtK));
  return {
    greedyAccuracy: interval(summaries.map((summary) => summary.greedyAccuracy)),
    meanCorrectMass: interval(summaries.map((summary) => summary.meanCorrectMass)),
    passAtK: Object.fromEntries(kValues.map((k) => [k, interval(summaries.map((summary) => summary.passAtK[k] ?? 0))])),
  };
}

/**
 * The runs of one recipe on one task variant (one per seed) as one leaderboard row: every
 * number is the mean over runs with its 95% interval. A split is aggregated over the runs
 * that evaluated it (all of them, since they share the variant version).
 */
export function aggregateRuns(runs: readonly { seed: number; statistics: RunStatistics }[]): RecipeAggregate {
  if (runs.length === 0) throw new RangeError("a recipe aggregate needs at least one run");
  const seeds = [...new Set(runs.map((run) => run.seed))].sort((a, b) => a - b);
  const splitNames = [...new Set(runs.flatMap((run) => run.statistics.splits.map((split) => split.split)))];
  const splits = splitNames.map((name): SplitAggregate => {
    const rows = runs.flatMap((run) => run.statistics.splits.filter((split) => split.split === name));
    const first = rows[0];
    if (first === undefined) throw new Error(`split ${name} vanished`);
    return {
      split: name,
      axis: first.axis,
      base: modelAggregate(rows.map((row) => row.base)),
      grpo: modelAggregate(rows.map((row) => row.grpo)),
      originCeiling: interval(rows.map((row) => row.originCeiling)),
      novelSolves: {
        gained: interval(rows.map((row) => row.novelSolves.gained)),
        lost: interval(rows.map((row) => row.novelSolves.lost)),
      },
      gain: interval(rows.map((row) => row.gain.greedyAccuracy)),
    };
  });
  const present = (values: (number | null)[]) => values.filter((value): value is number => value !== null);
  const ood = present(runs.map((run) => run.statistics.oodGain));
  const id = present(runs.map((run) => run.statistics.idGain));
  return {
    seeds,
    runs: runs.length,
    ranked: seeds.length >= RANKING_MIN_SEEDS,
    splits,
    oodGain: ood.length === 0 ? null : interval(ood),
    idGain: id.length === 0 ? null : interval(id),
  };
}

/**
 * Wilson score interval of a proportion (95%): the original run's own uncertainty from its
 * item count, used to decide whether a reproduction agrees with it. Unlike the normal
 * approximation it stays inside [0, 1] and is not degenerate at 0% or 100%.
 */
export function wilsonInterval(successes: number, trials: number, z95 = 1.959963984540054): { lower: number; upper: number } {
  if (!(trials > 0)) throw new RangeError("a Wilson interval needs at least one trial");
  const p = successes / trials;
  const z2 = z95 * z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/**
 * The same interval as `interval` from a count, mean and sample standard deviation (what SQL
 * aggregates give), so the overview can rank every recipe without reading each run.
 */
export function intervalFromMoments(n: number, mean: number, sd: number | null): Interval {
  if (n < 2 || sd === null) return { n, mean, halfWidth: null, lower: null, upper: null };
  const halfWidth = t975(n - 1) * (sd / Math.sqrt(n));
  return { n, mean, halfWidth, lower: mean - halfWidth, upper: mean + halfWidth };
}

/**
 * A stored `run_results.statistics` value. Rows are written only by the grader from the
 * typed value, so the leaderboard's hot path checks their shape cheaply (full validation
 * of 200 runs per page costs more than the query); anything odd goes through the schema.
 */
export function readRunStatistics(value: unknown): RunStatistics {
  const candidate = value as Partial<RunStatistics> | null;
  const looksRight =
    candidate !== null &&
    typeof candidate === "object" &&
    Array.isArray(candidate.splits) &&
    candidate.splits.every(
      (split) =>
        typeof split === "object" &&
        typeof split.split === "string" &&
        typeof split.base === "object" &&
        typeof split.grpo === "object" &&
        typeof split.base.passAtK === "object" &&
        typeof split.grpo.passAtK === "object" &&
        typeof split.novelSolves === "object" &&
        typeof split.gain === "object",
    );
  return looksRight ? (candidate as RunStatistics) : runStatisticsSchema.parse(value);
}
