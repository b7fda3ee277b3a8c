// Fused transformer ops with their own gradients: layer norm, GELU, causal attention and
// token log-probabilities. Each is one kernel call forward and one backward where the
// composite tfjs version is 5–15 ops (on wasm every op costs dispatch time, and the small
// models are dominated by op count). With the fast kernels installed on the wasm backend
// they run on kernels-src/fused.c (+ the gemm for attention's matmuls); on any other
// backend the same functions compute the composite, so callers need no branch.
import * as tf from "@tensorflow/tfjs";
import { exported, instantiateKernels } from "./module";
import type { Gemm } from "./gemm";
import { addressOf, type WasmBackend } from "./wasm-backend";

type KernelFunc = tf.KernelConfig["kernelFunc"];

export const FUSED_KERNELS = {
  layerNorm: "TranscendLayerNorm",
  layerNormGrad: "TranscendLayerNormGrad",
  gelu: "TranscendGelu",
  geluGrad: "TranscendGeluGrad",
  attention: "TranscendAttention",
  attentionGrad: "TranscendAttentionGrad",
  tokenLogprobs: "TranscendTokenLogprobs",
  tokenLogprobsGrad: "TranscendTokenLogprobsGrad",
} as const;

const FILE = "fused.wasm";
export const LAYER_NORM_EPSILON = 1e-5; // as torch.nn.LayerNorm

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`fused kernel: input ${name} missing`);
  return t;
}

/** Element strides of `mask` broadcast to [B, H, Tq, Tk] (0 where it broadcasts). */
export function maskStrides(maskShape: readonly number[], target: readonly [number, number, number, number]): [number, number, number, number] {
  if (maskShape.length > 4) throw new Error(`attention mask of rank ${maskShape.length}; at most 4`);
  const padded = [...new Array<number>(4 - maskShape.length).fill(1), ...maskShape];
  const strides: number[] = [0, 0, 0, 0];
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    const dim = padded[d] ?? 1;
    const want = target[d] ?? 1;
    if (dim !== want && dim !== 1) throw new Error(`attention mask [${maskShape.join(",")}] does not broadcast to [${target.join(",")}]`);
    strides[d] = dim === 1 ? 0 : stride;
    stride *= dim;
  }
  return [strides[0] ?? 0, strides[1] ?? 0, strides[2] ?? 0, strides[3] ?? 0];
}

