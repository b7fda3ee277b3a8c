// Shared by the kernel tests: reproducible random tensors from a small LCG, so every
// kernel is compared with the stock op on the same inputs run after run.
import * as tf from "@tensorflow/tfjs";

export function randomTensors(initialSeed: number): (shape: number[], scale?: number) => tf.Tensor {
  let seed = initialSeed;
  return (shape, scale = 1) => {
    const values = new Float32Array(shape.reduce((p, d) => p * d, 1));
    for (let i = 0; i < values.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      values[i] = (seed / 2 ** 31 - 1) * scale;
    }
    return tf.tensor(values, shape);
  };
}
