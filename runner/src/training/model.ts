// A decoder-only transformer in the GPT-2 mould: token embedding, positional encoding
// (learned | rope | none), pre-LayerNorm blocks of causal multi-head attention and a GELU
// MLP, final LayerNorm, output layer tied to the token embedding.
// Functional style: weights are plain tf.Variables in a typed record; `gptForward` reads them.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "@transcend/tasks";
import { headDim, MLP_RATIO, type ModelConfig, validateModelConfig } from "./config";
import { attention, embed, gelu, layerNorm, linear, matMulConstant, unembed } from "./kernels";
import { normalArray } from "./seeding";
import { type DecodeCache, fusedDecoderBlock } from "../kernels/index";

export interface LinearWeights {
  weight: tf.Variable<tf.Rank.R2>; // [in, out]: x·W, so the forward matmul needs no transpose
  bias: tf.Variable<tf.Rank.R1>;
}

export interface NormWeights {
  gain: tf.Variable<tf.Rank.R1>;
  bias: tf.Variable<tf.Rank.R1>;
}

export interface BlockWeights {
  norm1: NormWeights;
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  attentionOut: LinearWeights;
  norm2: NormWeights;
  mlpIn: LinearWeights;
  mlpOut: LinearWeights;
}

export interface GptWeights {
  tokenEmbedding: tf.Variable<tf.Rank.R2>; // [V, C], also the output layer
  positionEmbedding?: tf.Variable<tf.Rank.R2>; // [contextLength, C], `learned` only
  blocks: BlockWeights[];
  finalNorm: NormWeights;
}

export interface Gpt {
  readonly config: ModelConfig;
  readonly weights: GptWeights;
}

const INIT_STD = 0.02; // GPT-2's initialisation

/** A freshly initialised model; every number drawn from `rng` (tfjs initialisers ignore seeds). */
export function createGpt(config: ModelConfig, rng: Rng): Gpt {
  validateModelConfig(config);
  const c = config.dModel;
  // Residual projections are scaled down by √(2·layers) so the residual stream's variance
  // does not grow with depth (GPT-2).
  const residualStd = INIT_STD / Math.sqrt(2 * config.layers);
  const matrix = (rows: number, cols: number, std: number) =>
    variableFrom(normalArray(rng, rows * cols, std), [rows, cols]) as tf.Variable<tf.Rank.R2>;
  const vector = (n: number, fill: number) => variableFrom(new Float32Array(n).fill(fill), [n]) as tf.Variable<tf.Rank.R1>;
  const linearWeights = (rows: number, cols: number, std: number): LinearWeights => ({
    weight: matrix(rows, cols, std),
    bias: vector(cols, 0),
  });
  const norm = (): NormWeights => ({ gain: vector(c, 1), bias: vector(c, 0) });
  const weights: GptWeights = {
    tokenEmbedding: matrix(config.vocabSize, c, INIT_STD),
    positionEmbedding: config.positionalEncoding === "learned" ? matrix(config.contextLength, c, INIT_STD) : undefined,
    blocks: Array.from({ length: config.layers }, () => ({
      norm1: norm(),
      query: linearWeights(c, c, INIT_STD),
      key: linearWeights(c, c, INIT_STD),
      value: linearWeights(c, c, INIT_STD),
      attentionOut: linearWeights(c, c, residualStd),
      norm2: norm(),
      mlpIn: linearWeights(c, MLP_RATIO * c, INIT_STD),
      mlpOut: linearWeights(MLP_RATIO * c, c, residualStd),
    })),
    finalNorm: norm(),
  };
  return { config, weights };
}

function variableFrom(values: Float32Array, shape: number[], trainable = true): tf.Variable {
  const initial = tf.tensor(values, shape, "float32");
  const variable = tf.variable(initial, trainable);
  initial.dispose();
  return variable;
}

/**
 * Every weight with its checkpoint name, in a fixed order (optimizer state and checkpoints
 * follow it). Names follow nanoGPT's where it has one.
 */
