// Pow, Tanh, Sum and Transpose overrides against the stock wasm kernels.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../backend";
import { collapseTranspose } from "./elementwise";
import { installFastKernels, uninstallFastKernels } from "./index";
import { randomTensors } from "./test-support";

const random = randomTensors(7);

async function compare(f: () => tf.Tensor, tolerance: (stock: number) => number): Promise<void> {
  uninstallFastKernels();
  const stock = f();
  await installFastKernels({ nativeBlas: false });
  const fast = f();
  expect(fast.shape).toEqual(stock.shape);
  expect(fast.dtype).toEqual(stock.dtype);
  const s = stock.dataSync();
  const v = fast.dataSync();
  for (let i = 0; i < s.length; i++) {
    const want = s[i] ?? NaN;
    const got = v[i] ?? NaN;
    if (Math.abs(got - want) > tolerance(want)) expect(got).toBe(want); // fails with both numbers shown
  }
  tf.dispose([stock, fast]);
}

beforeAll(async () => {
  await selectBackend("wasm");
});
afterAll(() => uninstallFastKernels());

describe("Pow", () => {
  for (const e of [2, 3, 4, 2.5, -1])
    it(`x^${e}`, async () => {
      const x = e === 2.5 || e === -1 ? tf.abs(random([37, 13], 3)) : random([37, 13], 3);
      await compare(() => tf.pow(x, e), (want) => 2e-6 * Math.abs(want) + 1e-7);
    });
  it("tensor exponents go to the stock kernel", async () => {
    const x = tf.abs(random([5, 4]));
    const y = random([5, 4]);
    await compare(() => tf.pow(x, y), () => 0);
  });
});

describe("Tanh", () => {
  it("matches on small, medium, large and odd-length inputs", async () => {
    const values = [0, -0, 1e-8, -1e-5, 0.3, -0.6249, 0.625, 0.7, -2, 5, 9.5, -20, 88, -100, 1000];
    const x = tf.concat([tf.tensor1d(values), random([1001], 6).reshape([-1])]);
    // Relative precision near 0 (odd polynomial), absolute elsewhere.
    await compare(() => tf.tanh(x), (want) => 3e-7 + 2e-6 * Math.abs(want));
  });
});

describe("Sum", () => {
  const cases: Array<{ shape: number[]; axis: number | number[]; keepDims?: boolean }> = [
    { shape: [4096, 37], axis: 0 },
    { shape: [513, 64], axis: 0, keepDims: true },
    { shape: [33, 257], axis: -1 },
    { shape: [33, 7], axis: 1, keepDims: true },
    { shape: [5, 6, 7], axis: [0, 1] },
    { shape: [5, 6, 7], axis: [1, 2] },
    { shape: [5, 6, 7], axis: 1 },
    { shape: [5, 6, 7], axis: [0, 2] }, // not contiguous: stock
    { shape: [100], axis: 0 },
    { shape: [3, 4], axis: [0, 1] },
  ];
  for (const c of cases)
    it(`[${c.shape.join(",")}] over ${JSON.stringify(c.axis)}${c.keepDims ? " keepDims" : ""}`, async () => {
      const x = random(c.shape);
      const n = c.shape.reduce((p, d) => p * d, 1);
      await compare(() => tf.sum(x, c.axis, c.keepDims), () => 1e-6 * Math.sqrt(n) * 4);
    });
  it("int32 goes to the stock kernel", async () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2], "int32");
    await compare(() => tf.sum(x, 0), () => 0);
  });
});

describe("Transpose", () => {
  const cases: Array<{ shape: number[]; perm: number[] }> = [
    { shape: [130, 70], perm: [1, 0] },
    { shape: [4096, 128], perm: [1, 0] },
    { shape: [32, 64, 4, 16], perm: [0, 2, 1, 3] },
    { shape: [4, 5, 6, 7], perm: [3, 2, 1, 0] },
    { shape: [2, 3, 4, 5, 6], perm: [0, 1, 3, 2, 4] },
    { shape: [2, 3, 4, 5, 6], perm: [4, 3, 2, 1, 0] }, // five axes after collapsing: stock
    { shape: [1, 9, 1, 5], perm: [3, 2, 1, 0] },
    { shape: [7, 1], perm: [1, 0] },
    { shape: [3, 0, 2], perm: [2, 1, 0] },
  ];
  for (const c of cases)
    it(`[${c.shape.join(",")}] by [${c.perm.join(",")}]`, async () => {
      const x = random(c.shape);
      await compare(() => tf.transpose(x, c.perm), () => 0);
    });
  it("int32", async () => {
    const x = tf.tensor3d(Int32Array.from({ length: 60 }, (_, i) => i - 30), [3, 4, 5], "int32");
    await compare(() => tf.transpose(x, [2, 0, 1]), () => 0);
  });
  it("collapses size-1 axes and neighbours", () => {
    expect(collapseTranspose([32, 64, 4, 16], [0, 2, 1, 3])).toEqual({ dims: [32, 64, 4, 16], perm: [0, 2, 1, 3] });
    expect(collapseTranspose([2, 3, 4, 5, 6], [0, 1, 3, 2, 4])).toEqual({ dims: [6, 4, 5, 6], perm: [0, 2, 1, 3] });
    expect(collapseTranspose([1, 9, 1, 5], [3, 2, 1, 0])).toEqual({ dims: [9, 5], perm: [1, 0] });
    expect(collapseTranspose([4, 5], [0, 1])).toEqual({ dims: [20], perm: [0] });
  });
});

describe("GatherV2", () => {
  let table: tf.Tensor;
  beforeAll(() => {
    table = random([64, 48]);
  });
  it("rows of an embedding table", async () => {
    const ids = tf.tensor2d(Int32Array.from({ length: 64 * 3 }, (_, i) => (i * 37) % 64), [64, 3], "int32");
    await compare(() => tf.gather(table, ids), () => 0);
  });
  it("along an inner axis, and int32 values", async () => {
    const ids = tf.tensor1d([5, 0, 47, 5], "int32");
    await compare(() => tf.gather(table, ids, 1), () => 0);
    const ints = tf.tensor2d(Int32Array.from({ length: 12 }, (_, i) => i), [4, 3], "int32");
    await compare(() => tf.gather(ints, tf.tensor1d([3, 1], "int32")), () => 0);
  });
  it("an empty index list", async () => {
    await compare(() => tf.gather(table, tf.tensor1d([], "int32")), () => 0);
  });
  it("leaves out-of-range indices to the stock kernel, which reports them", async () => {
    await installFastKernels({ nativeBlas: false });
    const ids = tf.tensor1d([1, 64], "int32");
    const before = tf.memory().numTensors;
    expect(() => tf.gather(table, ids)).toThrow(/index value 64/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
