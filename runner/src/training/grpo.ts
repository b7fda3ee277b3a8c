// GRPO as in DeepSeekMath and TRL's GRPOTrainer (DESIGN.md §1.3). `grpoLoss` is the
// objective on plain arrays — the definition a reader checks by hand; `grpoLossTensor`
// is its twin on tensors, used in the training step and tested equal to it.
import * as tf from "@tensorflow/tfjs";

export type LossAggregation = "grpo" | "dapo" | "dr_grpo";
export type RewardScaling = "group" | "batch" | "none";

export interface GrpoLossInput {
  logprobs: number[][]; // [completion][token] under the current policy
  oldLogprobs: number[][]; // under the policy that sampled (equal to logprobs when μ = 1)
  refLogprobs: number[][]; // under the frozen reference model
  mask: number[][]; // 1 for completion tokens, 0 for padding
  rewards: number[]; // one per completion; the G completions of a prompt are consecutive
  groupSize: number;
  clipEpsilon: number;
  klBeta: number;
  aggregation: LossAggregation;
  scaleRewards: RewardScaling;
  maxNewTokens: number; // the dr_grpo denominator
}

export interface GrpoLossOutput {
  loss: number;
  meanReward: number;
  zeroStdFraction: number;
  meanKl: number;
  clipFraction: number;
}

const STD_EPSILON = 1e-4; // as TRL: keeps advantages finite when a group's rewards barely differ

function meanOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Unbiased (n − 1) standard deviation, as torch.std. */
function unbiasedStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = meanOf(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) * (v - m), 0) / (values.length - 1));
}

