// A whole pre-LayerNorm transformer block for inference with a preallocated key/value
// cache, as one kernel call: LN → q,k,v → (k, v written into the cache in place) →
// causal attention over the cache → output projection + residual → LN → GELU MLP +
// residual. Sampling runs ~25 tfjs ops per layer per token otherwise, and on wasm the
// per-op cost, not arithmetic, is what a rollout of a small model spends its time on.
import * as tf from "@tensorflow/tfjs";
import { maskStrides } from "./fused";
import type { Gemm } from "./gemm";
import { exported, instantiateKernels } from "./module";
import { addressOf, type WasmBackend } from "./wasm-backend";

type KernelFunc = tf.KernelConfig["kernelFunc"];
export const DECODER_BLOCK_KERNEL = "TranscendDecoderBlock";
/** An uninitialised float32 tensor (the cache's rows are written before they are read). */
const EMPTY_KERNEL = "TranscendEmpty";
const FILE = "fused.wasm";
/**
 * Up to this many new tokens per row, attention runs row by row (attention_rows) rather
 * than as per-head gemms (measured: 8 beat 0 and 64 on all three bench rollouts).
 */
const ROW_ATTENTION_MAX_TOKENS = 8;

interface Linear {
  weight: tf.Tensor; // [in, out]
  bias: tf.Tensor; // [out]
}
interface Norm {
  gain: tf.Tensor;
  bias: tf.Tensor;
}
/** The weights of one block; the engine's BlockWeights has this shape. */
export interface DecoderBlockWeights {
  norm1: Norm;
  query: Linear;
  key: Linear;
  value: Linear;
  attentionOut: Linear;
  norm2: Norm;
  mlpIn: Linear;
  mlpOut: Linear;
}

/**
 * Keys and values of every layer, preallocated [B, H, capacity, D]; the fused block writes
 * each step's rows in place. `length` tokens are filled (the same for every row).
 */
export class DecodeCache {
  readonly keys: tf.Tensor4D[];
  readonly values: tf.Tensor4D[];
  length = 0;

  constructor(
    readonly layers: number,
    readonly batch: number,
    readonly heads: number,
    readonly capacity: number,
    readonly headDim: number,
  ) {
    // A fresh buffer per layer, so the in-place writes touch nothing else. Not zeroed when
    // the kernels are installed: only rows below `length` are ever read, and zero-filling
    // on the host took ~5% of a tiny rollout.
    const shape: [number, number, number, number] = [batch, heads, capacity, headDim];
    const empty = () =>
      tf.getKernel(EMPTY_KERNEL, tf.getBackend()) ? (tf.engine().runKernel(EMPTY_KERNEL, {}, { shape }) as tf.Tensor4D) : (tf.zeros(shape) as tf.Tensor4D);
    const make = () => Array.from({ length: layers }, () => tf.keep(empty()));
    this.keys = make();
    this.values = make();
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
  }
}

type InputName = "x" | "g1" | "b1" | "wq" | "bq" | "wk" | "bk" | "wv" | "bv" | "wo" | "bo" | "g2" | "b2" | "w1" | "bm1" | "w2" | "bm2" | "kCache" | "vCache";

