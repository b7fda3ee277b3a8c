// How big a recipe's model is and how much compute a run costs, from the recipe alone:
// the recipe form shows it, the queue estimates with it, and the runner sizes its model
// with the same formulas (runner/src/training/config.ts re-exports them). Pure arithmetic,
// so the web bundle can use it without the training engine.
import type { Recipe } from "./recipe";

/** What the formulas need of a model configuration (the runner's ModelConfig has more). */
export interface ModelShape {
  vocabSize: number;
  contextLength: number;
  dModel: number;
  layers: number;
  positionalEncoding: "learned" | "rope" | "none";
}

export const MLP_RATIO = 4; // GPT-2's MLP width; the bench reference uses the same.

/** Every trainable number: embeddings, blocks (attention + MLP + two layer norms), final norm. */
export function parameterCount(config: ModelShape): number {
  const c = config.dModel;
  const tokenEmbedding = config.vocabSize * c; // tied with the output layer: counted once
  const positionEmbedding = config.positionalEncoding === "learned" ? config.contextLength * c : 0;
  const attention = 4 * (c * c + c); // query, key, value, output projection, each with a bias
  const mlp = c * MLP_RATIO * c + MLP_RATIO * c + MLP_RATIO * c * c + c;
  const layerNorms = 2 * 2 * c;
  const finalNorm = 2 * c;
  return tokenEmbedding + positionEmbedding + config.layers * (attention + mlp + layerNorms) + finalNorm;
}

/**
 * Forward FLOPs per token at a given sequence length: 2 per weight of every matmul
 * (the output layer included, the embedding lookup not) plus the attention scores and
 * the weighted sum over the `sequenceLength` keys.
 */
export function forwardFlopsPerToken(config: ModelShape, sequenceLength = config.contextLength): number {
  const c = config.dModel;
  const matmulWeights = config.layers * (4 * c * c + 2 * MLP_RATIO * c * c) + config.vocabSize * c;
  const attention = config.layers * 2 * c * sequenceLength;
  return 2 * matmulWeights + attention;
}

/** Training FLOPs per token: forward plus a backward pass that costs twice the forward. */
export function trainingFlopsPerToken(config: ModelShape, sequenceLength = config.contextLength): number {
  return 3 * forwardFlopsPerToken(config, sequenceLength);
}

export interface ComputePhase {
  /** Tokens the phase processes (trained on, or generated and scored). */
  tokens: number;
  flops: number;
}

export interface RecipeComputeEstimate {
  parameters: number;
  pretraining: ComputePhase;
  grpo: ComputePhase;
  /** Both evaluations (base and GRPO model), greedy plus n samples per item. */
  evaluation: ComputePhase;
  totalFlops: number;
}

/** What the estimate needs of a task variant; without one, worst cases from the recipe. */
export interface EstimateTask {
  vocabSize: number;
  /** Typical prompt length in tokens (with <bos>). */
  promptTokens: number;
  /** Typical reference completion length in tokens. */
  completionTokens: number;
  evalSplits: number;
  evalItemsPerSplit: number;
}

/**
 * Upper-end compute of one run. Pretraining trains on batchSize sequences per step.
 * GRPO samples G completions per prompt (forward per generated token with a KV cache),
 * scores them under the policy and the frozen reference, and trains μ times on them.
 * Evaluation generates a greedy and n sampled completions per item, for both models.
 */
export function estimateRecipeCompute(recipe: Recipe, task: EstimateTask): RecipeComputeEstimate {
  const model: ModelShape = { ...recipe.model, vocabSize: task.vocabSize };
  const parameters = parameterCount(model);
  const sequence = Math.min(model.contextLength, task.promptTokens + task.completionTokens);
  const pretrainingTokens = recipe.pretraining.steps * recipe.pretraining.batchSize * sequence;
  const pretraining = { tokens: pretrainingTokens, flops: pretrainingTokens * trainingFlopsPerToken(model, sequence) };

  const rollout = Math.min(model.contextLength, task.promptTokens + recipe.grpo.maxNewTokens);
  const completions = recipe.grpo.steps * recipe.grpo.promptsPerStep * recipe.grpo.groupSize;
  const generated = completions * recipe.grpo.maxNewTokens;
  const scored = completions * rollout;
  const grpoFlops =
    generated * forwardFlopsPerToken(model, rollout) + // sampling
    2 * scored * forwardFlopsPerToken(model, rollout) + // old-policy and reference log-probs
    recipe.grpo.innerIterations * scored * trainingFlopsPerToken(model, rollout);
  const grpo = { tokens: generated, flops: grpoFlops };

  const items = task.evalSplits * (recipe.evaluation.itemsPerSplit ?? task.evalItemsPerSplit);
  const evalSequence = Math.min(model.contextLength, task.promptTokens + recipe.evaluation.maxNewTokens);
  const evalTokens = 2 * items * (1 + recipe.evaluation.samplesPerItem) * recipe.evaluation.maxNewTokens;
  const evaluation = { tokens: evalTokens, flops: evalTokens * forwardFlopsPerToken(model, evalSequence) };

  return { parameters, pretraining, grpo, evaluation, totalFlops: pretraining.flops + grpo.flops + evaluation.flops };
}
