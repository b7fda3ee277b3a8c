import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { grpoAdvantages, grpoLoss, type GrpoLossInput, grpoLossTensor, type LossAggregation, type RewardScaling } from "./grpo";
import { testRng, useTestBackend } from "./test-support";

beforeAll(useTestBackend);

// One prompt, G = 2: a right completion of 2 tokens (padded to 3) and a wrong one of 3 tokens.
const twoCompletions = (overrides: Partial<GrpoLossInput> = {}): GrpoLossInput => ({
  logprobs: [
    [-1, -2, 0],
    [-0.5, -1, -1.5],
  ],
  oldLogprobs: [
    [-1, -2, 0],
    [-0.5, -1, -1.5],
  ],
  refLogprobs: [
    [-1, -1.5, 0],
    [-1, -1, -1],
  ],
  mask: [
    [1, 1, 0],
    [1, 1, 1],
  ],
  rewards: [1, 0],
  groupSize: 2,
  clipEpsilon: 0.2,
  klBeta: 0,
  aggregation: "grpo",
  scaleRewards: "none",
  maxNewTokens: 4,
  ...overrides,
});

describe("grpoLoss, worked by hand", () => {
  // μ = 1 (old = current): ρ = 1, so each token's loss is −A. With `none`, A = r − mean = ±0.5:
  // the right completion's tokens lose −0.5 each (2 tokens), the wrong one's +0.5 (3 tokens).
  it.each([
    ["grpo", 0], // (−0.5 + 0.5) / 2 completions
    ["dapo", 0.1], // (−1 + 1.5) / 5 tokens
    ["dr_grpo", 0.0625], // 0.5 / (2 completions × 4 max new tokens)
  ] as const)("%s aggregation, no reward scaling, no KL", (aggregation, expected) => {
    const out = grpoLoss(twoCompletions({ aggregation }));
    expect(out.loss).toBeCloseTo(expected, 10);
    expect(out.meanReward).toBe(0.5);
    expect(out.zeroStdFraction).toBe(0);
    expect(out.clipFraction).toBe(0);
  });

  it("group scaling divides by the group's unbiased std + 1e-4", () => {
    // std([1, 0]) with n − 1 = 1 is √0.5; A = ±0.5 / (0.70710678 + 0.0001) = ±0.70700680.
    const a = 0.7070068;
    expect(grpoAdvantages([1, 0], 2, "group")[0]).toBeCloseTo(a, 7);
    expect(grpoLoss(twoCompletions({ scaleRewards: "group", aggregation: "dapo" })).loss).toBeCloseTo(a / 5, 7);
    expect(grpoLoss(twoCompletions({ scaleRewards: "group", aggregation: "dr_grpo" })).loss).toBeCloseTo(a / 8, 7);
    expect(grpoLoss(twoCompletions({ scaleRewards: "group", aggregation: "grpo" })).loss).toBeCloseTo(0, 10);
  });

  it("batch scaling divides by the whole batch's std; an all-equal group has zero advantage", () => {
    // rewards [1, 0 | 1, 1]: group means 0.5 and 1; batch std = √(0.75 / 3) = 0.5;
    // A = [0.5/0.5001, −0.5/0.5001, 0, 0] = [0.99980004, −0.99980004, 0, 0].
    const a = 0.99980004;
    const advantages = grpoAdvantages([1, 0, 1, 1], 2, "batch");
    [a, -a, 0, 0].forEach((expected, i) => expect(advantages[i]).toBeCloseTo(expected, 7));
    const out = grpoLoss({
      logprobs: [[-1, 0], [-1, -1], [-2, 0], [-3, 0]],
      oldLogprobs: [[-1, 0], [-1, -1], [-2, 0], [-3, 0]],
      refLogprobs: [[-1, 0], [-1, -1], [-2, 0], [-3, 0]],
      mask: [[1, 0], [1, 1], [1, 0], [1, 0]],
      rewards: [1, 0, 1, 1],
      groupSize: 2,
      clipEpsilon: 0.2,
      klBeta: 0,
      aggregation: "dapo",
      scaleRewards: "batch",
      maxNewTokens: 2,
    });
    expect(out.loss).toBeCloseTo((-a + 2 * a) / 5, 7); // tokens: −a once, +a twice, 0, 0
    expect(out.meanReward).toBe(0.75);
    expect(out.zeroStdFraction).toBe(0.5);
  });

  it("adds β·KL with KL = exp(ref − logp) − (ref − logp) − 1 per token", () => {
    // ref − logp per unmasked token: [0, 0.5] and [−0.5, 0, 0.5];
    // KL(0) = 0, KL(0.5) = e^0.5 − 1.5 = 0.14872127, KL(−0.5) = e^−0.5 − 0.5 = 0.10653066.
    const k5 = 0.14872127;
    const km5 = 0.10653066;
    const right = [-0.5, -0.5 + 0.1 * k5];
    const wrong = [0.5 + 0.1 * km5, 0.5, 0.5 + 0.1 * k5];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const grpo = grpoLoss(twoCompletions({ klBeta: 0.1, aggregation: "grpo" }));
    expect(grpo.loss).toBeCloseTo((sum(right) / 2 + sum(wrong) / 3) / 2, 7);
    expect(grpo.meanKl).toBeCloseTo((k5 + km5 + k5) / 5, 7);
    expect(grpoLoss(twoCompletions({ klBeta: 0.1, aggregation: "dapo" })).loss).toBeCloseTo((sum(right) + sum(wrong)) / 5, 7);
    expect(grpoLoss(twoCompletions({ klBeta: 0.1, aggregation: "dr_grpo" })).loss).toBeCloseTo((sum(right) + sum(wrong)) / 8, 7);
  });

  it("clips the ratio when μ > 1 (old ≠ current) and counts where the clip binds", () => {
    // logp − old: right (A = +0.5): [+0.3, −0.3]; wrong (A = −0.5): [−0.3, +0.3, 0]; ε = 0.2.
    // right: ρ = e^0.3 = 1.34985881 > 1.2 with A > 0 → clipped: −1.2·0.5 = −0.6 (binds)
    //        ρ = e^−0.3 = 0.74081822, A > 0 → −min(0.37040911, 0.4) = −0.37040911
    // wrong: ρ = 0.74081822 < 0.8 with A < 0 → −min(−0.37040911, −0.4) = 0.4 (binds)
    //        ρ = 1.34985881, A < 0 → −min(−0.67492941, −0.6) = 0.67492941; ρ = 1 → 0.5
    const input = twoCompletions({
      oldLogprobs: [
        [-1.3, -1.7, 0],
        [-0.2, -1.3, -1.5],
      ],
    });
    const right = [-0.6, -0.37040911];
    const wrong = [0.4, 0.67492941, 0.5];
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const grpo = grpoLoss({ ...input, aggregation: "grpo" });
    expect(grpo.loss).toBeCloseTo((sum(right) / 2 + sum(wrong) / 3) / 2, 7);
    expect(grpo.clipFraction).toBeCloseTo(2 / 5, 10);
    expect(grpoLoss({ ...input, aggregation: "dapo" }).loss).toBeCloseTo((sum(right) + sum(wrong)) / 5, 7);
    expect(grpoLoss({ ...input, aggregation: "dr_grpo" }).loss).toBeCloseTo((sum(right) + sum(wrong)) / 8, 7);
  });
});