export async function decoderKernels(backend: WasmBackend, gemm: Gemm): Promise<Array<[string, KernelFunc]>> {
  const e = await instantiateKernels(backend, FILE);
  type Fn = (...args: number[]) => void;
  const layerNorm = exported<Fn>(e, "layer_norm_fwd", FILE);
  const gelu = exported<Fn>(e, "gelu_fwd", FILE);
  const softmax = exported<Fn>(e, "attention_softmax", FILE);
  const splitHeads = exported<Fn>(e, "split_heads", FILE);
  const mergeHeads = exported<Fn>(e, "merge_heads", FILE);
  const addInto = exported<Fn>(e, "add_into", FILE);
  const attentionRows = exported<Fn>(e, "attention_rows", FILE);
  const copyColumns = exported<Fn>(e, "copy_columns", FILE);

  // The fused q|k|v weight and bias of each layer, rebuilt when that layer's weights change
  // (a weight update makes new tensors, so identity of the data ids says "unchanged").
  const projections = new Map<number, { sources: object[]; weight: tf.TensorInfo; bias: tf.TensorInfo }>();
  const fusedProjection = (wq: tf.TensorInfo, wk: tf.TensorInfo, wv: tf.TensorInfo, bq: tf.TensorInfo, bk: tf.TensorInfo, bv: tf.TensorInfo, layer: number, c: number) => {
    const sources = [wq, wk, wv, bq, bk, bv].map((t) => t.dataId);
    const cached = projections.get(layer);
    if (cached && cached.sources.every((id, i) => id === sources[i])) return cached;
    if (cached) {
      backend.disposeData(cached.weight.dataId);
      backend.disposeData(cached.bias.dataId);
    }
    const weight = backend.makeOutput([c, 3 * c], "float32");
    const bias = backend.makeOutput([3 * c], "float32");
    [wq, wk, wv].forEach((w, i) => copyColumns(at(w), at(weight), c, c, 3 * c, i * c));
    [bq, bk, bv].forEach((v, i) => copyColumns(at(v), at(bias), 1, c, 3 * c, i * c));
    const entry = { sources, weight, bias };
    projections.set(layer, entry);
    return entry;
  };
  const at = (t: tf.TensorInfo) => addressOf(backend, t);

  const block: KernelFunc = ({ inputs, attrs }) => {
    const get = (name: InputName) => {
      const t = inputs[name];
      if (!t) throw new Error(`decoder block: input ${name} missing`);
      return t;
    };
    const x = get("x");
    const kCache = get("kCache");
    const vCache = get("vCache");
    const mask = inputs.mask;
    const num = (name: string) => {
      const v = attrs?.[name];
      if (typeof v !== "number") throw new Error(`decoder block: attribute ${name} missing`);
      return v;
    };
    const b = num("batch");
    const t = num("tokens");
    const length = num("cacheLength");
    const epsilon = num("epsilon");
    const [, h = 1, capacity = 1, d = 1] = kCache.shape;
    const c = h * d;
    const n = b * t;
    const f = get("w1").shape[1] ?? 4 * c;
    const tk = length + t;
    if (tk > capacity) throw new Error(`decoder block: cache of ${capacity} tokens cannot take ${tk}`);

    const temps: tf.TensorInfo[] = [];
    const temp = (shape: number[]) => {
      const info = backend.makeOutput(shape, "float32");
      temps.push(info);
      return info;
    };
    const linear = (input: tf.TensorInfo, rows: number, inner: number, outer: number, w: InputName, bias: InputName, out: tf.TensorInfo) =>
      gemm.batchMatMul({
        batch: 1,
        m: rows,
        n: outer,
        k: inner,
        a: at(input),
        strideA: 0,
        transposeA: false,
        b: at(get(w)),
        strideB: 0,
        transposeB: false,
        out: at(out),
        bias: at(get(bias)),
      });

    const stats = temp([n, 2]);
    const hidden = temp([n, c]);
    layerNorm(at(x), at(get("g1")), at(get("b1")), at(hidden), at(stats), n, c, epsilon);
    // One projection for q|k|v: [N, C]·[C, 3C] (one gemm instead of three small ones).
    const qkv = temp([n, 3 * c]);
    const fused = fusedProjection(get("wq"), get("wk"), get("wv"), get("bq"), get("bk"), get("bv"), num("layer"), c);
    gemm.batchMatMul({ batch: 1, m: n, n: 3 * c, k: c, a: at(hidden), strideA: 0, transposeA: false, b: at(fused.weight), strideB: 0, transposeB: false, out: at(qkv), bias: at(fused.bias) });
    // k and v go straight into the cache rows [length, length + t).
    splitHeads(at(qkv) + 4 * c, at(kCache), b, t, h, d, capacity, length, 3 * c);
    splitHeads(at(qkv) + 8 * c, at(vCache), b, t, h, d, capacity, length, 3 * c);
    const [mb, mh, mq, mk] = mask ? maskStrides(mask.shape, [b, h, t, tk]) : [0, 0, 0, 0];
    const scale = 1 / Math.sqrt(d);
    const attended = temp([n, c]);
    if (t <= ROW_ATTENTION_MAX_TOKENS) {
      // Decode steps: matrix-vector products, row by row, in the token-major layout.
      const scratch = temp([tk]);
      attentionRows(at(qkv), 3 * c, at(kCache), at(vCache), at(attended), at(scratch), b, t, h, d, capacity, length, scale, mask ? at(mask) : 0, mb, mh, mq, mk);
    } else {
      // Prefill: per-head gemms over the cache.
      const heads = temp([b, h, t, d]);
      splitHeads(at(qkv), at(heads), b, t, h, d, t, 0, 3 * c);
      const p = temp([b, h, t, tk]);
      gemm.batchMatMul({ batch: b * h, m: t, n: tk, k: d, a: at(heads), strideA: t * d, transposeA: false, b: at(kCache), strideB: capacity * d, transposeB: true, out: at(p) });
      softmax(at(p), b, h, t, tk, scale, mask ? at(mask) : 0, mb, mh, mq, mk, 1, length);
      gemm.batchMatMul({ batch: b * h, m: t, n: d, k: tk, a: at(p), strideA: t * tk, transposeA: false, b: at(vCache), strideB: capacity * d, transposeB: false, out: at(heads) });
      mergeHeads(at(heads), at(attended), b, t, h, d);
    }

    const out = backend.makeOutput([n, c], "float32");
    linear(attended, n, c, c, "wo", "bo", hidden);
    addInto(at(x), at(hidden), at(out), n * c); // out = x + attention
    layerNorm(at(out), at(get("g2")), at(get("b2")), at(hidden), at(stats), n, c, epsilon);
    const wide = temp([n, f]);
    linear(hidden, n, c, f, "w1", "bm1", wide);
    gelu(at(wide), at(wide), n * f);
    linear(wide, n, f, c, "w2", "bm2", hidden);
    addInto(at(out), at(hidden), at(out), n * c); // out += mlp
    for (const info of temps) backend.disposeData(info.dataId);
    return out;
  };
  const empty: KernelFunc = ({ attrs }) => {
    const shape = attrs?.shape;
    if (!Array.isArray(shape)) throw new Error("empty: shape attribute missing");
    return backend.makeOutput(
      shape.filter((d): d is number => typeof d === "number"),
      "float32",
    );
  };
  return [
    [DECODER_BLOCK_KERNEL, block],
    [EMPTY_KERNEL, empty],
  ];
}

