// The fused AdamW kernel against the same update in stock ops (the fallback path, which
// mirrors the engine's AdamW and clipping), over several steps with and without clipping.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../backend";
import { fusedAdamW, installFastKernels, uninstallFastKernels } from "./index";
import { randomTensors } from "./test-support";

function run(steps: number, maxGradNorm: number): number[][] {
  const shapes = [[7, 5], [5], [3, 3, 3], [1]];
  // Each run starts from the same draws, so runs with and without the kernels compare.
  const random = randomTensors(3);
  let params = shapes.map((s) => random(s));
  let m = shapes.map((s) => tf.zeros(s));
  let v = shapes.map((s) => tf.zeros(s));
  const norms: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const grads = shapes.map((s) => random(s, 3));
    const r = fusedAdamW(params, grads, m, v, { learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, decays: [true, false, true, false], step, maxGradNorm });
    norms.push(r.gradNorm.dataSync()[0] ?? NaN);
    tf.dispose([...params, ...m, ...v, ...grads, r.gradNorm]);
    params = r.params;
    m = r.firstMoments;
    v = r.secondMoments;
  }
  const out = [...params, ...m, ...v].map((t) => Array.from(t.dataSync()));
  tf.dispose([...params, ...m, ...v]);
  return [norms, ...out];
}

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(() => uninstallFastKernels());

describe("fusedAdamW", () => {
  for (const maxGradNorm of [0, 1])
    it(`matches the stock-op update over 3 steps (clip ${maxGradNorm})`, async () => {
      uninstallFastKernels();
      const want = run(3, maxGradNorm);
      await installFastKernels({ nativeBlas: false });
      const before = tf.memory().numTensors;
      const got = run(3, maxGradNorm);
      expect(tf.memory().numTensors).toBe(before);
      want.forEach((w, i) => {
        const g = got[i] ?? [];
        expect(g.length).toBe(w.length);
        w.forEach((x, j) => expect(Math.abs(x - (g[j] ?? NaN))).toBeLessThan(1e-5 * (1 + Math.abs(x))));
      });
    });
});
