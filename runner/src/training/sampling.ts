// Autoregressive sampling with a key/value cache: the prompts run through the model once,
// then each new token costs one single-position forward pass that attends to the cache.
// Prompts of different lengths are left-padded; each row carries its own positions and
// its padding is masked out of attention, so a whole GRPO batch decodes together.
// Every row draws its tokens from its own stream, seeded from the caller's Rng in row order:
// a completion depends on the seed and its row, not on which rows decode beside it, so the
// batch can be chunked or split across threads (rollout-pool.ts) without changing a token.
import * as tf from "@tensorflow/tfjs";
import { createRng, type Rng } from "@transcend/tasks";
import { type Gpt, gptForward, KvCache, MASKED } from "./model";
import { copyTensorValues, DecodeCache, fusedDecoderAvailable } from "../kernels/index";
import { generateSplit, MIN_ROWS_TO_SPLIT, rolloutThreads } from "./rollout-pool";
import { sampleCategorical } from "./seeding";

export interface GenerateOptions {
  maxNewTokens: number;
  /** Softmax temperature; ignored when `greedy`. */
  temperature: number;
  greedy: boolean;
  /** Generation of a row stops after this token (it is kept in the completion). */
  eos: number;
  pad: number;
  /** Seeds the rows' sampling streams; required unless greedy. */
  rng?: Rng;
  /** Rows decoded together; bounds memory of the cache. */
  maxBatch?: number;
}

export type DecodeOptions = Pick<GenerateOptions, "maxNewTokens" | "temperature" | "greedy" | "eos" | "pad">;

const DEFAULT_MAX_BATCH = 256;

/** Completions (token ids, eos included when produced) for each prompt, in order. */
export async function generate(gpt: Gpt, prompts: readonly (readonly number[])[], options: GenerateOptions): Promise<number[][]> {
  if (!options.greedy && !options.rng) throw new Error("sampling needs an rng (or greedy: true)");
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const { maxNewTokens, temperature, greedy, eos, pad } = options;
  const decodeOptions: DecodeOptions = { maxNewTokens, temperature, greedy, eos, pad };
  // Two draws per row from the caller's stream, whatever the completions turn out to be.
  const rowSeeds = options.rng ? prompts.map(() => rowSeed(options.rng as Rng)) : undefined;
  const decode = (rows: number[][], seeds: string[] | undefined) => decodeRows(gpt, rows, seeds?.map((seed) => createRng(seed)), decodeOptions);
  const completions: number[][] = [];
  for (let start = 0; start < prompts.length; start += maxBatch) {
    const rows = prompts.slice(start, start + maxBatch).map((p) => [...p]);
    const seeds = rowSeeds?.slice(start, start + maxBatch);
    const split = rows.length >= MIN_ROWS_TO_SPLIT && rolloutThreads() > 1;
    completions.push(...(split ? await generateSplit(gpt, rows, seeds, decodeOptions, decode) : decode(rows, seeds)));
    await new Promise((resolve) => setImmediate(resolve)); // lets an abort or heartbeat through
  }
  return completions;
}

function rowSeed(rng: Rng): string {
  return `rollout-row:${rng.uint32()}:${rng.uint32()}`;
}

/**
 * Decodes one batch on this thread: row i samples from rowRngs[i] (greedy rows need none).
 * Synchronous; the rollout worker calls it too.
 */