/** Whether fusedDecoderBlock can run on the current backend (the fast kernels are installed). */
export function fusedDecoderAvailable(): boolean {
  return tf.getKernel(DECODER_BLOCK_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * One block for x [B·T, C] (T new tokens per row after `cache.length` cached ones) →
 * [B·T, C]; writes this layer's keys and values into the cache. Attention is causal over
 * cache + new tokens; `mask` (additive, broadcastable to [B, H, T, length + T]) can hide
 * more (padding). The caller advances `cache.length` by T after the last layer.
 * Inference only: no gradient. Needs the fast kernels (see fusedDecoderAvailable).
 */
export function fusedDecoderBlock(x: tf.Tensor2D, weights: DecoderBlockWeights, cache: DecodeCache, layer: number, mask?: tf.Tensor, epsilon = 1e-5): tf.Tensor2D {
  const kCache = cache.keys[layer];
  const vCache = cache.values[layer];
  if (!kCache || !vCache) throw new Error(`decode cache has no layer ${layer}`);
  if (!fusedDecoderAvailable()) throw new Error("fusedDecoderBlock needs the fast kernels (installFastKernels on the wasm backend)");
  const w = weights;
  const inputs: tf.NamedTensorMap = {
    x,
    g1: w.norm1.gain,
    b1: w.norm1.bias,
    wq: w.query.weight,
    bq: w.query.bias,
    wk: w.key.weight,
    bk: w.key.bias,
    wv: w.value.weight,
    bv: w.value.bias,
    wo: w.attentionOut.weight,
    bo: w.attentionOut.bias,
    g2: w.norm2.gain,
    b2: w.norm2.bias,
    w1: w.mlpIn.weight,
    bm1: w.mlpIn.bias,
    w2: w.mlpOut.weight,
    bm2: w.mlpOut.bias,
    kCache,
    vCache,
  };
  if (mask) inputs.mask = mask;
  const attrs = { batch: cache.batch, tokens: x.shape[0] / cache.batch, cacheLength: cache.length, epsilon, layer };
  return tf.engine().runKernel(DECODER_BLOCK_KERNEL, inputs, attrs) as tf.Tensor2D;
}