function groupsOf(rewards: readonly number[], groupSize: number): number[][] {
  if (groupSize < 1 || rewards.length % groupSize !== 0)
    throw new Error(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  const groups: number[][] = [];
  for (let i = 0; i < rewards.length; i += groupSize) groups.push(rewards.slice(i, i + groupSize));
  return groups;
}

/**
 * Advantage of each completion: reward minus its group's mean, divided by (std + 1e-4) where
 * std is the group's (`group`) or the whole batch's (`batch`), or not divided (`none`).
 */
export function grpoAdvantages(rewards: readonly number[], groupSize: number, scaleRewards: RewardScaling): number[] {
  const groups = groupsOf(rewards, groupSize);
  const batchStd = unbiasedStd(rewards);
  return groups.flatMap((group) => {
    const groupMean = meanOf(group);
    const scale = scaleRewards === "group" ? unbiasedStd(group) + STD_EPSILON : scaleRewards === "batch" ? batchStd + STD_EPSILON : 1;
    return group.map((r) => (r - groupMean) / scale);
  });
}

/** Share of groups whose rewards are all equal (they carry no learning signal). */
export function zeroStdFraction(rewards: readonly number[], groupSize: number): number {
  const groups = groupsOf(rewards, groupSize);
  return groups.filter((g) => g.every((r) => r === g[0])).length / groups.length;
}

/** k3 estimator of KL(π_θ ‖ π_ref) per token: exp(ref − logp) − (ref − logp) − 1 (≥ 0). */
function klTerm(logp: number, ref: number): number {
  return Math.exp(ref - logp) - (ref - logp) - 1;
}

export function grpoLoss(input: GrpoLossInput): GrpoLossOutput {
  const { logprobs, oldLogprobs, refLogprobs, mask, rewards, clipEpsilon, klBeta } = input;
  const advantages = grpoAdvantages(rewards, input.groupSize, input.scaleRewards);
  let total = 0; // Σ over unmasked tokens of the per-token loss
  let tokens = 0;
  let perCompletionMeans = 0; // Σ over completions of their mean per-token loss (`grpo`)
  let klSum = 0;
  let clipped = 0;
  logprobs.forEach((row, i) => {
    const advantage = advantages[i] ?? 0;
    let rowTotal = 0;
    let rowTokens = 0;
    row.forEach((logp, t) => {
      if ((mask[i]?.[t] ?? 0) === 0) return;
      const old = oldLogprobs[i]?.[t] ?? logp;
      const ref = refLogprobs[i]?.[t] ?? logp;
      const ratio = Math.exp(logp - old);
      const clippedRatio = Math.min(Math.max(ratio, 1 - clipEpsilon), 1 + clipEpsilon);
      const kl = klTerm(logp, ref);
      const tokenLoss = -Math.min(ratio * advantage, clippedRatio * advantage) + klBeta * kl;
      rowTotal += tokenLoss;
      rowTokens += 1;
      klSum += kl;
      if ((ratio < 1 - clipEpsilon && advantage < 0) || (ratio > 1 + clipEpsilon && advantage > 0)) clipped += 1;
    });
    total += rowTotal;
    tokens += rowTokens;
    perCompletionMeans += rowTokens > 0 ? rowTotal / rowTokens : 0;
  });
  const completions = logprobs.length;
  const loss =
    input.aggregation === "grpo"
      ? perCompletionMeans / completions
      : input.aggregation === "dapo"
        ? total / Math.max(tokens, 1)
        : total / (completions * input.maxNewTokens);
  return {
    loss,
    meanReward: meanOf(rewards),
    zeroStdFraction: zeroStdFraction(rewards, input.groupSize),
    meanKl: tokens > 0 ? klSum / tokens : 0,
    clipFraction: tokens > 0 ? clipped / tokens : 0,
  };
}

export interface GrpoLossTensorInput {
  logprobs: tf.Tensor2D; // [M, T] current policy (differentiated)
  oldLogprobs: tf.Tensor2D; // [M, T]
  refLogprobs: tf.Tensor2D; // [M, T]
  mask: tf.Tensor2D; // [M, T]
  /** Per-completion advantages [M], from `grpoAdvantages` (rewards are host numbers anyway). */
  advantages: tf.Tensor1D;
  clipEpsilon: number;
  klBeta: number;
  aggregation: LossAggregation;
  maxNewTokens: number;
}

/** The tensor twin of `grpoLoss`: same loss, differentiable in `logprobs`; also KL and clip statistics. Call inside tf.tidy. */
export function grpoLossTensor(input: GrpoLossTensorInput): { loss: tf.Scalar; meanKl: tf.Scalar; clipFraction: tf.Scalar } {
  const { logprobs, oldLogprobs, refLogprobs, mask, clipEpsilon, klBeta } = input;
  const [completions] = logprobs.shape;
  const advantage = tf.expandDims(input.advantages, 1); // [M, 1] broadcasts over tokens
  const ratio = tf.exp(tf.sub(logprobs, oldLogprobs));
  const clippedRatio = tf.clipByValue(ratio, 1 - clipEpsilon, 1 + clipEpsilon);
  let perToken = tf.neg(tf.minimum(tf.mul(ratio, advantage), tf.mul(clippedRatio, advantage)));
  const refMinusLogp = tf.sub(refLogprobs, logprobs);
  const kl = tf.sub(tf.sub(tf.exp(refMinusLogp), refMinusLogp), 1);
  if (klBeta > 0) perToken = tf.add(perToken, tf.mul(kl, klBeta));
  const masked = tf.mul(perToken, mask);
  const tokenCount = tf.maximum(tf.sum(mask), 1);

  let loss: tf.Scalar;
  if (input.aggregation === "grpo") {
    const perCompletion = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1)); // [M]
    loss = tf.mean(perCompletion);
  } else if (input.aggregation === "dapo") {
    loss = tf.div(tf.sum(masked), tokenCount);
  } else {
    loss = tf.div(tf.sum(masked), completions * input.maxNewTokens);
  }

  // Statistics: separate outputs, so they add nothing to the loss's gradient.
  const meanKl = tf.div(tf.sum(tf.mul(kl, mask)), tokenCount) as tf.Scalar;
  const clipBinds = tf.logicalOr(
    tf.logicalAnd(tf.less(ratio, 1 - clipEpsilon), tf.less(advantage, 0)),
    tf.logicalAnd(tf.greater(ratio, 1 + clipEpsilon), tf.greater(advantage, 0)),
  );
  const clipFraction = tf.div(tf.sum(tf.mul(tf.cast(clipBinds, "float32"), mask)), tokenCount) as tf.Scalar;
  return { loss, meanKl, clipFraction };
}