export function decodeRows(gpt: Gpt, prompts: readonly (readonly number[])[], rowRngs: readonly Rng[] | undefined, options: DecodeOptions): number[][] {
  if (!options.greedy && rowRngs?.length !== prompts.length) throw new Error("sampling needs one rng per row (or greedy: true)");
  const b = prompts.length;
  const context = gpt.config.contextLength;
  const vocab = gpt.config.vocabSize;
  const promptLength = prompts.map((p) => p.length);
  const padded = Math.max(...promptLength);
  const padCount = promptLength.map((n) => padded - n);
  // A row may only write while its positions stay inside the model's context.
  const budget = promptLength.map((n) => Math.max(0, Math.min(options.maxNewTokens, context - n)));
  const completions: number[][] = prompts.map(() => []);
  const finished = budget.map((n) => n === 0);
  if (finished.every(Boolean)) return completions;

  // Prefill: ids and positions [B, Tp]; mask [B, 1, Tp, Tp] is causal and hides padding keys.
  const ids = hostInts("ids", b * padded).fill(options.pad);
  const positions = hostInts("positions", b * padded);
  const prefillMask = hostFloats("mask", b * padded * padded);
  for (let row = 0; row < b; row++) {
    const prompt = prompts[row] ?? [];
    const pads = padCount[row] ?? 0;
    for (let t = 0; t < prompt.length; t++) ids[row * padded + pads + t] = prompt[t] ?? options.pad;
    for (let t = 0; t < padded; t++) {
      positions[row * padded + t] = Math.max(0, t - pads);
      for (let j = 0; j < padded; j++)
        if (j > t || j < pads) prefillMask[(row * padded + t) * padded + j] = MASKED;
    }
  }

  const fused = fusedDecoderAvailable() && gpt.config.positionalEncoding !== "rope";
  const cache = fused
    ? new DecodeCache(gpt.config.layers, b, gpt.config.heads, padded + Math.max(...budget), gpt.config.dModel / gpt.config.heads)
    : new KvCache(gpt.config.layers);
  try {
    let logits = forwardLast(gpt, cache, {
      ids: tf.tensor2d(ids, [b, padded], "int32"),
      positions: tf.tensor2d(positions, [b, padded], "int32"),
      mask: tf.tensor4d(prefillMask, [b, 1, padded, padded]),
    });
    const longestBudget = Math.max(...budget);
    for (let step = 0; step < longestBudget; step++) {
      const next = hostInts("next", b).fill(options.pad);
      for (let row = 0; row < b; row++) {
        if (finished[row]) continue;
        const token = options.greedy
          ? argmax(logits, row * vocab, vocab)
          : sampleWithTemperature(logits, row * vocab, vocab, options.temperature, rowRngs?.[row]);
        next[row] = token;
        const completion = completions[row] ?? [];
        completion.push(token);
        if (token === options.eos || completion.length >= (budget[row] ?? 0)) finished[row] = true;
      }
      if (finished.every(Boolean) || step + 1 === longestBudget) break;

      // One new token per row at position promptLength + step; padding keys stay masked.
      const keys = padded + step + 1;
      const stepPositions = hostInts("step-positions", b);
      const stepMask = hostFloats("step-mask", b * keys);
      for (let row = 0; row < b; row++) {
        stepPositions[row] = Math.min(context - 1, (promptLength[row] ?? 0) + step);
        for (let j = 0; j < (padCount[row] ?? 0); j++) stepMask[row * keys + j] = MASKED;
      }
      logits = forwardLast(gpt, cache, {
        ids: tf.tensor2d(next, [b, 1], "int32"),
        positions: tf.tensor2d(stepPositions, [b, 1], "int32"),
        mask: tf.tensor4d(stepMask, [b, 1, 1, keys]),
      });
    }
  } finally {
    cache.dispose();
  }
  return completions;
}

// Host-side arrays reused from one decode step (and rollout) to the next, zeroed on reuse.
// A rollout otherwise leaves ~0.5 MB of dead typed arrays per GRPO step, which the collector
// lets pile up (RSS swung by ~100 MiB between collections in a 1,000-step run). Safe on wasm
// only: its tf.tensor copies the values into wasm memory at once, while the cpu backend keeps
// a reference to the array, so other backends get fresh arrays.
const hostArrays = new Map<string, Float32Array | Int32Array>();

function hostArray<T extends Float32Array | Int32Array>(name: string, length: number, make: new (length: number) => T): T {
  const onWasm = tf.getBackend() === "wasm";
  const reused = onWasm ? hostArrays.get(name) : undefined;
  if (reused instanceof make && reused.length >= length) return reused.subarray(0, length).fill(0) as T;
  const fresh = new make(length);
  if (onWasm) hostArrays.set(name, fresh);
  return fresh;
}
const hostFloats = (name: string, length: number) => hostArray(name, length, Float32Array);
const hostInts = (name: string, length: number) => hostArray(name, length, Int32Array);

/** Runs the new tokens through the model (extending the cache) and reads the last position's logits [B·V]. */
function forwardLast(
  gpt: Gpt,
  cache: KvCache | DecodeCache,
  inputs: { ids: tf.Tensor2D; positions: tf.Tensor2D; mask: tf.Tensor4D },
): Float32Array {
  const last = tf.tidy(() => {
    const logits = gptForward(gpt, inputs.ids, cache instanceof DecodeCache ? { positions: inputs.positions, mask: inputs.mask, decodeCache: cache } : { positions: inputs.positions, mask: inputs.mask, cache }); // [B, T, V]
    const [b, t, v] = logits.shape;
    return logits.slice([0, t - 1, 0], [b, 1, v]).reshape([b, v]); // [B, 1, V] → [B, V]
  });
  tf.dispose([inputs.ids, inputs.positions, inputs.mask]);
  const values = hostFloats("logits", last.size);
  copyTensorValues(last, values);
  last.dispose();
  return values;
}

function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const value = values[offset + i] ?? -Infinity;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/** Draws from softmax(logits / temperature) on the host with the run's seeded Rng. */
function sampleWithTemperature(values: Float32Array, offset: number, length: number, temperature: number, rng: Rng | undefined): number {
  if (!rng) throw new Error("sampling needs an rng");
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, values[offset + i] ?? -Infinity);
  const weights = new Float64Array(length);
  for (let i = 0; i < length; i++) weights[i] = Math.exp(((values[offset + i] ?? -Infinity) - max) / temperature);
  return sampleCategorical(rng, weights);
}
