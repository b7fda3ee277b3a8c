import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { PositionalEncoding } from "./config";
import { createGpt, disposeGpt, type Gpt, gptForward } from "./model";
import { generate } from "./sampling";
import { testRng, useTestBackend } from "./test-support";

beforeAll(useTestBackend);

const EOS = 2;
const PAD = 0;

/** Greedy decoding the slow way: the whole sequence through the model for every new token. */
function greedyByRecompute(gpt: Gpt, prompt: readonly number[], maxNewTokens: number): number[] {
  const tokens = [...prompt];
  const completion: number[] = [];
  for (let i = 0; i < maxNewTokens; i++) {
    const next = tf.tidy(() => {
      const logits = gptForward(gpt, tf.tensor2d([tokens], undefined, "int32")); // [1, T, V]
      return logits.slice([0, tokens.length - 1, 0], [1, 1, gpt.config.vocabSize]).argMax(-1).dataSync()[0] ?? 0;
    });
    tokens.push(next);
    completion.push(next);
    if (next === EOS) break;
  }
  return completion;
}

describe("sampling with a key/value cache", () => {
  it.each(["learned", "rope", "none"] as const)(
    "gives the same greedy completions as recomputing, for prompts of different lengths (%s)",
    async (pe: PositionalEncoding) => {
      const gpt = createGpt(
        { vocabSize: 11, contextLength: 24, dModel: 16, layers: 2, heads: 2, positionalEncoding: pe, dropout: 0 },
        testRng(21),
      );
      const rng = testRng(22);
      const prompts = [3, 7, 1, 5].map((n) => [1, ...Array.from({ length: n }, () => rng.int(3, 10))]);
      const cached = await generate(gpt, prompts, { maxNewTokens: 12, temperature: 1, greedy: true, eos: EOS, pad: PAD });
      prompts.forEach((prompt, i) => expect(cached[i], `prompt ${i}`).toEqual(greedyByRecompute(gpt, prompt, 12)));
      disposeGpt(gpt);
    },
  );

  it("samples reproducibly from a seed, stops at eos, and leaks no tensors", async () => {
    const gpt = createGpt(
      { vocabSize: 11, contextLength: 32, dModel: 16, layers: 1, heads: 2, positionalEncoding: "learned", dropout: 0 },
      testRng(23),
    );
    const prompts = [[1, 4, 5], [1, 6], [1, 7, 8, 9]];
    const options = { maxNewTokens: 20, temperature: 1, greedy: false, eos: EOS, pad: PAD };
    await generate(gpt, prompts, { ...options, rng: testRng(1) }); // warms the shared masks and tables
    const before = tf.memory().numTensors;
    const a = await generate(gpt, prompts, { ...options, rng: testRng(5) });
    const b = await generate(gpt, prompts, { ...options, rng: testRng(5) });
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toEqual(b);
    for (const completion of a) {
      expect(completion.length).toBeLessThanOrEqual(20);
      const eosAt = completion.indexOf(EOS);
      if (eosAt >= 0) expect(eosAt).toBe(completion.length - 1);
    }
    disposeGpt(gpt);
  });

  it("never writes past the model's context", async () => {
    const gpt = createGpt(
      { vocabSize: 11, contextLength: 8, dModel: 8, layers: 1, heads: 1, positionalEncoding: "learned", dropout: 0 },
      testRng(24),
    );
    const completions = await generate(gpt, [[1, 3, 4, 5, 6, 7], [1, 3]], {
      maxNewTokens: 20,
      temperature: 1,
      greedy: false,
      eos: -1, // never stop early
      pad: PAD,
      rng: testRng(3),
    });
    expect(completions.map((c) => c.length)).toEqual([2, 6]);
    disposeGpt(gpt);
  });
});