export async function fusedKernels(backend: WasmBackend, gemm: Gemm): Promise<Array<[string, KernelFunc]>> {
  const e = await instantiateKernels(backend, FILE);
  type Fn = (...args: number[]) => void;
  const layerNormFwd = exported<Fn>(e, "layer_norm_fwd", FILE);
  const layerNormBwd = exported<Fn>(e, "layer_norm_bwd", FILE);
  const geluFwd = exported<Fn>(e, "gelu_fwd_keep", FILE);
  const geluBwd = exported<Fn>(e, "gelu_bwd_kept", FILE);
  const softmax = exported<Fn>(e, "attention_softmax", FILE);
  const softmaxBwd = exported<Fn>(e, "attention_softmax_bwd", FILE);
  const logprobsFwd = exported<Fn>(e, "token_logprobs_fwd", FILE);
  const logprobsBwd = exported<Fn>(e, "token_logprobs_bwd", FILE);
  const at = (t: tf.TensorInfo) => addressOf(backend, t);
  const out = (shape: number[], dtype: tf.DataType = "float32") => backend.makeOutput(shape, dtype);

  const layerNorm: KernelFunc = ({ inputs, attrs }) => {
    const x = input(inputs, "x");
    const c = x.shape.at(-1) ?? 1;
    const n = size(x.shape) / c;
    const y = out([...x.shape]);
    const stats = out([n, 2]);
    const epsilon = typeof attrs?.epsilon === "number" ? attrs.epsilon : LAYER_NORM_EPSILON;
    layerNormFwd(at(x), at(input(inputs, "gain")), at(input(inputs, "bias")), at(y), at(stats), n, c, epsilon);
    return [y, stats];
  };
  const layerNormGrad: KernelFunc = ({ inputs }) => {
    const x = input(inputs, "x");
    const c = x.shape.at(-1) ?? 1;
    const dx = out([...x.shape]);
    const dgain = out([c]);
    const dbias = out([c]);
    layerNormBwd(at(input(inputs, "dy")), at(x), at(input(inputs, "stats")), at(input(inputs, "gain")), at(dx), at(dgain), at(dbias), size(x.shape) / c, c);
    return [dx, dgain, dbias];
  };
  // Outputs y and the tanh term, which the backward pass reuses.
  const gelu: KernelFunc = ({ inputs }) => {
    const x = input(inputs, "x");
    const y = out([...x.shape]);
    const t = out([...x.shape]);
    geluFwd(at(x), at(y), at(t), size(x.shape));
    return [y, t];
  };
  const geluGrad: KernelFunc = ({ inputs }) => {
    const x = input(inputs, "x");
    const dx = out([...x.shape]);
    geluBwd(at(x), at(input(inputs, "t")), at(input(inputs, "dy")), at(dx), size(x.shape));
    return dx;
  };
  const attention: KernelFunc = ({ inputs, attrs }) => {
    const q = input(inputs, "q");
    const k = input(inputs, "k");
    const v = input(inputs, "v");
    const mask = inputs.mask;
    const [b = 1, h = 1, tq = 1, d = 1] = q.shape;
    const tk = k.shape[2] ?? 1;
    const scale = typeof attrs?.scale === "number" ? attrs.scale : 1 / Math.sqrt(d);
    const causal = attrs?.causal === true;
    const p = out([b, h, tq, tk]); // q·kᵀ, then the probabilities in place
    gemm.batchMatMul({ batch: b * h, m: tq, n: tk, k: d, a: at(q), strideA: tq * d, transposeA: false, b: at(k), strideB: tk * d, transposeB: true, out: at(p) });
    const [mb, mh, mq, mk] = mask ? maskStrides(mask.shape, [b, h, tq, tk]) : [0, 0, 0, 0];
    softmax(at(p), b, h, tq, tk, scale, mask ? at(mask) : 0, mb, mh, mq, mk, causal ? 1 : 0, tk - tq);
    const y = out([b, h, tq, d]);
    gemm.batchMatMul({ batch: b * h, m: tq, n: d, k: tk, a: at(p), strideA: tq * tk, transposeA: false, b: at(v), strideB: tk * d, transposeB: false, out: at(y) });
    return [y, p];
  };
  const attentionGrad: KernelFunc = ({ inputs, attrs }) => {
    const dy = input(inputs, "dy");
    const q = input(inputs, "q");
    const k = input(inputs, "k");
    const v = input(inputs, "v");
    const p = input(inputs, "p");
    const [b = 1, h = 1, tq = 1, d = 1] = q.shape;
    const tk = k.shape[2] ?? 1;
    const bh = b * h;
    const scale = typeof attrs?.scale === "number" ? attrs.scale : 1 / Math.sqrt(d);
    const dv = out([b, h, tk, d]);
    gemm.batchMatMul({ batch: bh, m: tk, n: d, k: tq, a: at(p), strideA: tq * tk, transposeA: true, b: at(dy), strideB: tq * d, transposeB: false, out: at(dv) });
    const ds = out([b, h, tq, tk]); // dy·vᵀ, then the score gradient in place
    gemm.batchMatMul({ batch: bh, m: tq, n: tk, k: d, a: at(dy), strideA: tq * d, transposeA: false, b: at(v), strideB: tk * d, transposeB: true, out: at(ds) });
    softmaxBwd(at(ds), at(p), bh * tq, tk, scale);
    const dq = out([b, h, tq, d]);
    gemm.batchMatMul({ batch: bh, m: tq, n: d, k: tk, a: at(ds), strideA: tq * tk, transposeA: false, b: at(k), strideB: tk * d, transposeB: false, out: at(dq) });
    const dk = out([b, h, tk, d]);
    gemm.batchMatMul({ batch: bh, m: tk, n: d, k: tq, a: at(ds), strideA: tq * tk, transposeA: true, b: at(q), strideB: tq * d, transposeB: false, out: at(dk) });
    backend.disposeData(ds.dataId);
    return [dq, dk, dv];
  };
  const tokenLogprobs: KernelFunc = ({ inputs }) => {
    const logits = input(inputs, "logits");
    const [n = 1, vocab = 1] = logits.shape;
    const y = out([n]);
    const lse = out([n]);
    logprobsFwd(at(logits), at(input(inputs, "targets")), at(y), at(lse), n, vocab);
    return [y, lse];
  };
  const tokenLogprobsGrad: KernelFunc = ({ inputs }) => {
    const logits = input(inputs, "logits");
    const [n = 1, vocab = 1] = logits.shape;
    const dlogits = out([n, vocab]);
    logprobsBwd(at(logits), at(input(inputs, "targets")), at(input(inputs, "lse")), at(input(inputs, "dy")), at(dlogits), n, vocab);
    return dlogits;
  };
  return [
    [FUSED_KERNELS.layerNorm, layerNorm],
    [FUSED_KERNELS.layerNormGrad, layerNormGrad],
    [FUSED_KERNELS.gelu, gelu],
    [FUSED_KERNELS.geluGrad, geluGrad],
    [FUSED_KERNELS.attention, attention],
    [FUSED_KERNELS.attentionGrad, attentionGrad],
    [FUSED_KERNELS.tokenLogprobs, tokenLogprobs],
    [FUSED_KERNELS.tokenLogprobsGrad, tokenLogprobsGrad],
  ];
}

// ---------------------------------------------------------------------------------------
// The ops. Each checks whether its kernel is registered for the current backend; if not,
// it computes the same thing from stock ops.

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function run(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor[] {
  const result = tf.engine().runKernel(name, inputs, attrs);
  return Array.isArray(result) ? result : [result];
}

function first(list: tf.Tensor[], index = 0): tf.Tensor {
  const t = list[index];
  if (!t) throw new Error(`fused op: output ${index} missing`);
  return t;
}

type Saver = (tensors: tf.Tensor[]) => void;
type Forward = (save: Saver, ...inputs: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

/** tf.customGrad with the save function first and typed. */
function custom(forward: Forward): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const save = args[args.length - 1] as Saver;
    return forward(save, ...(args.slice(0, -1) as tf.Tensor[]));
  });
  return (...inputs: tf.Tensor[]) => op(...inputs);
}

