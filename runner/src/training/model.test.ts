import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ModelConfig, PositionalEncoding } from "./config";
import { forwardFlopsPerToken, parameterCount } from "./config";
import * as kernels from "./kernels";
import { createGpt, disposeGpt, type Gpt, gptForward, gptFromValues, namedWeights, readWeights } from "./model";
import { optimizerStep } from "./optimizer";
import { createOptimizer, makeTokenBatch, sequenceLoss } from "./pretraining";
import { testRng, useTestBackend } from "./test-support";

const tinyConfig = (positionalEncoding: PositionalEncoding = "learned"): ModelConfig => ({
  vocabSize: 13,
  contextLength: 16,
  dModel: 16,
  layers: 2,
  heads: 2,
  positionalEncoding,
  dropout: 0,
});

function logitsOf(gpt: Gpt, ids: number[][]): Float32Array {
  return tf.tidy(() => gptForward(gpt, tf.tensor2d(ids, undefined, "int32")).dataSync() as Float32Array);
}

function randomBatch(seed: number, batch: number, length: number, vocab: number): number[][] {
  const rng = testRng(seed);
  return Array.from({ length: batch }, () => Array.from({ length }, () => rng.int(0, vocab - 1)));
}

beforeAll(useTestBackend);

describe("config", () => {
  it("counts the parameters of the bench's tiny model as PyTorch does", () => {
    // ../shared/bench/README.md: vocab 64, context 64, d 64, 2 layers → 108,288 parameters.
    const bench: ModelConfig = { vocabSize: 64, contextLength: 64, dModel: 64, layers: 2, heads: 4, positionalEncoding: "learned", dropout: 0 };
    expect(parameterCount(bench)).toBe(108_288);
    const gpt = createGpt(bench, testRng(1));
    expect(namedWeights(gpt).reduce((n, [, v]) => n + v.size, 0)).toBe(108_288);
    disposeGpt(gpt);
    expect(forwardFlopsPerToken(bench)).toBeGreaterThan(2 * 100_000);
  });
});

describe("model", () => {
  it.each(["learned", "rope", "none"] as const)("maps ids [B, T] to logits [B, T, V] (%s positions)", (pe) => {
    const gpt = createGpt(tinyConfig(pe), testRng(1));
    const logits = tf.tidy(() => gptForward(gpt, tf.tensor2d(randomBatch(2, 3, 7, 13), undefined, "int32")));
    expect(logits.shape).toEqual([3, 7, 13]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    logits.dispose();
    disposeGpt(gpt);
  });

  it.each(["learned", "rope", "none"] as const)("is causal: a later token does not change earlier logits (%s)", (pe) => {
    const gpt = createGpt(tinyConfig(pe), testRng(3));
    const a = [[1, 2, 3, 4, 5, 6]];
    const b = [[1, 2, 3, 9, 10, 11]];
    const la = logitsOf(gpt, a);
    const lb = logitsOf(gpt, b);
    const v = 13;
    for (let i = 0; i < 3 * v; i++) expect(lb[i]).toBeCloseTo(la[i] ?? NaN, 5);
    // …and does change the logits at and after the changed position.
    let changed = 0;
    for (let i = 3 * v; i < 6 * v; i++) changed = Math.max(changed, Math.abs((lb[i] ?? 0) - (la[i] ?? 0)));
    expect(changed).toBeGreaterThan(1e-4);
    disposeGpt(gpt);
  });

  it.each(["learned", "rope"] as const)("gives every weight a non-zero gradient (%s)", (pe) => {
    const gpt = createGpt(tinyConfig(pe), testRng(4));
    const batch = makeTokenBatch(
      randomBatch(5, 4, 9, 13).map((tokens) => ({ tokens, completionStart: 0 })),
      "all",
      0,
    );
    const named = namedWeights(gpt);
    const norms = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => sequenceLoss(gpt, batch), named.map(([, v]) => v));
      return named.map(([name, v]) => {
        const g = grads[v.name];
        return [name, g ? tf.sum(tf.abs(g)).dataSync()[0] ?? 0 : 0] as const;
      });
    });
    for (const [name, norm] of norms) {
      // With learned or no positions a key bias adds q·b to every score of a query alike, and
      // softmax ignores such shifts: its gradient is zero in exact arithmetic (as in GPT-2).
      if (pe !== "rope" && name.endsWith("attn.key.bias")) continue;
      expect(norm, name).toBeGreaterThan(1e-7);
    }
    disposeGpt(gpt);
  });

  it("lowers the loss on a fixed batch within a few steps, without leaking tensors", () => {
    const gpt = createGpt(tinyConfig(), testRng(6));
    const batch = makeTokenBatch(
      randomBatch(7, 8, 12, 13).map((tokens) => ({ tokens, completionStart: 0 })),
      "all",
      0,
    );
    const optimizer = createOptimizer(gpt);
    const hp = { learningRate: 1e-2, weightDecay: 0.1, gradClip: 1 };
    const first = optimizerStep(optimizer, () => ({ loss: sequenceLoss(gpt, batch) }), hp);
    const tensorsAfterFirstStep = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 10; i++) last = optimizerStep(optimizer, () => ({ loss: sequenceLoss(gpt, batch) }), hp);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirstStep);
    expect(last.loss).toBeLessThan(first.loss * 0.8);
    optimizer.dispose();
    disposeGpt(gpt);
  });

  it("round-trips its weights: same values, same logits", () => {
    const gpt = createGpt(tinyConfig("rope"), testRng(8));
    const copy = gptFromValues(gpt.config, readWeights(gpt));
    const ids = randomBatch(9, 2, 10, 13);
    expect(Array.from(logitsOf(copy, ids))).toEqual(Array.from(logitsOf(gpt, ids)));
    disposeGpt(gpt);
    disposeGpt(copy);
  });

  it("draws its initial weights from the seed alone", () => {
    const a = createGpt(tinyConfig(), testRng(10));
    const b = createGpt(tinyConfig(), testRng(10));
    const c = createGpt(tinyConfig(), testRng(11));
    const ids = randomBatch(1, 1, 5, 13);
    expect(Array.from(logitsOf(a, ids))).toEqual(Array.from(logitsOf(b, ids)));
    expect(Array.from(logitsOf(a, ids))).not.toEqual(Array.from(logitsOf(c, ids)));
    [a, b, c].forEach(disposeGpt);
  });
});

