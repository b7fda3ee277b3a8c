// Rollouts split across this thread and a real worker thread give exactly the completions
// one thread gives, follow the policy's weights as they change, and sample from the softmax.
import * as tf from "@tensorflow/tfjs";
import { createRng } from "@transcend/tasks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGpt, disposeGpt, type Gpt, gptForward, weightVariables } from "./model";
import { generateSplit, MIN_ROWS_TO_SPLIT, rolloutThreads, rolloutWorkerBusy, stopRolloutPool } from "./rollout-pool";
import { decodeRows, generate } from "./sampling";
import { testRng, useTestBackend } from "./test-support";

const EOS = 2;
const PAD = 0;
let gpt: Gpt;

beforeAll(async () => {
  await useTestBackend();
  gpt = createGpt({ vocabSize: 13, contextLength: 48, dModel: 32, layers: 2, heads: 4, positionalEncoding: "learned", dropout: 0 }, testRng(31));
});
afterEach(() => {
  delete process.env.TRANSCEND_ROLLOUT_THREADS;
});
afterAll(async () => {
  disposeGpt(gpt);
  await stopRolloutPool();
});

function prompts(rows: number, seed: number): number[][] {
  const rng = testRng(seed);
  return Array.from({ length: rows }, () => [1, ...Array.from({ length: rng.int(2, 12) }, () => rng.int(3, 12))]);
}

async function onThreads(threads: 1 | 2, run: () => Promise<number[][]>): Promise<number[][]> {
  process.env.TRANSCEND_ROLLOUT_THREADS = String(threads);
  expect(rolloutThreads()).toBe(threads);
  return run();
}

describe("rollouts on two threads", () => {
  it("give the same completions as one thread, sampled and greedy", async () => {
    const rows = prompts(3 * MIN_ROWS_TO_SPLIT + 1, 1);
    const sampled = { maxNewTokens: 20, temperature: 1.3, greedy: false, eos: EOS, pad: PAD };
    const one = await onThreads(1, () => generate(gpt, rows, { ...sampled, rng: createRng("a") }));
    const two = await onThreads(2, () => generate(gpt, rows, { ...sampled, rng: createRng("a") }));
    expect(two).toEqual(one);
    expect(new Set(two.map((c) => c.join(","))).size).toBeGreaterThan(rows.length / 2); // really sampled

    const greedy = { maxNewTokens: 20, temperature: 1, greedy: true, eos: EOS, pad: PAD };
    expect(await onThreads(2, () => generate(gpt, rows, greedy))).toEqual(await onThreads(1, () => generate(gpt, rows, greedy)));
  });

  it("run the two halves at the same time: the worker has its rows before this thread decodes", async () => {
    const rows = prompts(2 * MIN_ROWS_TO_SPLIT, 5);
    const options = { maxNewTokens: 8, temperature: 1, greedy: true, eos: -1, pad: PAD };
    await onThreads(2, () => generate(gpt, rows, options)); // the worker is up and holds the weights
    const busyWhileDecodingHere: boolean[] = [];
    const completions = await generateSplit(gpt, rows, undefined, options, (half) => {
      busyWhileDecodingHere.push(rolloutWorkerBusy());
      return decodeRows(gpt, half, undefined, options);
    });
    expect(busyWhileDecodingHere).toEqual([true]);
    expect(completions).toEqual(await onThreads(1, () => generate(gpt, rows, options)));
  });

  it("do not depend on how the batch is chunked", async () => {
    const rows = prompts(40, 2);
    const options = { maxNewTokens: 12, temperature: 1, greedy: false, eos: EOS, pad: PAD };
    const whole = await onThreads(2, () => generate(gpt, rows, { ...options, rng: createRng("b") }));
    const chunked = await onThreads(2, () => generate(gpt, rows, { ...options, rng: createRng("b"), maxBatch: 17 }));
    expect(chunked).toEqual(whole);
  });

  it("follow the policy when its weights change between rollouts", async () => {
    const rows = prompts(2 * MIN_ROWS_TO_SPLIT, 3);
    const greedy = { maxNewTokens: 16, temperature: 1, greedy: true, eos: -1, pad: PAD };
    const before = await onThreads(2, () => generate(gpt, rows, greedy));
    // A large step on every weight, as an optimizer would assign it.
    const rng = testRng(4);
    for (const variable of weightVariables(gpt)) {
      const noise = tf.tidy(() => variable.add(tf.tensor(Float32Array.from({ length: variable.size }, () => (rng.next() - 0.5) * 0.5), variable.shape)));
      variable.assign(noise);
      noise.dispose();
    }
    const after = await onThreads(2, () => generate(gpt, rows, greedy));
    expect(after).not.toEqual(before);
    expect(after).toEqual(await onThreads(1, () => generate(gpt, rows, greedy)));
  });

  it("draw first tokens with the softmax's frequencies (chi-square, both threads' rows)", async () => {
    const prompt = [1, 5, 7, 3];
    const temperature = 0.8;
    const logits = tf.tidy(() => gptForward(gpt, tf.tensor2d([prompt], undefined, "int32")).slice([0, prompt.length - 1, 0], [1, 1, 13]).reshape([13]).dataSync());
    const max = Math.max(...logits);
    const weights = Array.from(logits, (l) => Math.exp((l - max) / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    const rows = 4000;
    const firsts = await onThreads(2, () =>
      generate(gpt, Array.from({ length: rows }, () => prompt), { maxNewTokens: 1, temperature, greedy: false, eos: -1, pad: PAD, rng: createRng("c") }),
    );
    const counts = new Array<number>(13).fill(0);
    for (const [token] of firsts) counts[token ?? 0] = (counts[token ?? 0] ?? 0) + 1;
    // Pool tokens expected fewer than 5 times into one cell, as the test requires.
    let [chi2, cells, poolObserved, poolExpected] = [0, 0, 0, 0];
    weights.forEach((w, i) => {
      const expected = (rows * w) / total;
      if (expected < 5) {
        poolObserved += counts[i] ?? 0;
        poolExpected += expected;
      } else {
        chi2 += ((counts[i] ?? 0) - expected) ** 2 / expected;
        cells++;
      }
    });
    if (poolExpected > 0) {
      chi2 += (poolObserved - poolExpected) ** 2 / poolExpected;
      cells++;
    }
    // 99.9th percentile of chi-square with up to 12 degrees of freedom is 32.9.
    expect(cells).toBeGreaterThan(3);
    expect(chi2).toBeLessThan(32.9);
  });
});
