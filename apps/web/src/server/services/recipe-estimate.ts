// The recipe form's numbers: parameter count, tokens and FLOPs per phase, for a recipe
// alone or against the task variant it will run on (vocabulary, sequence lengths, splits).
import { z } from "zod";
import { estimateRecipeCompute, type EstimateTask, type Recipe, type TaskVariant } from "@transcend/protocol";
import { MAX_VOCAB_SIZE, resolveVariant } from "@transcend/tasks";

const phaseSchema = z.object({ tokens: z.number(), flops: z.number() });

export const recipeEstimateSchema = z.object({
  parameters: z.number().int(),
  pretraining: phaseSchema,
  grpo: phaseSchema,
  evaluation: phaseSchema,
  totalFlops: z.number(),
  /** What the estimate assumed of the task: the variant's numbers, or worst cases. */
  task: z.object({
    vocabSize: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    evalSplits: z.number().int(),
    evalItemsPerSplit: z.number().int(),
    fromVariant: z.boolean(),
  }),
  /** Problems a run of this recipe on this variant would hit (e.g. a context too short). */
  warnings: z.array(z.string()),
});
export type RecipeEstimate = z.infer<typeof recipeEstimateSchema>;

export function estimateRecipe(recipe: Recipe, variant?: TaskVariant): RecipeEstimate {
  const warnings: string[] = [];
  let task: EstimateTask;
  if (variant !== undefined) {
    const resolved = resolveVariant(variant);
    const id = variant.splits.find((split) => split.axis === "id") ?? variant.splits[0];
    const bound = id === undefined ? { prompt: 1, completion: 1 } : resolved.lengthBound(id.name);
    task = {
      vocabSize: resolved.tokenizer.size,
      promptTokens: bound.prompt,
      completionTokens: bound.completion,
      evalSplits: variant.evalSplits.length,
      evalItemsPerSplit: variant.evalItemsPerSplit,
    };
    if (recipe.model.contextLength < resolved.maxSequenceLength) {
      warnings.push(
        `model.contextLength ${recipe.model.contextLength} is shorter than the longest sequence of ${variant.slug} (${resolved.maxSequenceLength} tokens)`,
      );
    }
    const longestCompletion = Math.max(...variant.splits.map((split) => resolved.lengthBound(split.name).completion));
    if (recipe.evaluation.maxNewTokens < longestCompletion) {
      warnings.push(`evaluation.maxNewTokens ${recipe.evaluation.maxNewTokens} cuts off completions of up to ${longestCompletion} tokens`);
    }
  } else {
    const half = Math.floor(recipe.model.contextLength / 2);
    task = { vocabSize: MAX_VOCAB_SIZE, promptTokens: half, completionTokens: half, evalSplits: 3, evalItemsPerSplit: 64 };
  }
  return { ...estimateRecipeCompute(recipe, task), task: { ...task, fromVariant: variant !== undefined }, warnings };
}