describe("kernels: hand-written gradients equal TensorFlow.js autograd", () => {
  const rng = testRng(12);
  const random = (shape: number[]) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1),
      shape,
    );

  function expectSameGradients(custom: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]) {
    tf.tidy(() => {
      const dy = random(reference(...inputs).shape);
      const expectedValue = reference(...inputs).dataSync();
      const actualValue = custom(...inputs).dataSync();
      actualValue.forEach((v, i) => expect(v).toBeCloseTo(expectedValue[i] ?? NaN, 5));
      const expected = tf.grads((...xs: tf.Tensor[]) => reference(...xs))(inputs, dy);
      const actual = tf.grads((...xs: tf.Tensor[]) => custom(...xs))(inputs, dy);
      expected.forEach((g, i) => {
        const a = actual[i];
        expect(a).toBeDefined();
        if (a) expect(tf.max(tf.abs(tf.sub(a, g))).dataSync()[0]).toBeLessThan(1e-5);
        expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
      });
    });
  }

  it("linear, layer norm, gelu, embedding, tied output, attention, token log-probabilities", () => {
    const x = random([6, 8]);
    expectSameGradients(
      (a, w, b) => kernels.linear(a as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      (a, w, b) => tf.add(tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D), b as tf.Tensor1D),
      [x, random([8, 5]), random([5])],
    );
    expectSameGradients(
      (a, g, b) => kernels.layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D),
      (a, g, b) => {
        const { mean, variance } = tf.moments(a, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
      },
      [x, random([8]), random([8])],
    );
    expectSameGradients(
      (a) => kernels.gelu(a),
      (a) => tf.mul(tf.mul(a, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(a, tf.mul(0.044715, tf.pow(a, 3))))))),
      [x],
    );
    const ids = tf.tensor1d([1, 3, 3, 9], "int32");
    expectSameGradients(
      (t) => kernels.embed(ids, t as tf.Tensor2D),
      (t) => tf.matMul(tf.cast(tf.oneHot(ids, 10), "float32"), t as tf.Tensor2D),
      [random([10, 8])],
    );
    expectSameGradients(
      (a, t) => kernels.unembed(a as tf.Tensor2D, t as tf.Tensor2D),
      (a, t) => tf.matMul(a as tf.Tensor2D, t as tf.Tensor2D, false, true),
      [x, random([10, 8])],
    );
    const mask = tf.tensor2d(
      Array.from({ length: 15 }, (_, i) => (i % 5 > 2 + Math.floor(i / 5) ? -1e9 : 0)),
      [3, 5],
    );
    expectSameGradients(
      (q, k, v) => kernels.attention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, mask),
      (q, k, v) => tf.matMul(tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), 2), mask)), v),
      [random([2, 2, 3, 4]), random([2, 2, 5, 4]), random([2, 2, 5, 4])],
    );
    const targets = tf.tensor1d([0, 4, 2, 1, 1, 3], "int32");
    expectSameGradients(
      (l) => kernels.tokenLogprobs(l as tf.Tensor2D, targets),
      (l) => tf.sum(tf.mul(tf.logSoftmax(l), tf.cast(tf.oneHot(targets, 5), "float32")), -1),
      [random([6, 5])],
    );
  });
});
