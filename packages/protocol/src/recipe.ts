// A training recipe: everything that decides how a run's model is built, pretrained,
// GRPO-trained and evaluated. Limits keep one run within what a volunteer's runner can
// do; defaults are the paper-scale choices, each with its reason beside it.
import { z } from "zod";

export const positionalEncodings = ["learned", "rope", "none"] as const;
export const lossAggregations = ["grpo", "dapo", "dr_grpo"] as const;
export const rewardScalings = ["group", "batch", "none"] as const;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const modelRecipeSchema = z
  .object({
    layers: int(1, 12).default(2).describe("transformer blocks; the paper's models are tiny"),
    dModel: int(8, 768).default(64).describe("width of the residual stream"),
    heads: int(1, 16).default(4).describe("attention heads; must divide dModel"),
    contextLength: int(8, 1024)
      .default(128)
      .describe("longest sequence (prompt + completion) the model accepts, OOD splits included"),
    positionalEncoding: z
      .enum(positionalEncodings)
      .default("learned")
      .describe("how positions are encoded; length generalisation depends on it"),
    dropout: z.number().min(0).max(0.5).default(0).describe("residual and attention-output dropout during training"),
  })
  .refine((m) => m.dModel % m.heads === 0, { message: "dModel must be a multiple of heads", path: ["dModel"] })
  .refine((m) => m.positionalEncoding !== "rope" || (m.dModel / m.heads) % 2 === 0, {
    message: "rope needs an even head dimension (dModel / heads)",
    path: ["heads"],
  });

export const pretrainingRecipeSchema = z.object({
  steps: int(0, 200_000).default(3000).describe("optimizer steps of next-token prediction"),
  batchSize: int(1, 1024).default(32).describe("sequences per step"),
  learningRate: z.number().min(1e-6).max(1e-1).default(1e-3).describe("peak AdamW learning rate"),
  warmupSteps: int(0, 50_000).default(100).describe("linear warmup from zero avoids early divergence"),
  cosineDecay: z.boolean().default(true).describe("decay to minLearningRateRatio × peak by the last step"),
  minLearningRateRatio: z.number().min(0).max(1).default(0.1).describe("floor of the cosine schedule"),
  weightDecay: z.number().min(0).max(1).default(0.1).describe("decoupled (AdamW), on weight matrices only"),
  gradClip: z.number().min(0).max(100).default(1).describe("global gradient-norm clip; 0 turns it off"),
  lossOn: z.enum(["all", "completion"]).default("all").describe("supervise every token, or only the completion"),
});

export const grpoRecipeSchema = z.object({
  steps: int(0, 10_000).default(60).describe("the paper ran GRPO for about 60 steps"),
  promptsPerStep: int(1, 512).default(16).describe("prompts drawn from the GRPO mix per step"),
  groupSize: int(2, 64).default(8).describe("completions sampled per prompt (G); advantages compare within a group"),
  temperature: z.number().min(0.05).max(2).default(1).describe("rollout sampling temperature"),
  maxNewTokens: int(1, 512).default(64).describe("longest completion; also the dr_grpo denominator"),
  learningRate: z.number().min(1e-7).max(1e-2).default(1e-4).describe("constant AdamW learning rate"),
  weightDecay: z.number().min(0).max(1).default(0).describe("off: GRPO should only reweight the base model"),
  gradClip: z.number().min(0).max(100).default(1).describe("global gradient-norm clip; 0 turns it off"),
  clipEpsilon: z.number().min(0).max(1).default(0.2).describe("PPO ratio clip ε"),
  klBeta: z.number().min(0).max(10).default(0.04).describe("weight of the KL penalty to the frozen pretrained model"),
  innerIterations: int(1, 16).default(1).describe("policy updates per batch of rollouts (μ)"),
  lossAggregation: z.enum(lossAggregations).default("grpo").describe("how per-token losses are averaged"),
  scaleRewards: z.enum(rewardScalings).default("group").describe("divide advantages by the group's or batch's std"),
});

export const evaluationRecipeSchema = z
  .object({
    itemsPerSplit: int(1, 5000)
      .optional()
      .describe("held-out items per evaluated split; unset: the task variant's evalItemsPerSplit"),
    samplesPerItem: int(1, 512).default(16).describe("n: sampled completions per item, for correct mass and pass@k"),
    kValues: z.array(int(1, 512)).min(1).max(8).default([1, 4, 16]).describe("pass@k reported for each k ≤ n"),
    temperature: z.number().min(0.05).max(2).default(1).describe("sampling temperature of the n samples"),
    maxNewTokens: int(1, 512).default(64).describe("longest completion at evaluation"),
  })
  .refine((e) => e.kValues.every((k) => k <= e.samplesPerItem), {
    message: "every k must be at most samplesPerItem",
    path: ["kValues"],
  });

const GIB = 2 ** 30;

