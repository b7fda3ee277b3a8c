// Our matmul kernels against the stock wasm ones on random inputs: every transpose
// combination, batch broadcasting, sizes that are not multiples of the tile, K = 0/1.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../backend";
import { type FastKernelOptions, installFastKernels, planMatMul, uninstallFastKernels } from "./index";

let seed = 1;
function random(shape: number[]): tf.Tensor {
  const values = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = seed / 2 ** 31 - 1;
  }
  return tf.tensor(values, shape);
}

/**
 * op(a)·op(b) with numpy broadcasting, in float64: the judge where the stock kernel itself
 * is wrong (it maps batches by modulo, so [2,1]×[1,3] batches pair up incorrectly).
 */
function reference(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const av = a.dataSync();
  const bv = b.dataSync();
  const { m, n, k } = plan;
  const out = new Float32Array(plan.outShape.reduce((p, d) => p * d, 1));
  const aBatches = av.length / (m * k);
  const bBatches = bv.length / (k * n);
  const outBatch = plan.outShape.slice(0, -2);
  const padded = (shape: number[]) => [...new Array<number>(outBatch.length - (shape.length - 2)).fill(1), ...shape.slice(0, -2)];
  const pa = padded(a.shape);
  const pb = padded(b.shape);
  for (let o = 0; o < out.length / (m * n); o++) {
    let rest = o;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const size = outBatch[d] ?? 1;
      const index = rest % size;
      rest = Math.floor(rest / size);
      ia += ((pa[d] ?? 1) === 1 ? 0 : index) * sa;
      ib += ((pb[d] ?? 1) === 1 ? 0 : index) * sb;
      sa *= pa[d] ?? 1;
      sb *= pb[d] ?? 1;
    }
    expect(ia).toBeLessThan(aBatches);
    expect(ib).toBeLessThan(bBatches);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const x = av[ia * m * k + (transposeA ? p * m + i : i * k + p)] ?? NaN;
          const y = bv[ib * k * n + (transposeB ? j * k + p : p * n + j)] ?? NaN;
          sum += x * y;
        }
        out[o * m * n + i * n + j] = sum;
      }
  }
  return tf.tensor(out, plan.outShape);
}

/** Runs f with the stock kernels and with ours; returns both results' values and shapes. */
async function both(f: () => tf.Tensor): Promise<{ stock: tf.Tensor; fast: tf.Tensor }> {
  uninstallFastKernels();
  const stock = f();
  await installFastKernels();
  const fast = f();
  return { stock, fast };
}

function expectClose(stock: tf.Tensor, fast: tf.Tensor, k: number): void {
  expect(fast.shape).toEqual(stock.shape);
  const s = stock.dataSync();
  const f = fast.dataSync();
  // Sums of k products of numbers in [−1, 1] in another order: error grows with k.
  const tolerance = 1e-5 * Math.max(1, k);
  let worst = 0;
  for (let i = 0; i < s.length; i++) worst = Math.max(worst, Math.abs((s[i] ?? 0) - (f[i] ?? 0)));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

beforeAll(async () => {
  await selectBackend("wasm");
  const report = await installFastKernels();
  expect(report.installed).toEqual(expect.arrayContaining(["BatchMatMul", "_FusedMatMul", "Pow", "Tanh", "Sum", "Transpose", "TranscendAttention"]));
  // Visible in the test log: which matmul these tests exercised natively.
  console.info(`fast kernels: matmul on ${report.matmul}${report.reason ? ` (${report.reason})` : ""}`);
});
afterAll(() => uninstallFastKernels());

// Native BLAS loads where libopenblas0 is installed; elsewhere that row tests the fallback.
const variants: FastKernelOptions[] = [
  { nativeBlas: false, preferXnnpackForPlain: true },
  { nativeBlas: false, preferXnnpackForPlain: false },
  { nativeBlas: true },
];
describe.each(variants)("BatchMatMul %o", (options) => {
  beforeAll(async () => {
    await installFastKernels(options);
  });
  afterAll(() => uninstallFastKernels());

  const cases: Array<{ a: number[]; b: number[] }> = [
    { a: [1, 1], b: [1, 1] },
    { a: [7, 5], b: [5, 3] },
    { a: [37, 300], b: [300, 45] },
    { a: [130, 64], b: [64, 270] },
    { a: [64, 1000], b: [1000, 17] },
    { a: [3, 13, 9], b: [3, 9, 11] },
    { a: [2, 3, 13, 9], b: [9, 11] },
    { a: [13, 9], b: [2, 3, 9, 11] },
    { a: [2, 1, 5, 4], b: [1, 3, 4, 6] },
    { a: [4, 1, 6, 5], b: [3, 5, 7] },
  ];
  for (const { a, b } of cases)
    for (const transposeA of [false, true])
      for (const transposeB of [false, true]) {
        const swap = (shape: number[], t: boolean) => (t ? [...shape.slice(0, -2), shape.at(-1) ?? 1, shape.at(-2) ?? 1] : shape);
        it(`[${a.join(",")}]${transposeA ? "ᵀ" : ""} · [${b.join(",")}]${transposeB ? "ᵀ" : ""}`, async () => {
          const x = random(swap(a, transposeA));
          const y = random(swap(b, transposeB));
          const fast = tf.matMul(x, y, transposeA, transposeB);
          expectClose(reference(x, y, transposeA, transposeB), fast, a.at(-1) ?? 1);
          tf.dispose([x, y, fast]);
        });
      }

  it("K = 0 gives zeros", () => {
    const out = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]));
    expect(out.shape).toEqual([3, 4]);
    expect(Array.from(out.dataSync())).toEqual(new Array<number>(12).fill(0));
  });

  it("refuses shapes that do not match", () => {
    expect(() => planMatMul([2, 3], [4, 5], false, false)).toThrow(/inner shapes/);
    expect(() => planMatMul([2, 2, 3], [3, 3, 5], false, false)).toThrow(/broadcast/);
  });

  it("gradients through tf.matMul agree", async () => {
    const x = random([4, 10, 7]);
    const y = random([4, 7, 9]);
    const grads = () => tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q, false, false))))([x, y]);
    uninstallFastKernels();
    const stock = grads();
    await installFastKernels(options);
    const fast = grads();
    stock.forEach((s, i) => {
      const f = fast[i];
      if (!f) throw new Error("missing gradient");
      expectClose(s, f, 100);
    });
  });
});

describe.each(variants)("_FusedMatMul %o", (options) => {
  beforeAll(async () => {
    await installFastKernels(options);
  });

  for (const [m, k, n] of [
    [1, 1, 1],
    [33, 17, 29],
    [256, 64, 256],
  ] as const)
    for (const transposeB of [false, true])
      it(`bias, ${m}×${k}·${k}×${n}${transposeB ? " (bᵀ)" : ""}`, async () => {
        const x = random([m, k]);
        const w = random(transposeB ? [n, k] : [k, n]);
        const bias = random([n]);
        const fast = tf.fused.matMul({ a: x, b: w, bias, transposeB });
        expectClose(tf.add(reference(x, w, false, transposeB), bias), fast, k);
      });

  it("falls back to the stock kernel for activations", async () => {
    const x = random([9, 5]);
    const w = random([5, 6]);
    const { stock, fast } = await both(() => tf.fused.matMul({ a: x, b: w, activation: "relu" }));
    expectClose(stock, fast, 5);
  });

  it("works inside tidy and leaks nothing", () => {
    const x = random([20, 8]);
    const w = random([8, 12]);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => tf.matMul(tf.matMul(x, w), w, false, true));
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
  });
});
