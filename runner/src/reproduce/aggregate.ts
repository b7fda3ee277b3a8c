// From the per-run results.json files to the study's numbers: per preset and split, the
// mean over seeds with a 95% Student-t interval (meanWithCI) of base and GRPO accuracy, of
// the GRPO gain, and of novel solves; plus the per-run and per-item points the figures plot.
import type { OodAxis } from "@transcend/protocol";
import { type MeanWithInterval, meanWithCI, type Overlap } from "@transcend/tasks";
import type { ItemScore } from "../training/evaluation";
import type { RunResults } from "../training/job";

/** One finished run as the study read it. */
export interface StudyRun {
  slug: string;
  axis: OodAxis;
  overlap: Overlap;
  seed: number;
  results: RunResults;
}

/** What a split tests: `id`, or the OOD axis it moves along. */
export type SplitAxis = "id" | OodAxis;

export interface SplitAggregate {
  slug: string;
  /** The preset's axis (the experiment), and the split's own (`id` for the ID split). */
  axis: OodAxis;
  overlap: Overlap;
  split: string;
  splitAxis: SplitAxis;
  seeds: number[];
  itemsPerRun: number;
  base: { greedyAccuracy: MeanWithInterval; meanCorrectMass: MeanWithInterval; passAtN: MeanWithInterval };
  final: { greedyAccuracy: MeanWithInterval; meanCorrectMass: MeanWithInterval; passAtN: MeanWithInterval };
  gain: { greedyAccuracy: MeanWithInterval; meanCorrectMass: MeanWithInterval };
  /** Per run: items the base model never solved (greedy or n samples) that the GRPO model solves. */
  novelSolves: MeanWithInterval;
  novelSolveRate: MeanWithInterval;
  /** Per run: novel solves expected from sampling noise alone (noiseNovelSolves). */
  noiseNovelSolves: MeanWithInterval;
}

/** One (run, split): a point of the gain-against-base-accuracy figure. */
export interface RunSplitPoint {
  slug: string;
  axis: OodAxis;
  overlap: Overlap;
  split: string;
  splitAxis: SplitAxis;
  seed: number;
  baseAccuracy: number;
  finalAccuracy: number;
  gain: number;
  baseCorrectMass: number;
  finalCorrectMass: number;
  basePassAtN: number;
  finalPassAtN: number;
  novelSolves: number;
  /** Novel solves expected from sampling noise alone, were the GRPO model the base model (noiseNovelSolves). */
  noiseNovelSolves: number;
  items: number;
}

/**
 * How many novel solves sampling noise alone produces when GRPO changed nothing: an item of
 * true correct mass Q shows 0 of n correct in the base samples with probability (1 − Q)^n and
 * at least one in another n with 1 − (1 − Q)^n. Q is estimated per item from both phases'
 * samples pooled (a plug-in estimate; greedy answers are left out).
 */
export function noiseNovelSolves(base: readonly ItemScore[], final: readonly ItemScore[], n: number): number {
  const finalById = new Map(final.map((s) => [s.id, s]));
  let expected = 0;
  for (const b of base) {
    const f = finalById.get(b.id);
    if (!f) continue;
    const q = (b.correct + f.correct) / (2 * n);
    const miss = (1 - q) ** n;
    expected += miss * (1 - miss);
  }
  return expected;
}

/** One evaluated item of one run: its correct mass (c/n) under the base and GRPO models. */
export interface ItemPoint {
  slug: string;
  split: string;
  splitAxis: SplitAxis;
  seed: number;
  id: string;
  baseMass: number;
  finalMass: number;
}

export function splitAxisOf(results: RunResults, split: string): SplitAxis {
  const found = results.variant.splits.find((s) => s.name === split);
  if (!found) throw new Error(`results of ${results.variant.slug} seed ${results.seed} evaluate an unknown split "${split}"`);
  return found.axis;
}