/**
 * What a run of the recipe needs of the runner that claims it. The queue only hands a run
 * to a runner whose reported capabilities meet these (services/queue.ts reads these JSON
 * paths); absent, or every field at its default, means any runner will do.
 */
export const runnerRequirementsSchema = z.object({
  gpu: z
    .boolean()
    .default(false)
    .describe("only a runner training on a GPU (the tfjs-node-gpu backend) may claim the runs"),
  minMemoryBytes: z
    .number()
    .int()
    // Below 1 MiB a requirement says nothing a runner could fail; 1 TiB is beyond any volunteer machine.
    .min(2 ** 20, "at least 1 MiB (about 0.001 GiB)")
    .max(1024 * GIB, "at most 1 TiB (1,024 GiB)")
    .optional()
    .describe("memory the runner's machine must have; unset: no minimum"),
  minCores: int(1, 256).optional().describe("CPU cores the runner's machine must have; unset: no minimum"),
});

export const recipeSchema = z.object({
  name: z.string().min(1).max(80).optional(),
  model: modelRecipeSchema.prefault({}),
  pretraining: pretrainingRecipeSchema.prefault({}),
  grpo: grpoRecipeSchema.prefault({}),
  evaluation: evaluationRecipeSchema.prefault({}),
  seeds: z
    .array(int(0, 2 ** 31 - 1))
    .min(1)
    .max(32)
    .default([1, 2, 3])
    .describe("one run per seed; gains are reported with a confidence interval over seeds"),
  // Optional and without a default, so recipes stored before it existed parse and hash as before.
  requirements: runnerRequirementsSchema
    .optional()
    .describe("what a runner must have to claim this recipe's runs; unset: any runner"),
});

export type Recipe = z.infer<typeof recipeSchema>;
export type RecipeInput = z.input<typeof recipeSchema>;
export type ModelRecipe = Recipe["model"];
export type PretrainingRecipe = Recipe["pretraining"];
export type GrpoRecipe = Recipe["grpo"];
export type EvaluationRecipe = Recipe["evaluation"];
export type RunnerRequirements = z.infer<typeof runnerRequirementsSchema>;

/** True when the requirements ask nothing of a runner, i.e. they mean the same as none. */
export function requiresNothing(requirements: z.input<typeof runnerRequirementsSchema> | undefined): boolean {
  return requirements === undefined || (!requirements.gpu && requirements.minMemoryBytes === undefined && requirements.minCores === undefined);
}

const presetInputs = {
  // CI-sized: every phase runs, in about a minute on a shared 2-core CPU. Learns little.
  tiny: {
    name: "tiny",
    model: { layers: 1, dModel: 32, heads: 2, contextLength: 64 },
    pretraining: { steps: 250, batchSize: 32, learningRate: 3e-3, warmupSteps: 20 },
    grpo: { steps: 6, promptsPerStep: 8, groupSize: 8, maxNewTokens: 40, learningRate: 1e-3 },
    evaluation: { itemsPerSplit: 16, samplesPerItem: 8, kValues: [1, 4, 8], maxNewTokens: 40 },
    seeds: [1],
  },
  // A few minutes per run on a CPU: enough to see the ID split learned partially.
  small: {
    name: "small",
    model: { layers: 2, dModel: 64, heads: 4, contextLength: 96 },
    pretraining: { steps: 1500, batchSize: 32, learningRate: 2e-3, warmupSteps: 50 },
    grpo: { steps: 30, promptsPerStep: 8, groupSize: 8, maxNewTokens: 48, learningRate: 1e-4 },
    evaluation: { samplesPerItem: 8, kValues: [1, 4, 8], maxNewTokens: 48 },
    seeds: [1, 2, 3],
  },
  // The paper's setting at our scale: learns the preset variants' ID splits, ~60 GRPO steps.
  paper: {
    name: "paper",
    model: { layers: 4, dModel: 128, heads: 4, contextLength: 128 },
    pretraining: { steps: 6000, batchSize: 64, learningRate: 1e-3, warmupSteps: 200 },
    grpo: { steps: 60, promptsPerStep: 16, groupSize: 8, maxNewTokens: 64, learningRate: 5e-5 },
    evaluation: { samplesPerItem: 16, kValues: [1, 4, 16], maxNewTokens: 64 },
    seeds: [1, 2, 3],
  },
} satisfies Record<string, RecipeInput>;

export type RecipePresetName = keyof typeof presetInputs;

export const recipePresets: Record<RecipePresetName, Recipe> = {
  tiny: recipeSchema.parse(presetInputs.tiny),
  small: recipeSchema.parse(presetInputs.small),
  paper: recipeSchema.parse(presetInputs.paper),
};

export function findRecipePreset(name: string): Recipe | undefined {
  return Object.hasOwn(recipePresets, name) ? recipePresets[name as RecipePresetName] : undefined;
}
