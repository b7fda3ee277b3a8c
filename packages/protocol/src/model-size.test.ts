import { describe, expect, it } from "vitest";
import { estimateRecipeCompute, forwardFlopsPerToken, parameterCount, trainingFlopsPerToken } from "./model-size";
import { recipePresets } from "./recipe";

describe("model size and compute", () => {
  it("counts the bench model's parameters as PyTorch does", () => {
    // ../shared/bench/README.md: vocab 64, context 64, d 64, 2 layers → 108,288 parameters.
    const bench = { vocabSize: 64, contextLength: 64, dModel: 64, layers: 2, positionalEncoding: "learned" as const };
    expect(parameterCount(bench)).toBe(108_288);
    expect(trainingFlopsPerToken(bench)).toBe(3 * forwardFlopsPerToken(bench));
  });

  it("estimates tokens per phase from the recipe's counts", () => {
    const tiny = recipePresets.tiny;
    const task = { vocabSize: 30, promptTokens: 12, completionTokens: 20, evalSplits: 3, evalItemsPerSplit: 64 };
    const estimate = estimateRecipeCompute(tiny, task);
    expect(estimate.pretraining.tokens).toBe(tiny.pretraining.steps * tiny.pretraining.batchSize * 32);
    expect(estimate.grpo.tokens).toBe(tiny.grpo.steps * tiny.grpo.promptsPerStep * tiny.grpo.groupSize * tiny.grpo.maxNewTokens);
    // tiny evaluates 16 items per split (its own itemsPerSplit wins over the variant's 64), base and GRPO.
    expect(estimate.evaluation.tokens).toBe(2 * 3 * 16 * (1 + tiny.evaluation.samplesPerItem) * tiny.evaluation.maxNewTokens);
    expect(estimate.totalFlops).toBe(estimate.pretraining.flops + estimate.grpo.flops + estimate.evaluation.flops);
    expect(estimate.pretraining.flops).toBeGreaterThan(0);
  });
});
