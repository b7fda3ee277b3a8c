// Pretraining from scratch: next-token cross-entropy on sequences drawn from the task
// variant's pretraining mix, AdamW with warmup and cosine decay, gradient clipping.
import * as tf from "@tensorflow/tfjs";
import type { PretrainingRecipe } from "@transcend/protocol";
import type { ResolvedVariant, Rng } from "@transcend/tasks";
import { tokenLogprobs } from "./kernels";
import { type Gpt, gptForward, namedWeights } from "./model";
import { AdamW, optimizerStep } from "./optimizer";
import { tfSeed } from "./seeding";

export interface ScheduleSettings {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  cosineDecay: boolean;
  /** Floor of the cosine decay, as a fraction of the peak. */
  minRatio: number;
}

/** Learning rate at optimizer step `step` (0-based): linear warmup, then cosine decay. */
export function learningRateAt(step: number, s: ScheduleSettings): number {
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
  if (!s.cosineDecay) return s.peak;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  const floor = s.peak * s.minRatio;
  return floor + 0.5 * (1 + Math.cos(Math.PI * progress)) * (s.peak - floor);
}

export function scheduleOf(recipe: PretrainingRecipe): ScheduleSettings {
  return {
    peak: recipe.learningRate,
    warmupSteps: recipe.warmupSteps,
    totalSteps: recipe.steps,
    cosineDecay: recipe.cosineDecay,
    minRatio: recipe.minLearningRateRatio,
  };
}

/** A token sequence and where its completion starts (the index of its first completion token). */
export interface Sequence {
  tokens: number[];
  completionStart: number;
}

/** Next-token training batch, right-padded: position t of row b predicts targets[b][t]. */
export interface TokenBatch {
  batch: number;
  length: number;
  inputs: Int32Array; // [B, T]
  targets: Int32Array; // [B, T]
  /** 1 where the target is supervised, 0 for padding (and prompt tokens under `completion`). */
  weights: Float32Array; // [B, T]
}

export function makeTokenBatch(sequences: Sequence[], lossOn: "all" | "completion", pad: number): TokenBatch {
  const batch = sequences.length;
  const length = Math.max(1, ...sequences.map((s) => s.tokens.length - 1));
  const inputs = new Int32Array(batch * length).fill(pad);
  const targets = new Int32Array(batch * length).fill(pad);
  const weights = new Float32Array(batch * length);
  sequences.forEach((sequence, b) => {
    for (let t = 0; t + 1 < sequence.tokens.length; t++) {
      inputs[b * length + t] = sequence.tokens[t] ?? pad;
      targets[b * length + t] = sequence.tokens[t + 1] ?? pad;
      const supervised = lossOn === "all" || t + 1 >= sequence.completionStart;
      weights[b * length + t] = supervised ? 1 : 0;
    }
  });
  return { batch, length, inputs, targets, weights };
}

/** Mean cross-entropy over the supervised targets of a batch. Call inside tf.tidy. */
export function sequenceLoss(gpt: Gpt, batch: TokenBatch, dropoutSeed?: number): tf.Scalar {
  const ids = tf.tensor2d(batch.inputs, [batch.batch, batch.length], "int32");
  const logits = gptForward(gpt, ids, { dropoutSeed }); // [B, T, V]
  const flat = logits.reshape([batch.batch * batch.length, gpt.config.vocabSize]) as tf.Tensor2D; // [B*T, V]
  const logprobs = tokenLogprobs(flat, tf.tensor1d(batch.targets, "int32"));
  const weights = tf.tensor1d(batch.weights);
  return tf.div(tf.neg(tf.sum(tf.mul(logprobs, weights))), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
}

/** Weight decay applies to matrices only (embeddings included), as nanoGPT. */
export function createOptimizer(gpt: Gpt): AdamW {
  const named = namedWeights(gpt);
  return new AdamW(
    named.map(([, v]) => v),
    named.map(([, v]) => v.rank >= 2),
  );
}

/** The variant's pretraining example as one token sequence. */
export function pretrainingSequence(variant: ResolvedVariant, rng: Rng): Sequence {
  const { example } = variant.samplePretraining(rng);
  const prompt = variant.promptTokens(example);
  const tokens = variant.tokenizer.encode([...prompt, ...variant.completionTokens(example)]);
  return { tokens, completionStart: prompt.length };
}

export interface PretrainingStepReport {
  step: number;
  totalSteps: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
  tokens: number;
}

export interface PretrainingSummary {
  steps: number;
  /** Mean loss of the first and last tenth of the steps (single steps are noisy). */
  initialLoss: number;
  finalLoss: number;
  /** Loss of every step, for the run page's curve. */
  losses: number[];
  tokens: number;
}

export interface PretrainOptions {
  onStep?: (report: PretrainingStepReport) => void;
  signal?: AbortSignal;
}

/** Pretrains `gpt` in place on the variant's pretraining mix. */
export async function pretrain(
  gpt: Gpt,
  variant: ResolvedVariant,
  recipe: PretrainingRecipe,
  rng: Rng,
  options: PretrainOptions = {},
): Promise<PretrainingSummary> {
  const dataRng = rng.fork("pretraining-data");
  const dropoutRng = rng.fork("pretraining-dropout");
  const optimizer = createOptimizer(gpt);
  const schedule = scheduleOf(recipe);
  const losses: number[] = [];
  let tokens = 0;
  try {
    for (let step = 0; step < recipe.steps; step++) {
      await yieldToEventLoop(); // lets an abort, a heartbeat or a progress redraw through
      options.signal?.throwIfAborted();
      const sequences = Array.from({ length: recipe.batchSize }, () => pretrainingSequence(variant, dataRng));
      const longest = Math.max(...sequences.map((s) => s.tokens.length));
      if (longest > gpt.config.contextLength)
        throw new Error(
          `a pretraining sequence has ${longest} tokens but model.contextLength is ${gpt.config.contextLength}: raise it in the recipe`,
        );
      const batch = makeTokenBatch(sequences, recipe.lossOn, variant.tokenizer.pad);
      const learningRate = learningRateAt(step, schedule);
      const dropoutSeed = gpt.config.dropout > 0 ? tfSeed(dropoutRng) : undefined;
      const result = optimizerStep(optimizer, () => ({ loss: sequenceLoss(gpt, batch, dropoutSeed) }), {
        learningRate,
        weightDecay: recipe.weightDecay,
        gradClip: recipe.gradClip,
      });
      if (!Number.isFinite(result.loss)) throw new Error(`pretraining diverged at step ${step} (loss ${result.loss})`);
      losses.push(result.loss);
      tokens += sequences.reduce((n, s) => n + s.tokens.length, 0);
      options.onStep?.({ step: step + 1, totalSteps: recipe.steps, loss: result.loss, gradNorm: result.gradNorm, learningRate, tokens });
    }
  } finally {
    optimizer.dispose();
  }
  const tenth = Math.max(1, Math.floor(losses.length / 10));
  return {
    steps: recipe.steps,
    initialLoss: mean(losses.slice(0, tenth)),
    finalLoss: mean(losses.slice(-tenth)),
    losses,
    tokens,
  };
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
