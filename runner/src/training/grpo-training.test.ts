import * as tf from "@tensorflow/tfjs";
import { grpoRecipeSchema } from "@transcend/protocol";
import { createRng, findPreset, resolveVariant } from "@transcend/tasks";
import { beforeAll, describe, expect, it } from "vitest";
import { grpoTrain } from "./grpo-training";
import { cloneGpt, createGpt, disposeGpt } from "./model";
import { useTestBackend } from "./test-support";

beforeAll(useTestBackend);

describe("GRPO training step", () => {
  it.each([1, 2])("holds no tensors past its steps (μ = %s, dropout on, rope)", async (innerIterations) => {
    const preset = findPreset("mod-arith-depth-partial");
    if (!preset) throw new Error("preset missing");
    const variant = resolveVariant(preset);
    const gpt = createGpt(
      { vocabSize: variant.tokenizer.size, contextLength: 64, dModel: 16, layers: 1, heads: 2, positionalEncoding: "rope", dropout: 0.1 },
      createRng(1),
    );
    const reference = cloneGpt(gpt);
    const recipe = grpoRecipeSchema.parse({ steps: 2, promptsPerStep: 2, groupSize: 2, maxNewTokens: 8, innerIterations });
    await grpoTrain(gpt, reference, variant, recipe, createRng(2)); // warm-up: shared masks and tables
    const before = tf.memory().numTensors;
    const summary = await grpoTrain(gpt, reference, variant, { ...recipe, steps: 4 }, createRng(3));
    // A new sequence length may add one cached causal mask; nothing grows with steps.
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2);
    expect(summary.history).toHaveLength(4);
    expect(summary.history.every((h) => Number.isFinite(h.loss) && h.kl >= 0 && h.entropy > 0)).toBe(true);
    disposeGpt(gpt);
    disposeGpt(reference);
  });
});
