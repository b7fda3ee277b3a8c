// The GRPO phase: per step, P prompts from the variant's GRPO mix, G sampled completions
// each, rewards from the family's verifier, then μ policy updates on the objective of
// grpo.ts with the frozen pretrained model as the KL reference.
import * as tf from "@tensorflow/tfjs";
import type { GrpoRecipe } from "@transcend/protocol";
import type { ResolvedVariant, Rng } from "@transcend/tasks";
import { grpoAdvantages, grpoLossTensor, zeroStdFraction } from "./grpo";
import { softmaxEntropy, stopGradient, tokenLogprobs } from "./kernels";
import { type Gpt, gptForward } from "./model";
import { optimizerStep } from "./optimizer";
import { createOptimizer, mean, yieldToEventLoop } from "./pretraining";
import { generate } from "./sampling";

export interface GrpoStepReport {
  step: number;
  totalSteps: number;
  meanReward: number;
  /** Share of groups whose G rewards were all equal (no learning signal). */
  zeroStdFraction: number;
  kl: number;
  entropy: number;
  completionLength: number;
  clipFraction: number;
  loss: number;
  gradNorm: number;
  seconds: number;
}

export interface GrpoSummary {
  steps: number;
  /** Mean training reward of the first and last fifth of the steps. */
  initialReward: number;
  finalReward: number;
  history: Omit<GrpoStepReport, "totalSteps" | "seconds">[];
}

export interface GrpoOptions {
  onStep?: (report: GrpoStepReport) => void;
  signal?: AbortSignal;
}

/** Prompt + completion token ids, right-padded into next-token form for log-probabilities. */
interface RolloutBatch {
  completions: number;
  length: number;
  inputs: Int32Array; // [M, T]
  targets: Int32Array; // [M, T]
  completionMask: Float32Array; // [M, T]: 1 where the target is a completion token
}

function rolloutBatch(prompts: number[][], completions: number[][], pad: number): RolloutBatch {
  const m = prompts.length;
  const length = Math.max(1, ...prompts.map((p, i) => p.length + (completions[i]?.length ?? 0) - 1));
  const inputs = new Int32Array(m * length).fill(pad);
  const targets = new Int32Array(m * length).fill(pad);
  const completionMask = new Float32Array(m * length);
  prompts.forEach((prompt, i) => {
    const tokens = [...prompt, ...(completions[i] ?? [])];
    for (let t = 0; t + 1 < tokens.length; t++) {
      inputs[i * length + t] = tokens[t] ?? pad;
      targets[i * length + t] = tokens[t + 1] ?? pad;
      if (t + 1 >= prompt.length) completionMask[i * length + t] = 1;
    }
  });
  return { completions: m, length, inputs, targets, completionMask };
}

/** Per-token log-probabilities [M, T] of the batch's targets, plus the logits they came from. Call inside tf.tidy. */
function sequenceLogprobs(gpt: Gpt, batch: RolloutBatch): { logprobs: tf.Tensor2D; logits: tf.Tensor2D } {
  const { completions: m, length: t } = batch;
  const logits = gptForward(gpt, tf.tensor2d(batch.inputs, [m, t], "int32")).reshape([m * t, gpt.config.vocabSize]) as tf.Tensor2D; // [M*T, V]
  const logprobs = tokenLogprobs(logits, tf.tensor1d(batch.targets, "int32")).reshape([m, t]) as tf.Tensor2D; // [M, T]
  return { logprobs, logits };
}

