// Evaluation of one model on one split (DESIGN.md §1.1): a greedy completion and n sampled
// completions per item; from them greedy accuracy, each item's correct count c (its
// estimated correct mass c/n) and unbiased pass@k. Comparing the base ("origin") and GRPO
// evaluations of the same items gives the origin ceiling and the novel solves.
// The items come from the caller, so the server can supply held-out prompts.
import type { EvaluationRecipe } from "@transcend/protocol";
import { meanPassAtK, type ResolvedVariant, type Rng } from "@transcend/tasks";
import type { Gpt } from "./model";
import { generate } from "./sampling";

export type EvaluationPhase = "base" | "final";

/** One held-out item: its id and its prompt as `promptTokens` gives it (with <bos>). */
export interface EvaluationItem {
  id: string;
  prompt: string[];
}

export interface EvaluationRequest {
  phase: EvaluationPhase;
  split: string;
  /** How many items the recipe asks for (a server may decide otherwise). */
  count: number;
}

/** Supplies the items of an evaluated split; should give the same items for both phases. */
export type EvaluationItemsProvider = (request: EvaluationRequest) => Promise<EvaluationItem[]>;

/** What a model wrote for one item (what a server needs to grade it itself). */
export interface ItemCompletions {
  id: string;
  greedy: string[];
  samples: string[][];
}

export interface ItemScore {
  id: string;
  greedyReward: number;
  /** Samples, out of n, that earned the full reward. */
  correct: number;
}

export interface SplitEvaluation {
  split: string;
  items: number;
  samplesPerItem: number;
  greedyAccuracy: number;
  /** Mean over items of c/n: the estimated probability that a sample is correct. */
  meanCorrectMass: number;
  /** Unbiased pass@k for each recipe k (as strings: JSON keys). */
  passAtK: Record<string, number>;
  /** pass@n: share of items with at least one correct sample. */
  passAtN: number;
  scores: ItemScore[];
}

/** A reward of 1 is a verified answer; anything less (a format reward) is not a solve. */
export function isCorrect(reward: number): boolean {
  return reward >= 1;
}

export interface EvaluateOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateSplit(
  gpt: Gpt,
  variant: ResolvedVariant,
  split: string,
  items: readonly EvaluationItem[],
  recipe: EvaluationRecipe,
  rng: Rng,
  options: EvaluateOptions = {},
): Promise<{ evaluation: SplitEvaluation; completions: ItemCompletions[] }> {
  const { tokenizer } = variant;
  const n = recipe.samplesPerItem;
  const promptIds = items.map((item) => tokenizer.encode(item.prompt));
  const shared = { maxNewTokens: recipe.maxNewTokens, eos: tokenizer.eos, pad: tokenizer.pad };
  const greedy = await generate(gpt, promptIds, { ...shared, temperature: 1, greedy: true });
  options.signal?.throwIfAborted();
  options.onProgress?.(1, n + 1);

  // Samples item by item in chunks of whole items, so progress can be reported and an
  // abort honoured between chunks; n consecutive rows share a prompt.
  const itemsPerChunk = Math.max(1, Math.floor(256 / n));
  const sampled: number[][] = [];
  for (let start = 0; start < items.length; start += itemsPerChunk) {
    const chunk = promptIds.slice(start, start + itemsPerChunk).flatMap((p) => Array.from({ length: n }, () => p));
    sampled.push(...(await generate(gpt, chunk, { ...shared, temperature: recipe.temperature, greedy: false, rng })));
    options.signal?.throwIfAborted();
    options.onProgress?.(1 + (n * Math.min(items.length, start + itemsPerChunk)) / items.length, n + 1);
  }

  const completions: ItemCompletions[] = items.map((item, i) => ({
    id: item.id,
    greedy: tokenizer.decode(greedy[i] ?? []),
    samples: sampled.slice(i * n, (i + 1) * n).map((ids) => tokenizer.decode(ids)),
  }));
  const scores: ItemScore[] = completions.map((c, i) => {
    const prompt = items[i]?.prompt ?? [];
    return {
      id: c.id,
      greedyReward: variant.verify(prompt, c.greedy),
      correct: c.samples.filter((s) => isCorrect(variant.verify(prompt, s))).length,
    };
  });
  return { evaluation: summarizeSplit(split, scores, n, recipe.kValues), completions };
}

export function summarizeSplit(split: string, scores: readonly ItemScore[], n: number, kValues: readonly number[]): SplitEvaluation {
  const counts = scores.map((s) => ({ n, correct: s.correct }));
  const items = scores.length;
  const mean = (f: (s: ItemScore) => number) => (items === 0 ? 0 : scores.reduce((a, s) => a + f(s), 0) / items);
  return {
    split,
    items,
    samplesPerItem: n,
    greedyAccuracy: mean((s) => (isCorrect(s.greedyReward) ? 1 : 0)),
    meanCorrectMass: mean((s) => s.correct / n),
    passAtK: Object.fromEntries(kValues.filter((k) => k <= n).map((k) => [String(k), items === 0 ? 0 : meanPassAtK(counts, k)])),
    passAtN: mean((s) => (s.correct > 0 ? 1 : 0)),
    scores: [...scores],
  };
}

export interface SplitComparison {
  /** The base model's pass@n: the most GRPO could reach if it only reweights the base model. */
  originCeiling: number;
  /** Items the base model never solved in n samples that the GRPO model solves (sampled or greedy). */
  novelSolves: number;
  novelSolveRate: number;
  /** GRPO minus base. */
  gain: { greedyAccuracy: number; meanCorrectMass: number; passAtK: Record<string, number> };
}

export function compareSplit(base: SplitEvaluation, final: SplitEvaluation): SplitComparison {
  const finalById = new Map(final.scores.map((s) => [s.id, s]));
  let novelSolves = 0;
  let compared = 0;
  for (const b of base.scores) {
    const f = finalById.get(b.id);
    if (!f) continue;
    compared += 1;
    const baseNeverSolved = b.correct === 0 && !isCorrect(b.greedyReward);
    if (baseNeverSolved && (f.correct > 0 || isCorrect(f.greedyReward))) novelSolves += 1;
  }
  return {
    originCeiling: base.passAtN,
    novelSolves,
    novelSolveRate: compared === 0 ? 0 : novelSolves / compared,
    gain: {
      greedyAccuracy: final.greedyAccuracy - base.greedyAccuracy,
      meanCorrectMass: final.meanCorrectMass - base.meanCorrectMass,
      passAtK: Object.fromEntries(Object.entries(final.passAtK).map(([k, v]) => [k, v - (base.passAtK[k] ?? 0)])),
    },
  };
}

/** Items drawn locally from the variant (offline runs): the same items for both phases. */
export function localEvaluationItems(variant: ResolvedVariant, rng: Rng): EvaluationItemsProvider {
  const cache = new Map<string, EvaluationItem[]>();
  return async ({ split, count }) => {
    const key = `${split}:${count}`;
    let items = cache.get(key);
    if (!items) {
      const splitRng = rng.fork(`evaluation-items:${split}`);
      items = Array.from({ length: count }, (_, i) => ({
        id: `${split}-${i}`,
        prompt: variant.promptTokens(variant.sample(split, splitRng)),
      }));
      cache.set(key, items);
    }
    return items;
  };
}