describe("grpoLossTensor, the training step's twin", () => {
  function randomInput(seed: number, aggregation: LossAggregation, scaleRewards: RewardScaling, klBeta: number, mu: number): GrpoLossInput {
    const rng = testRng(seed);
    const m = 6;
    const t = 5;
    const table = (f: () => number) => Array.from({ length: m }, () => Array.from({ length: t }, f));
    const logprobs = table(() => -3 * rng.next());
    const oldLogprobs = mu > 1 ? logprobs.map((row) => row.map((v) => v + (rng.next() - 0.5) * 0.8)) : logprobs;
    const mask = Array.from({ length: m }, () => {
      const length = rng.int(1, t);
      return Array.from({ length: t }, (_, i) => (i < length ? 1 : 0));
    });
    return {
      logprobs,
      oldLogprobs,
      refLogprobs: table(() => -3 * rng.next()),
      mask,
      rewards: [1, 0, 1, 1, 1, 1].map((r) => r * rng.int(0, 1)),
      groupSize: 3,
      clipEpsilon: 0.2,
      klBeta,
      aggregation,
      scaleRewards,
      maxNewTokens: t,
    };
  }

  function tensorLoss(input: GrpoLossInput, logprobs: tf.Tensor2D): ReturnType<typeof grpoLossTensor> {
    return grpoLossTensor({
      logprobs,
      oldLogprobs: tf.tensor2d(input.oldLogprobs),
      refLogprobs: tf.tensor2d(input.refLogprobs),
      mask: tf.tensor2d(input.mask),
      advantages: tf.tensor1d(grpoAdvantages(input.rewards, input.groupSize, input.scaleRewards)),
      clipEpsilon: input.clipEpsilon,
      klBeta: input.klBeta,
      aggregation: input.aggregation,
      maxNewTokens: input.maxNewTokens,
    });
  }

  const cases = (["grpo", "dapo", "dr_grpo"] as const).flatMap((aggregation) =>
    (["group", "batch", "none"] as const).flatMap((scaling) =>
      [
        [0, 1],
        [0.1, 1],
        [0.1, 2],
      ].map(([beta, mu]) => [aggregation, scaling, beta ?? 0, mu ?? 1] as const),
    ),
  );

  it.each(cases)("equals grpoLoss (%s, %s scaling, β = %s, μ = %s)", (aggregation, scaling, beta, mu) => {
    const input = randomInput(31 + cases.findIndex((c) => c[0] === aggregation && c[1] === scaling), aggregation, scaling, beta, mu);
    const expected = grpoLoss(input);
    const [loss, meanKl, clipFraction] = tf.tidy(() => {
      const out = tensorLoss(input, tf.tensor2d(input.logprobs));
      return [out.loss.dataSync()[0], out.meanKl.dataSync()[0], out.clipFraction.dataSync()[0]];
    });
    expect(loss).toBeCloseTo(expected.loss, 5);
    expect(meanKl).toBeCloseTo(expected.meanKl, 5);
    expect(clipFraction).toBeCloseTo(expected.clipFraction, 6);
  });

  it("gives no policy gradient to a group whose rewards are all equal", () => {
    const input = randomInput(40, "grpo", "group", 0, 1);
    input.rewards = [1, 0, 1, 1, 1, 1]; // second group: all 1
    const gradient = tf.tidy(() => {
      const logprobs = tf.tensor2d(input.logprobs);
      // μ = 1: old is the current policy with its gradient stopped, as in the training step.
      const lossOf = (lp: tf.Tensor) =>
        grpoLossTensor({
          logprobs: lp as tf.Tensor2D,
          oldLogprobs: tf.tensor2d(input.logprobs),
          refLogprobs: tf.tensor2d(input.refLogprobs),
          mask: tf.tensor2d(input.mask),
          advantages: tf.tensor1d(grpoAdvantages(input.rewards, 3, "group")),
          clipEpsilon: 0.2,
          klBeta: 0,
          aggregation: "grpo",
          maxNewTokens: 5,
        }).loss;
      return tf.grad(lossOf)(logprobs).arraySync() as number[][];
    });
    const rowMagnitude = gradient.map((row, i) => row.reduce((a, g, t) => a + Math.abs(g) * (input.mask[i]?.[t] ?? 0), 0));
    expect(rowMagnitude.slice(0, 3).some((g) => g > 0)).toBe(true);
    expect(rowMagnitude.slice(3)).toEqual([0, 0, 0]);
  });
});
