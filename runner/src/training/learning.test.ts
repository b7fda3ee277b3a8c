// Does the engine learn? Pretraining loss falls on a preset task, and GRPO raises the
// training reward where the base model already earns some. Seeded, with loose bounds.
import { grpoRecipeSchema, pretrainingRecipeSchema } from "@transcend/protocol";
import { createRng, findPreset, type ResolvedVariant, resolveVariant } from "@transcend/tasks";
import { beforeAll, describe, expect, it } from "vitest";
import { modelConfigFor } from "./config";
import { grpoTrain } from "./grpo-training";
import { cloneGpt, createGpt, disposeGpt } from "./model";
import { mean, pretrain } from "./pretraining";
import { useTestBackend } from "./test-support";

beforeAll(useTestBackend);

function presetVariant(slug: string): ResolvedVariant {
  const variant = findPreset(slug);
  if (!variant) throw new Error(`no preset ${slug}`);
  return resolveVariant(variant);
}

describe("learning", () => {
  it("pretraining lowers the loss, then GRPO raises the training reward the base model already sometimes earns", async () => {
    // mod-arith: after a few hundred steps a 1-layer model answers some items right by its
    // own computation and many by chance, so every group has something to reinforce.
    const variant = presetVariant("mod-arith-depth-partial");
    const gpt = createGpt(
      modelConfigFor({ layers: 1, dModel: 32, heads: 2, contextLength: 64, positionalEncoding: "learned", dropout: 0 }, variant.tokenizer.size),
      createRng(1),
    );
    const pretraining = await pretrain(
      gpt,
      variant,
      pretrainingRecipeSchema.parse({ steps: 300, batchSize: 32, learningRate: 3e-3, warmupSteps: 20 }),
      createRng(2),
    );
    expect(pretraining.finalLoss).toBeLessThan(0.6 * pretraining.initialLoss);

    // GRPO prompts come from a fixed pool of four ID items: with prompts drawn afresh each
    // step, which items a step drew would swamp a 30-step reward curve.
    const poolRng = createRng(9);
    const pool = Array.from({ length: 4 }, () => variant.sample("id", poolRng));
    let drawn = 0;
    const pooled: ResolvedVariant = {
      ...variant,
      sampleGrpo: () => ({ split: "id", example: pool[drawn++ % pool.length] ?? variant.sample("id", poolRng) }),
    };
    const reference = cloneGpt(gpt);
    const grpo = await grpoTrain(
      gpt,
      reference,
      pooled,
      grpoRecipeSchema.parse({
        steps: 30,
        promptsPerStep: 4,
        groupSize: 16,
        maxNewTokens: 24,
        learningRate: 3e-3,
        klBeta: 0,
        lossAggregation: "dapo",
      }),
      createRng(3),
    );
    const rewards = grpo.history.map((h) => h.meanReward);
    const first = mean(rewards.slice(0, 5));
    const last = mean(rewards.slice(-5));
    expect(first).toBeGreaterThan(0); // the base model earns reward sometimes
    expect(last).toBeGreaterThan(first + 0.1);
    disposeGpt(gpt);
    disposeGpt(reference);
  });
});