/** Layer normalisation over the last axis of x [N, C] with gain and bias [C]. */
export function fusedLayerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, epsilon = LAYER_NORM_EPSILON): tf.Tensor2D {
  if (!hasKernel(FUSED_KERNELS.layerNorm)) {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gain), bias);
  }
  const op = custom((save, xs, g, b) => {
    if (!xs || !g || !b) throw new Error("fusedLayerNorm: inputs");
    const outputs = run(FUSED_KERNELS.layerNorm, { x: xs, gain: g, bias: b }, { epsilon });
    const stats = first(outputs, 1);
    save([xs, stats, g]);
    return {
      value: first(outputs),
      gradFunc: (dy, saved) => run(FUSED_KERNELS.layerNormGrad, { dy, x: first(saved, 0), stats: first(saved, 1), gain: first(saved, 2) }),
    };
  });
  return op(x, gain, bias) as tf.Tensor2D;
}

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** GELU, tanh approximation (GPT-2's). */
export function fusedGelu<T extends tf.Tensor>(x: T): T {
  if (!hasKernel(FUSED_KERNELS.gelu)) {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), GELU_C)), GELU_K);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1)) as T;
  }
  const op = custom((save, xs) => {
    if (!xs) throw new Error("fusedGelu: input");
    const outputs = run(FUSED_KERNELS.gelu, { x: xs });
    save([xs, first(outputs, 1)]);
    return {
      value: first(outputs),
      gradFunc: (dy, saved) => run(FUSED_KERNELS.geluGrad, { x: first(saved, 0), t: first(saved, 1), dy }),
    };
  });
  return op(x) as T;
}

export interface AttentionOptions {
  /** Query i sees keys j ≤ i + (Tk − Tq): causal, also right for queries after a key/value cache. */
  causal?: boolean;
}

/**
 * softmax(q·kᵀ/√D + mask)·v for q [B, H, Tq, D], k and v [B, H, Tk, D]; `mask` is additive
 * (0 or a large negative number) and broadcastable to [B, H, Tq, Tk]; with `causal` no
 * mask is needed for the causal part. No gradient flows to the mask.
 */
export function fusedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask?: tf.Tensor, options: AttentionOptions = {}): tf.Tensor4D {
  const [, , tq, d] = q.shape;
  const tk = k.shape[2];
  const scale = 1 / Math.sqrt(d);
  const causal = options.causal === true;
  if (!hasKernel(FUSED_KERNELS.attention)) {
    return tf.tidy(() => {
      let scores = tf.mul(tf.matMul(q, k, false, true), scale);
      if (mask) scores = tf.add(scores, mask);
      if (causal) {
        const values = new Float32Array(tq * tk);
        for (let i = 0; i < tq; i++) for (let j = i + tk - tq + 1; j < tk; j++) values[i * tk + j] = -1e9;
        scores = tf.add(scores, tf.tensor2d(values, [tq, tk]));
      }
      return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
    });
  }
  const op = custom((save, qs, ks, vs) => {
    if (!qs || !ks || !vs) throw new Error("fusedAttention: inputs");
    const inputs: tf.NamedTensorMap = mask ? { q: qs, k: ks, v: vs, mask } : { q: qs, k: ks, v: vs };
    const outputs = run(FUSED_KERNELS.attention, inputs, { scale, causal });
    save([qs, ks, vs, first(outputs, 1)]);
    return {
      value: first(outputs),
      gradFunc: (dy, saved) =>
        run(FUSED_KERNELS.attentionGrad, { dy, q: first(saved, 0), k: first(saved, 1), v: first(saved, 2), p: first(saved, 3) }, { scale }),
    };
  });
  return op(q, k, v) as tf.Tensor4D;
}

/** log softmax(logits)[target] per row: logits [N, V], int32 targets [N] → [N]. */
export function fusedTokenLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  if (!hasKernel(FUSED_KERNELS.tokenLogprobs)) {
    const oneHot = tf.cast(tf.oneHot(targets, logits.shape[1]), "float32");
    return tf.sub(tf.sum(tf.mul(logits, oneHot), -1), tf.reshape(tf.logSumExp(logits, -1, true), [-1]));
  }
  const op = custom((save, l) => {
    if (!l) throw new Error("fusedTokenLogprobs: input");
    const outputs = run(FUSED_KERNELS.tokenLogprobs, { logits: l, targets });
    // targets too: the caller may create them inside the forward pass's tidy, which is
    // disposed before the backward pass runs.
    save([l, first(outputs, 1), targets]);
    return {
      value: first(outputs),
      gradFunc: (dy, saved) =>
        run(FUSED_KERNELS.tokenLogprobsGrad, { logits: first(saved, 0), targets: first(saved, 2), lse: first(saved, 1), dy }),
    };
  });
  return op(logits) as tf.Tensor1D;
}