/** GRPO-trains `policy` in place; `reference` is the frozen pretrained model. */
export async function grpoTrain(
  policy: Gpt,
  reference: Gpt,
  variant: ResolvedVariant,
  recipe: GrpoRecipe,
  rng: Rng,
  options: GrpoOptions = {},
): Promise<GrpoSummary> {
  const promptRng = rng.fork("grpo-prompts");
  const sampleRng = rng.fork("grpo-samples");
  const { tokenizer } = variant;
  const optimizer = createOptimizer(policy);
  const history: GrpoSummary["history"] = [];
  try {
    for (let step = 0; step < recipe.steps; step++) {
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
      const stepStarted = performance.now();

      // Rollouts: the G completions of a prompt are consecutive rows.
      const promptStrings = Array.from({ length: recipe.promptsPerStep }, () => variant.promptTokens(variant.sampleGrpo(promptRng).example));
      const rowPrompts = promptStrings.flatMap((p) => Array.from({ length: recipe.groupSize }, () => p));
      const rowPromptIds = rowPrompts.map((p) => tokenizer.encode(p));
      const completions = await generate(policy, rowPromptIds, {
        maxNewTokens: recipe.maxNewTokens,
        temperature: recipe.temperature,
        greedy: false,
        eos: tokenizer.eos,
        pad: tokenizer.pad,
        rng: sampleRng,
      });
      options.signal?.throwIfAborted();
      const rewards = completions.map((c, i) => variant.verify(rowPrompts[i] ?? [], tokenizer.decode(c)));
      const advantages = grpoAdvantages(rewards, recipe.groupSize, recipe.scaleRewards);
      const batch = rolloutBatch(rowPromptIds, completions, tokenizer.pad);
      const shape: [number, number] = [batch.completions, batch.length];

      // The reference's (and, for μ > 1, the sampling policy's) log-probabilities stay fixed
      // over the inner iterations: computed once, kept until the step ends.
      const refLogprobs = tf.keep(tf.tidy(() => sequenceLogprobs(reference, batch).logprobs));
      const oldLogprobs =
        recipe.innerIterations > 1 ? tf.keep(tf.tidy(() => sequenceLogprobs(policy, batch).logprobs)) : undefined;
      let last = { loss: NaN, gradNorm: NaN, kl: NaN, clipFraction: NaN, entropy: NaN };
      try {
        for (let iteration = 0; iteration < recipe.innerIterations; iteration++) {
          const result = optimizerStep(
            optimizer,
            () => {
              const mask = tf.tensor2d(batch.completionMask, shape);
              const { logprobs, logits } = sequenceLogprobs(policy, batch);
              const out = grpoLossTensor({
                logprobs,
                // μ = 1: the sampling policy is the current one, ρ ≡ 1 but its gradient is not 0.
                oldLogprobs: oldLogprobs ?? stopGradient(logprobs),
                refLogprobs,
                mask,
                advantages: tf.tensor1d(advantages),
                clipEpsilon: recipe.clipEpsilon,
                klBeta: recipe.klBeta,
                aggregation: recipe.lossAggregation,
                maxNewTokens: recipe.maxNewTokens,
              });
              const flatMask = mask.reshape([-1]);
              const entropy = tf.div(tf.sum(tf.mul(softmaxEntropy(logits), flatMask)), tf.maximum(tf.sum(flatMask), 1)) as tf.Scalar;
              return { loss: out.loss, extras: [out.meanKl, out.clipFraction, entropy] };
            },
            { learningRate: recipe.learningRate, weightDecay: recipe.weightDecay, gradClip: recipe.gradClip },
          );
          const [kl = NaN, clipFraction = NaN, entropy = NaN] = result.extras;
          if (!Number.isFinite(result.loss)) throw new Error(`GRPO diverged at step ${step} (loss ${result.loss})`);
          last = { loss: result.loss, gradNorm: result.gradNorm, kl, clipFraction, entropy };
        }
      } finally {
        refLogprobs.dispose();
        oldLogprobs?.dispose();
      }

      const report: GrpoStepReport = {
        step: step + 1,
        totalSteps: recipe.steps,
        meanReward: mean(rewards),
        zeroStdFraction: zeroStdFraction(rewards, recipe.groupSize),
        kl: last.kl,
        entropy: last.entropy,
        completionLength: mean(completions.map((c) => c.length)),
        clipFraction: last.clipFraction,
        loss: last.loss,
        gradNorm: last.gradNorm,
        seconds: (performance.now() - stepStarted) / 1000,
      };
      const { totalSteps: _total, seconds: _seconds, ...record } = report; // history holds only reproducible numbers
      history.push(record);
      options.onStep?.(report);
    }
  } finally {
    optimizer.dispose();
  }
  const fifth = Math.max(1, Math.floor(history.length / 5));
  return {
    steps: recipe.steps,
    initialReward: mean(history.slice(0, fifth).map((h) => h.meanReward)),
    finalReward: mean(history.slice(-fifth).map((h) => h.meanReward)),
    history,
  };
}
