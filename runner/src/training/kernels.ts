// The model's tensor operations, each behind one small named function with a hand-written
// gradient. Why by hand: on the wasm backend the stock gradients emit transposed matmuls
// (which fall off XNNPACK onto a slow scalar loop), the gradient of tf.gather needs a
// kernel wasm lacks (UnsortedSegmentSum), and every extra op costs ~10–50 µs of dispatch.
// Faster kernels (issue 8) replace the bodies here without touching the model.
import * as tf from "@tensorflow/tfjs";
import { fusedAttention, fusedGelu, fusedLayerNorm, fusedTokenLogprobs } from "../kernels/index";

type Saver = (tensors: tf.Tensor[]) => void;

/** tf.customGrad with the save function typed: `forward(save, ...inputs)`. */
function withGradient<T extends tf.Tensor>(
  forward: (save: Saver, ...inputs: tf.Tensor[]) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[] },
): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const save = args[args.length - 1] as Saver;
    const inputs = args.slice(0, -1) as tf.Tensor[];
    return forward(save, ...inputs);
  });
  return (...inputs: tf.Tensor[]) => op(...inputs) as T;
}

/**
 * One-hot rows as float32. (The wasm backend's OneHot returns zeros when asked for float32
 * directly, so the int32 result is cast.)
 */
function oneHot(ids: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(ids, depth), "float32") as tf.Tensor2D;
}

function saved(list: tf.Tensor[], index: number): tf.Tensor {
  const tensor = list[index];
  if (!tensor) throw new Error(`kernel gradient: saved tensor ${index} missing`);
  return tensor;
}

/** A 2-D matmul whose both operands are laid out so XNNPACK takes it. */
function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, b);
}

const linearOp = withGradient<tf.Tensor2D>((save, x, weight, bias) => {
  const x2 = x as tf.Tensor2D;
  const w2 = weight as tf.Tensor2D;
  save([x2, w2]);
  return {
    value: tf.fused.matMul({ a: x2, b: w2, bias }) as tf.Tensor2D,
    gradFunc: (dy, s) => {
      const xs = saved(s, 0) as tf.Tensor2D;
      const ws = saved(s, 1) as tf.Tensor2D;
      return [tf.matMul(dy, ws, false, true), tf.matMul(xs, dy, true, false), dy.sum(0)];
    },
  };
});

/** x·W + b for x [N, Cin], W [Cin, Cout], b [Cout] → [N, Cout]. */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return linearOp(x, weight, bias);
}

/** x·M for a constant M [C, C] (no gradient to M); `transposed` is Mᵀ, precomputed. */
export function matMulConstant(x: tf.Tensor2D, constant: tf.Tensor2D, transposed: tf.Tensor2D): tf.Tensor2D {
  const op = withGradient<tf.Tensor2D>((_save, input) => ({
    value: matMul2d(input as tf.Tensor2D, constant),
    gradFunc: (dy) => [matMul2d(dy, transposed)],
  }));
  return op(x);
}

/** Layer normalisation over the last axis of x [N, C]. */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D): tf.Tensor2D {
  return fusedLayerNorm(x, gain, bias);
}

/** GELU, tanh approximation (GPT-2's). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return fusedGelu(x);
}

// Tensors a gradient needs must go through `save`: the forward pass runs in a tidy that
// disposes everything else before the backward pass starts.

/**
 * Rows of the embedding table for token ids [N] → [N, C]. Forward is a gather; the gradient
 * is one-hotᵀ · dy, a plain matmul, because wasm cannot run gather's own gradient.
 */
export function embed(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  const vocabSize = table.shape[0];
  const op = withGradient<tf.Tensor2D>((save, t) => {
    save([ids]);
    return {
      value: tf.gather(t as tf.Tensor2D, ids),
      gradFunc: (dy, s) => {
        return [tf.matMul(oneHot(saved(s, 0) as tf.Tensor1D, vocabSize), dy, true, false)];
      },
    };
  });
  return op(table);
}

const unembedOp = withGradient<tf.Tensor2D>((save, x, table) => {
  const x2 = x as tf.Tensor2D;
  const t2 = table as tf.Tensor2D;
  save([x2, t2]);
  return {
    value: tf.matMul(x2, t2, false, true) as tf.Tensor2D,
    gradFunc: (dy, s) => {
      const xs = saved(s, 0) as tf.Tensor2D;
      const ts = saved(s, 1) as tf.Tensor2D;
      return [matMul2d(dy, ts), tf.matMul(dy, xs, true, false)];
    },
  };
});

/** Logits of the tied output layer: x [N, C] · tableᵀ [C, V] → [N, V]. */
export function unembed(x: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  return unembedOp(x, table);
}

/**
 * softmax(q·kᵀ/√d + mask)·v for q [B, H, Tq, D], k and v [B, H, Tk, D]; `mask` is additive
 * (0 or a large negative number), broadcastable to [B, H, Tq, Tk].
 */
export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor | undefined): tf.Tensor4D {
  return fusedAttention(q, k, v, mask);
}

/**
 * log softmax(logits)[target] per row: logits [N, V], targets [N] → [N]. Used both for the
 * pretraining cross-entropy and for GRPO's per-token log-probabilities.
 */
export function tokenLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return fusedTokenLogprobs(logits, targets);
}

/** Entropy of softmax(logits) per row: [N, V] → [N]; for logging, no gradient. */
export function softmaxEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  const logProbabilities = tf.logSoftmax(logits);
  return tf.neg(tf.sum(tf.mul(tf.exp(logProbabilities), logProbabilities), -1)) as tf.Tensor1D;
}

/** x in the forward pass, no gradient in the backward pass (tfjs has no stop_gradient). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = withGradient<T>((_save, input) => ({
    value: (input as T).clone(),
    gradFunc: (dy) => [tf.zerosLike(dy)],
  }));
  return op(x);
}