export function namedWeights(gpt: Gpt): Array<[string, tf.Variable]> {
  const { weights } = gpt;
  const out: Array<[string, tf.Variable]> = [["wte.weight", weights.tokenEmbedding]];
  if (weights.positionEmbedding) out.push(["wpe.weight", weights.positionEmbedding]);
  const addLinear = (name: string, l: LinearWeights) => out.push([`${name}.weight`, l.weight], [`${name}.bias`, l.bias]);
  const addNorm = (name: string, n: NormWeights) => out.push([`${name}.weight`, n.gain], [`${name}.bias`, n.bias]);
  weights.blocks.forEach((block, i) => {
    addNorm(`h.${i}.ln_1`, block.norm1);
    addLinear(`h.${i}.attn.query`, block.query);
    addLinear(`h.${i}.attn.key`, block.key);
    addLinear(`h.${i}.attn.value`, block.value);
    addLinear(`h.${i}.attn.c_proj`, block.attentionOut);
    addNorm(`h.${i}.ln_2`, block.norm2);
    addLinear(`h.${i}.mlp.c_fc`, block.mlpIn);
    addLinear(`h.${i}.mlp.c_proj`, block.mlpOut);
  });
  addNorm("ln_f", weights.finalNorm);
  return out;
}

export function weightVariables(gpt: Gpt): tf.Variable[] {
  return namedWeights(gpt).map(([, v]) => v);
}

/** A model with the same config and values given by name (a checkpoint, or another model). */
export function gptFromValues(config: ModelConfig, values: Map<string, Float32Array>, trainable = true): Gpt {
  const skeleton = createGpt(config, zeroRng);
  assignWeights(skeleton, values);
  if (!trainable) for (const variable of weightVariables(skeleton)) variable.trainable = false;
  return skeleton;
}

/** Overwrites every weight of `gpt` with the values of the same name (copied into the backend). */
export function assignWeights(gpt: Gpt, values: Map<string, Float32Array>): void {
  for (const [name, variable] of namedWeights(gpt)) {
    const data = values.get(name);
    if (!data) throw new Error(`checkpoint is missing weight ${name}`);
    if (data.length !== variable.size) throw new Error(`weight ${name}: expected ${variable.size} numbers, got ${data.length}`);
    const tensor = tf.tensor(data, variable.shape, "float32");
    variable.assign(tensor);
    tensor.dispose();
  }
}

/** A frozen copy (the GRPO reference model). */
export function cloneGpt(gpt: Gpt, trainable = false): Gpt {
  return gptFromValues(gpt.config, readWeights(gpt), trainable);
}

export function readWeights(gpt: Gpt): Map<string, Float32Array> {
  return new Map(namedWeights(gpt).map(([name, v]) => [name, v.dataSync() as Float32Array]));
}

export function disposeGpt(gpt: Gpt): void {
  for (const variable of weightVariables(gpt)) variable.dispose();
}

// Initialising a skeleton that is about to be overwritten needs no randomness.
const zeroRng: Rng = {
  next: () => 0.5,
  int: (lo) => lo,
  pick: <T>(items: readonly T[]): T => {
    const first = items[0];
    if (first === undefined) throw new Error("pick from an empty list");
    return first;
  },
  shuffle: <T>(items: T[]): T[] => items,
  fork: () => zeroRng,
  uint32: () => 0,
};

// ---------------------------------------------------------------------------------------
// Key/value cache for sampling: each layer's keys and values of the tokens seen so far.

export class KvCache {
  readonly keys: (tf.Tensor4D | undefined)[];
  readonly values: (tf.Tensor4D | undefined)[];
  /** Tokens already in the cache (the same for every row of the batch). */
  length = 0;

  constructor(layers: number) {
    this.keys = new Array<tf.Tensor4D | undefined>(layers).fill(undefined);
    this.values = new Array<tf.Tensor4D | undefined>(layers).fill(undefined);
  }

  /** Appends this step's keys and values [B, H, T, D] for a layer; returns all of them. */
  extend(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const previousK = this.keys[layer];
    const previousV = this.values[layer];
    // Kept outside any tidy: the cache lives across decoding steps, and is disposed by us.
    const allK = tf.keep(previousK ? tf.concat([previousK, k], 2) : k.clone());
    const allV = tf.keep(previousV ? tf.concat([previousV, v], 2) : v.clone());
    previousK?.dispose();
    previousV?.dispose();
    this.keys[layer] = allK;
    this.values[layer] = allV;
    return { k: allK, v: allV };
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.length = 0;
  }
}

// ---------------------------------------------------------------------------------------
// Constants shared across steps (masks, rotary tables); created once, never disposed.

const constants = new Map<string, tf.Tensor>();
function constant<T extends tf.Tensor>(key: string, make: () => T): T {
  const existing = constants.get(key);
  if (existing && !existing.isDisposed) return existing as T;
  const made = tf.keep(tf.tidy(make));
  constants.set(key, made);
  return made;
}

