// The fused decoder block against the same block written with stock tfjs ops and a
// concatenating key/value cache: a padded prefill, then single-token steps, two layers.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../backend";
import { DecodeCache, type DecoderBlockWeights, fusedDecoderAvailable, fusedDecoderBlock } from "./decoder";
import { installFastKernels, uninstallFastKernels } from "./index";

let seed = 5;
function random(shape: number[], scale = 0.5): tf.Tensor {
  const values = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = (seed / 2 ** 31 - 1) * scale;
  }
  return tf.tensor(values, shape);
}

const C = 12;
const H = 3;
const D = C / H;
const F = 4 * C;
const B = 2;

function blockWeights(): DecoderBlockWeights {
  const linear = (i: number, o: number) => ({ weight: random([i, o]), bias: random([o], 0.1) });
  const norm = () => ({ gain: tf.add(random([C], 0.2), 1), bias: random([C], 0.1) });
  return { norm1: norm(), query: linear(C, C), key: linear(C, C), value: linear(C, C), attentionOut: linear(C, C), norm2: norm(), mlpIn: linear(C, F), mlpOut: linear(F, C) };
}

function layerNorm(x: tf.Tensor, n: { gain: tf.Tensor; bias: tf.Tensor }): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), n.gain), n.bias);
}

function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** The block with stock ops; `history` holds this layer's keys/values [B, H, L, D] so far. */
function referenceBlock(x: tf.Tensor2D, w: DecoderBlockWeights, history: { k?: tf.Tensor; v?: tf.Tensor }, mask: tf.Tensor): tf.Tensor2D {
  const t = x.shape[0] / B;
  const heads = (y: tf.Tensor) => y.reshape([B, t, H, D]).transpose([0, 2, 1, 3]);
  const lin = (y: tf.Tensor, l: { weight: tf.Tensor; bias: tf.Tensor }) => tf.add(tf.matMul(y, l.weight), l.bias);
  const h = layerNorm(x, w.norm1);
  const q = heads(lin(h, w.query));
  const k = history.k ? tf.concat([history.k, heads(lin(h, w.key))], 2) : heads(lin(h, w.key));
  const v = history.v ? tf.concat([history.v, heads(lin(h, w.value))], 2) : heads(lin(h, w.value));
  history.k = tf.keep(k);
  history.v = tf.keep(v);
  const tk = k.shape[2] ?? 0;
  const causal = new Float32Array(t * tk);
  for (let i = 0; i < t; i++) for (let j = i + tk - t + 1; j < tk; j++) causal[i * tk + j] = -1e9;
  const scores = tf.add(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(D)), mask), tf.tensor2d(causal, [t, tk]));
  const y = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B * t, C]);
  const x1 = tf.add(x, lin(y, w.attentionOut));
  return tf.add(x1, lin(gelu(lin(layerNorm(x1, w.norm2), w.mlpIn)), w.mlpOut)) as tf.Tensor2D;
}

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(() => uninstallFastKernels());

describe("fusedDecoderBlock", () => {
  it("is unavailable without the fast kernels", () => {
    uninstallFastKernels();
    expect(fusedDecoderAvailable()).toBe(false);
  });

  for (const nativeBlas of [false, true])
    it(`matches the stock-op block over a padded prefill and three decode steps (nativeBlas ${nativeBlas})`, async () => {
      await installFastKernels({ nativeBlas });
      expect(fusedDecoderAvailable()).toBe(true);
      const layers = [blockWeights(), blockWeights()];
      const prefill = 10; // > ROW_ATTENTION_MAX_TOKENS: the prefill takes the gemm path, decode steps the row path
      const cache = new DecodeCache(2, B, H, prefill + 3, D);
      const history = layers.map(() => ({}) as { k?: tf.Tensor; v?: tf.Tensor });
      // Row 1 has one padding token at the front: its key is hidden from every query.
      const padMask = (tq: number, tk: number) => {
        const values = new Float32Array(B * tq * tk);
        for (let i = 0; i < tq; i++) values[(1 * tq + i) * tk + 0] = -1e9;
        return tf.tensor4d(values, [B, 1, tq, tk]);
      };
      for (let step = 0; step < 4; step++) {
        const t = step === 0 ? prefill : 1;
        const tk = cache.length + t;
        const x = random([B * t, C], 1) as tf.Tensor2D;
        const mask = padMask(t, tk);
        let fused: tf.Tensor2D = x;
        let reference: tf.Tensor2D = x;
        layers.forEach((w, layer) => {
          fused = fusedDecoderBlock(fused, w, cache, layer, mask);
          reference = tf.tidy(() => referenceBlock(reference, w, history[layer] ?? {}, mask));
        });
        cache.length += t;
        const want = reference.dataSync();
        const got = fused.dataSync();
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          // Row 1's padding position attends to nothing; what a fully masked query returns
          // is undefined (and never read), so it is not compared.
          if (step === 0 && Math.floor(i / C) === 1 * t) continue;
          worst = Math.max(worst, Math.abs((want[i] ?? NaN) - (got[i] ?? NaN)));
        }
        expect(worst).toBeLessThan(2e-5);
      }
      cache.dispose();
    });
});

describe("fusedDecoderBlock memory", () => {
  it("frees its temporaries in the wasm heap (the backend's data ids return to where they were)", async () => {
    await installFastKernels();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const w = blockWeights();
    const cache = new DecodeCache(1, B, H, 41, D);
    // The first call builds the layer's fused q|k|v weight, kept while the weights stay the same.
    const warm = random([B, C]) as tf.Tensor2D;
    tf.dispose([warm, fusedDecoderBlock(warm, w, cache, 0)]);
    cache.length += 1;
    const before = backend.numDataIds();
    for (const t of [12, 1, 1, 1]) {
      const x = random([B * t, C]) as tf.Tensor2D;
      const y = fusedDecoderBlock(x, w, cache, 0);
      cache.length += t;
      tf.dispose([x, y]);
    }
    expect(backend.numDataIds()).toBe(before);
    cache.dispose();
  });
});
