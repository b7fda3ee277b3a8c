// A task variant made usable by the training engine and the grader: sampling by split and
// by mix, the sequence layout, and the verifier.
import type { TaskVariant } from "@transcend/protocol";
import type { LengthBound, TaskFamily } from "./family";
import { families } from "./families";
import { ANSWER, BOS, EOS, THINK } from "./tokenizer";
import type { Example, ResolvedVariant, Rng } from "./types";

/** A split chooser for a mix: weights are normalised, zero-weight splits are never drawn. */
function mixDrawer(mix: Readonly<Record<string, number>>, mixName: string): (rng: Rng) => string {
  const entries = Object.entries(mix).filter(([, weight]) => weight > 0);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (!(total > 0)) throw new Error(`${mixName} has no split with positive weight`);
  return (rng) => {
    let target = rng.next() * total;
    for (const [split, weight] of entries) {
      target -= weight;
      if (target < 0) return split;
    }
    // Floating-point remainder: fall to the last weighted split.
    return entries[entries.length - 1]?.[0] ?? "";
  };
}

/** Expects a variant that passed `taskVariantSchema` (the schema's cross-split rules are not re-checked here). */
export function resolveVariant(variant: TaskVariant): ResolvedVariant {
  // The union of families is narrowed once here; from then on every split is (params → family) pairs.
  const family = families[variant.family] as TaskFamily<unknown>;
  const paramsBySplit = new Map<string, unknown>(variant.splits.map((split) => [split.name, split.params]));
  const paramsOf = (split: string) => {
    if (!paramsBySplit.has(split)) {
      throw new Error(`variant "${variant.slug}" has no split "${split}" (it has ${[...paramsBySplit.keys()].join(", ")})`);
    }
    return paramsBySplit.get(split);
  };
  const sample = (split: string, rng: Rng): Example => family.sample(paramsOf(split), rng);
  const drawPretrainingSplit = mixDrawer(variant.pretrainingMix, "pretrainingMix");
  const drawGrpoSplit = mixDrawer(variant.grpoMix, "grpoMix");
  const completionMarkers = variant.chainOfThought ? 3 : 2; // [<think>] <answer> <eos>
  const lengthBound = (split: string) => {
    const bound: LengthBound = family.lengthBound(paramsOf(split));
    return {
      prompt: 1 + bound.prompt,
      completion: completionMarkers + (variant.chainOfThought ? bound.chainOfThought : 0) + bound.answer,
    };
  };
  return {
    variant,
    tokenizer: family.tokenizer,
    splitNames: variant.splits.map((split) => split.name),
    evalSplits: [...variant.evalSplits],
    sample,
    samplePretraining(rng) {
      const split = drawPretrainingSplit(rng);
      return { split, example: sample(split, rng) };
    },
    sampleGrpo(rng) {
      const split = drawGrpoSplit(rng);
      return { split, example: sample(split, rng) };
    },
    promptTokens: (example) => [BOS, ...example.prompt],
    completionTokens: (example) =>
      variant.chainOfThought
        ? [THINK, ...example.chainOfThought, ANSWER, ...example.answer, EOS]
        : [ANSWER, ...example.answer, EOS],
    verify: (prompt, completion, options = {}) =>
      family.verify(prompt, completion, { ...options, chainOfThought: variant.chainOfThought }),
    lengthBound,
    maxSequenceLength: Math.max(
      ...variant.splits.map((split) => {
        const bound = lengthBound(split.name);
        return bound.prompt + bound.completion;
      }),
    ),
  };
}