export const MASKED = -1e9; // additive mask value: exp underflows to 0 without producing NaN

/** Additive causal mask [T, Tk] for T new tokens after Tk − T cached ones. */
function causalMask(t: number, tk: number): tf.Tensor2D {
  return constant(`causal:${t}:${tk}`, () => {
    const values = new Float32Array(t * tk);
    const offset = tk - t;
    for (let i = 0; i < t; i++) for (let j = i + offset + 1; j < tk; j++) values[i * tk + j] = MASKED;
    return tf.tensor2d(values, [t, tk]);
  });
}

/** cos and sin of the rotary angles [contextLength, D] (GPT-NeoX's rotate-half layout). */
function rotaryTables(config: ModelConfig): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const d = headDim(config);
  const half = d / 2;
  const make = (f: (angle: number) => number) => () => {
    const values = new Float32Array(config.contextLength * d);
    for (let p = 0; p < config.contextLength; p++)
      for (let j = 0; j < d; j++) values[p * d + j] = f(p * Math.pow(10_000, -(j % half) / half));
    return tf.tensor2d(values, [config.contextLength, d]);
  };
  return {
    cos: constant(`rope-cos:${config.contextLength}:${d}`, make(Math.cos)),
    sin: constant(`rope-sin:${config.contextLength}:${d}`, make(Math.sin)),
  };
}

/** R with x·R = rotate_half(x) = [−x₂, x₁], and its transpose for the gradient. */
function rotateHalfMatrices(d: number): { r: tf.Tensor2D; rT: tf.Tensor2D } {
  const make = (transposed: boolean) => () => {
    const half = d / 2;
    const values = new Float32Array(d * d);
    for (let j = 0; j < half; j++) {
      const [row1, col1] = transposed ? [j, j + half] : [j + half, j];
      const [row2, col2] = transposed ? [j + half, j] : [j, j + half];
      values[row1 * d + col1] = -1;
      values[row2 * d + col2] = 1;
    }
    return tf.tensor2d(values, [d, d]);
  };
  return { r: constant(`rope-r:${d}`, make(false)), rT: constant(`rope-rT:${d}`, make(true)) };
}

// ---------------------------------------------------------------------------------------
// Forward pass: small named blocks, nanoGPT style.

export interface ForwardOptions {
  /** Position of each token [B, T] (int32), for left-padded batches; default: cache length + 0…T−1. */
  positions?: tf.Tensor2D;
  /** Additive attention mask broadcastable to [B, H, T, Tk]; default: causal. */
  mask?: tf.Tensor;
  /** When given, this step's keys and values are appended to it and attention reads all of it. */
  cache?: KvCache;
  /** Inference with the fused decoder block (kernels installed, no RoPE): keys and values go here. */
  decodeCache?: DecodeCache;
  /** Seed of this step's dropout masks; dropout runs only when given (training). */
  dropoutSeed?: number;
}

interface Rotary {
  cos: tf.Tensor; // broadcastable to [B, H, T, D]
  sin: tf.Tensor;
}

function dropout(x: tf.Tensor2D, rate: number, seed: number | undefined): tf.Tensor2D {
  if (seed === undefined || rate === 0) return x;
  return tf.dropout(x, rate, undefined, seed) as tf.Tensor2D;
}

function applyRotary(x: tf.Tensor4D, rotary: Rotary, d: number): tf.Tensor4D {
  const [b, h, t] = x.shape;
  const { r, rT } = rotateHalfMatrices(d);
  const rotated = matMulConstant(x.reshape([b * h * t, d]), r, rT).reshape([b, h, t, d]); // [B*H*T, D] → [B, H, T, D]
  return tf.add(tf.mul(x, rotary.cos), tf.mul(rotated, rotary.sin));
}

/** [B*T, C] → [B, H, T, D] */
function splitHeads(x: tf.Tensor2D, b: number, t: number, heads: number): tf.Tensor4D {
  const d = x.shape[1] / heads;
  return x.reshape([b, t, heads, d]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, D] → [B*T, C] */
function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, t, d] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([b * t, h * d]);
}