export function runSplitPoints(runs: readonly StudyRun[]): RunSplitPoint[] {
  return runs.flatMap((run) =>
    Object.entries(run.results.evaluation).map(([split, r]) => ({
      slug: run.slug,
      axis: run.axis,
      overlap: run.overlap,
      split,
      splitAxis: splitAxisOf(run.results, split),
      seed: run.seed,
      baseAccuracy: r.base.greedyAccuracy,
      finalAccuracy: r.final.greedyAccuracy,
      gain: r.comparison.gain.greedyAccuracy,
      baseCorrectMass: r.base.meanCorrectMass,
      finalCorrectMass: r.final.meanCorrectMass,
      basePassAtN: r.base.passAtN,
      finalPassAtN: r.final.passAtN,
      novelSolves: r.comparison.novelSolves,
      noiseNovelSolves: noiseNovelSolves(r.base.scores, r.final.scores, r.base.samplesPerItem),
      items: r.base.items,
    })),
  );
}

export function itemPoints(runs: readonly StudyRun[]): ItemPoint[] {
  return runs.flatMap((run) =>
    Object.entries(run.results.evaluation).flatMap(([split, r]) => {
      const finalById = new Map(r.final.scores.map((s) => [s.id, s]));
      const splitAxis = splitAxisOf(run.results, split);
      return r.base.scores.flatMap((b) => {
        const f = finalById.get(b.id);
        if (!f) return [];
        return [{ slug: run.slug, split, splitAxis, seed: run.seed, id: b.id, baseMass: b.correct / r.base.samplesPerItem, finalMass: f.correct / r.final.samplesPerItem }];
      });
    }),
  );
}

/** Per preset and split, over its seeds; in the order the presets and splits first appear. */
export function aggregateSplits(runs: readonly StudyRun[]): SplitAggregate[] {
  const groups = new Map<string, RunSplitPoint[]>();
  for (const point of runSplitPoints(runs)) {
    const key = `${point.slug}\u0000${point.split}`;
    const group = groups.get(key);
    if (group) group.push(point);
    else groups.set(key, [point]);
  }
  return [...groups.values()].map((points) => {
    const first = points[0];
    if (!first) throw new Error("empty aggregation group");
    return {
      slug: first.slug,
      axis: first.axis,
      overlap: first.overlap,
      split: first.split,
      splitAxis: first.splitAxis,
      seeds: points.map((p) => p.seed),
      itemsPerRun: first.items,
      base: {
        greedyAccuracy: meanWithCI(points.map((p) => p.baseAccuracy)),
        meanCorrectMass: meanWithCI(points.map((p) => p.baseCorrectMass)),
        passAtN: meanWithCI(points.map((p) => p.basePassAtN)),
      },
      final: {
        greedyAccuracy: meanWithCI(points.map((p) => p.finalAccuracy)),
        meanCorrectMass: meanWithCI(points.map((p) => p.finalCorrectMass)),
        passAtN: meanWithCI(points.map((p) => p.finalPassAtN)),
      },
      gain: {
        greedyAccuracy: meanWithCI(points.map((p) => p.gain)),
        meanCorrectMass: meanWithCI(points.map((p) => p.finalCorrectMass - p.baseCorrectMass)),
      },
      novelSolves: meanWithCI(points.map((p) => p.novelSolves)),
      novelSolveRate: meanWithCI(points.map((p) => (p.items === 0 ? 0 : p.novelSolves / p.items))),
      noiseNovelSolves: meanWithCI(points.map((p) => p.noiseNovelSolves)),
    };
  });
}

/**
 * The theory's optimum (DESIGN.md §1.1): Q* = Q·e^{1/β} / (Q·e^{1/β} + 1 − Q), written as
 * 1 / (1 + (1 − Q)/Q · e^{−1/β}) so a small β does not overflow.
 */
export function optimalCorrectMass(q: number, beta: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Q must be in [0, 1], got ${q}`);
  if (!(beta > 0)) throw new RangeError(`β must be positive, got ${beta}`);
  if (q === 0) return 0;
  return 1 / (1 + ((1 - q) / q) * Math.exp(-1 / beta));
}
