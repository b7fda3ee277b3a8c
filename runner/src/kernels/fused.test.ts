// Fused ops on their wasm kernels against the composite tfjs computation they replace:
// values and every input gradient, on random inputs of odd sizes.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../backend";
import { fusedAttention, fusedGelu, fusedLayerNorm, fusedTokenLogprobs, installFastKernels, uninstallFastKernels } from "./index";
import { randomTensors } from "./test-support";

const random = randomTensors(11);

function expectClose(want: tf.Tensor, got: tf.Tensor, tolerance: number): void {
  expect(got.shape).toEqual(want.shape);
  const w = want.dataSync();
  const g = got.dataSync();
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs((w[i] ?? NaN) - (g[i] ?? NaN)) / (1 + Math.abs(w[i] ?? 0)));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/**
 * f's value and the gradients of Σ f·r (r random, so every output element matters) with
 * respect to `inputs`, composite (kernels uninstalled) vs fused (installed).
 */
async function compare(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], tolerance = 2e-5): Promise<void> {
  const probe = tf.tidy(() => random(f(...inputs).shape));
  const evaluate = () => {
    const value = f(...inputs);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), probe)))(inputs);
    return [value, ...grads];
  };
  uninstallFastKernels();
  const composite = evaluate();
  await installFastKernels({ nativeBlas: false });
  const fused = evaluate();
  composite.forEach((want, i) => {
    const got = fused[i];
    if (!got) throw new Error("missing output");
    expectClose(want, got, tolerance);
  });
  tf.dispose([...composite, ...fused, probe]);
}

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(() => uninstallFastKernels());

describe("fusedLayerNorm", () => {
  for (const [n, c] of [
    [37, 50],
    [64, 128],
    [3, 7],
  ] as const)
    it(`[${n}, ${c}]`, async () => {
      const x = tf.add(random([n, c], 2), 0.5);
      await compare((a, g, b) => fusedLayerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D), [x, tf.add(random([c]), 1), random([c])]);
    });
});

describe("fusedGelu", () => {
  it("odd length, large and small values", async () => {
    await compare((x) => fusedGelu(x), [random([1001], 6)]);
    await compare((x) => fusedGelu(x), [random([33, 7], 0.01)]);
  });
});

describe("fusedAttention", () => {
  const cases: Array<{ label: string; b: number; h: number; tq: number; tk: number; d: number; causal: boolean; mask?: number[] }> = [
    { label: "causal", b: 2, h: 3, tq: 13, tk: 13, d: 8, causal: true },
    { label: "causal, head dim 32", b: 1, h: 2, tq: 33, tk: 33, d: 32, causal: true },
    { label: "padding mask [B,1,Tq,Tk]", b: 2, h: 2, tq: 9, tk: 9, d: 5, causal: false, mask: [2, 1, 9, 9] },
    { label: "mask [Tq,Tk] and causal", b: 2, h: 2, tq: 6, tk: 6, d: 4, causal: true, mask: [6, 6] },
    { label: "decode after a cache", b: 3, h: 2, tq: 1, tk: 10, d: 6, causal: true },
    { label: "two new tokens after a cache", b: 1, h: 1, tq: 2, tk: 7, d: 3, causal: true },
  ];
  for (const c of cases)
    it(c.label, async () => {
      const mask = c.mask ? tf.tidy(() => tf.mul(tf.cast(tf.less(random(c.mask ?? []), -0.5), "float32"), -1e9)) : undefined;
      await compare(
        (q, k, v) => fusedAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, mask, { causal: c.causal }),
        [random([c.b, c.h, c.tq, c.d]), random([c.b, c.h, c.tk, c.d]), random([c.b, c.h, c.tk, c.d])],
        1e-4,
      );
    });
});

describe("fusedTokenLogprobs", () => {
  for (const [n, v] of [
    [50, 67],
    [8, 64],
  ] as const)
    it(`[${n}, ${v}]`, async () => {
      const targets = tf.tensor1d(
        Array.from({ length: n }, (_, i) => (i * 7) % v),
        "int32",
      );
      await compare((l) => fusedTokenLogprobs(l as tf.Tensor2D, targets), [random([n, v], 4)]);
    });
});

describe("fused ops without the kernels", () => {
  it("compute the composite and leak nothing", () => {
    uninstallFastKernels();
    const x = random([4, 6]);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => fusedGelu(fusedLayerNorm(x as tf.Tensor2D, tf.ones([6]), tf.zeros([6]))));
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
  });
  it("leak nothing with the kernels either, forward and backward", async () => {
    await installFastKernels({ nativeBlas: false });
    const q = random([1, 2, 5, 4]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(fusedAttention(x as tf.Tensor4D, q, q, undefined, { causal: true })))(q));
    expect(tf.memory().numTensors).toBe(before + 1);
    g.dispose();
  });
});

describe("fused ops inside tf.variableGrads", () => {
  it("targets created inside the loss function survive until the backward pass", async () => {
    await installFastKernels({ nativeBlas: false });
    const w = tf.variable(random([6, 5]));
    const loss = () => tf.neg(tf.sum(fusedTokenLogprobs(tf.matMul(tf.ones([4, 6]), w) as tf.Tensor2D, tf.tensor1d([0, 1, 2, 4], "int32")))) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, [w]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(grads[w.name]?.shape).toEqual([6, 5]);
    tf.dispose([value, w, ...Object.values(grads)]);
  });
});

describe("fused ops' wasm heap", () => {
  it("attention forward and backward leave no data ids behind", async () => {
    await installFastKernels();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const q = random([2, 2, 9, 4]) as tf.Tensor4D;
    const step = () => tf.tidy(() => tf.grads((a: tf.Tensor) => tf.sum(fusedAttention(a as tf.Tensor4D, q, q, undefined, { causal: true })))([q]));
    // tf.grads keeps one tensor per call whatever the op (seen with tf.square too), so the
    // check is against the stock path's growth, not zero.
    uninstallFastKernels();
    const stockBefore = backend.numDataIds();
    for (let i = 0; i < 3; i++) tf.tidy(() => tf.grads((a: tf.Tensor) => tf.sum(tf.square(a)))([q]));
    const stockGrowth = backend.numDataIds() - stockBefore;
    await installFastKernels();
    const before = backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(backend.numDataIds() - before).toBe(stockGrowth);
  });
});