function causalSelfAttention(
  x: tf.Tensor2D, // [B*T, C]
  block: BlockWeights,
  layer: number,
  shape: { b: number; t: number },
  config: ModelConfig,
  mask: tf.Tensor,
  rotary: Rotary | undefined,
  cache: KvCache | undefined,
): tf.Tensor2D {
  const { b, t } = shape;
  let q = splitHeads(linear(x, block.query.weight, block.query.bias), b, t, config.heads);
  let k = splitHeads(linear(x, block.key.weight, block.key.bias), b, t, config.heads);
  let v = splitHeads(linear(x, block.value.weight, block.value.bias), b, t, config.heads);
  if (rotary) {
    q = applyRotary(q, rotary, headDim(config));
    k = applyRotary(k, rotary, headDim(config));
  }
  if (cache) ({ k, v } = cache.extend(layer, k, v));
  const y = attention(q, k, v, mask); // [B, H, T, D]
  return linear(mergeHeads(y), block.attentionOut.weight, block.attentionOut.bias);
}

function mlp(x: tf.Tensor2D, block: BlockWeights): tf.Tensor2D {
  return linear(gelu(linear(x, block.mlpIn.weight, block.mlpIn.bias)), block.mlpOut.weight, block.mlpOut.bias);
}

function block(
  x: tf.Tensor2D,
  weights: BlockWeights,
  layer: number,
  shape: { b: number; t: number },
  config: ModelConfig,
  mask: tf.Tensor,
  rotary: Rotary | undefined,
  options: ForwardOptions,
): tf.Tensor2D {
  const seed = options.dropoutSeed === undefined ? undefined : options.dropoutSeed + 2 * layer + 1;
  const attended = causalSelfAttention(
    layerNorm(x, weights.norm1.gain, weights.norm1.bias),
    weights,
    layer,
    shape,
    config,
    mask,
    rotary,
    options.cache,
  );
  const h = tf.add(x, dropout(attended, config.dropout, seed)) as tf.Tensor2D;
  const mlpSeed = seed === undefined ? undefined : seed + 1;
  return tf.add(h, dropout(mlp(layerNorm(h, weights.norm2.gain, weights.norm2.bias), weights), config.dropout, mlpSeed));
}

/** Logits [B, T, V] for token ids [B, T] (int32). Call inside tf.tidy. */
export function gptForward(gpt: Gpt, ids: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  const { config, weights } = gpt;
  const [b, t] = ids.shape;
  const offset = options.cache?.length ?? options.decodeCache?.length ?? 0;
  if (!options.positions && offset + t > config.contextLength)
    throw new Error(`sequence of ${offset + t} tokens exceeds the model's context of ${config.contextLength}`);
  const c = config.dModel;

  let x = embed(ids.reshape([b * t]), weights.tokenEmbedding); // [B*T, C]
  let rotary: Rotary | undefined;
  if (config.positionalEncoding === "learned" && weights.positionEmbedding) {
    if (options.positions) {
      x = tf.add(x, tf.gather(weights.positionEmbedding, options.positions.reshape([b * t]))); // [B*T, C]
    } else {
      const rows = tf.slice(weights.positionEmbedding, [offset, 0], [t, c]); // [T, C]
      x = tf.add(x.reshape([b, t, c]), rows).reshape([b * t, c]); // broadcast over B, back to [B*T, C]
    }
  } else if (config.positionalEncoding === "rope") {
    const tables = rotaryTables(config);
    const d = headDim(config);
    if (options.positions) {
      const flat = options.positions.reshape([b * t]);
      rotary = {
        cos: tf.gather(tables.cos, flat).reshape([b, 1, t, d]), // [B, 1, T, D] broadcasts over heads
        sin: tf.gather(tables.sin, flat).reshape([b, 1, t, d]),
      };
    } else {
      rotary = { cos: tf.slice(tables.cos, [offset, 0], [t, d]), sin: tf.slice(tables.sin, [offset, 0], [t, d]) };
    }
  }
  x = dropout(x, config.dropout, options.dropoutSeed);

  const mask = options.mask ?? causalMask(t, offset + t);
  const decodeCache = options.decodeCache;
  if (decodeCache) {
    weights.blocks.forEach((blockWeights, layer) => {
      x = fusedDecoderBlock(x, blockWeights, decodeCache, layer, mask);
    });
    decodeCache.length += t;
  } else {
    weights.blocks.forEach((blockWeights, layer) => {
      x = block(x, blockWeights, layer, { b, t }, config, mask, rotary, options);
    });
  }
  if (options.cache) options.cache.length += t;

  const logits = unembed(layerNorm(x, weights.finalNorm.gain, weights.finalNorm.bias), weights.tokenEmbedding);
  return logits.reshape([b, t, config.vocabSize]); // [B*T, V] → [B, T, V]
}
