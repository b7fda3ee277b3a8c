// The model's shape, derived from a recipe and a task variant's vocabulary, with the
// numbers people use to compare recipes: parameter count and FLOPs per token.
import type { ModelRecipe } from "@transcend/protocol";

export type PositionalEncoding = "learned" | "rope" | "none";

export interface ModelConfig {
  /** Tokens in the task variant's vocabulary (ids 0 … vocabSize−1). */
  vocabSize: number;
  /** Positions the model has: the longest sequence it can read. */
  contextLength: number;
  dModel: number;
  layers: number;
  heads: number;
  positionalEncoding: PositionalEncoding;
  /** Applied to attention and MLP outputs during training only. */
  dropout: number;
}

export function modelConfigFor(model: ModelRecipe, vocabSize: number): ModelConfig {
  const config: ModelConfig = {
    vocabSize,
    contextLength: model.contextLength,
    dModel: model.dModel,
    layers: model.layers,
    heads: model.heads,
    positionalEncoding: model.positionalEncoding,
    dropout: model.dropout,
  };
  validateModelConfig(config);
  return config;
}

export function validateModelConfig(config: ModelConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(config.vocabSize) || config.vocabSize < 2) problems.push("vocabSize must be an integer ≥ 2");
  if (!Number.isInteger(config.contextLength) || config.contextLength < 2) problems.push("contextLength must be ≥ 2");
  if (config.dModel % config.heads !== 0) problems.push("dModel must be a multiple of heads");
  if (config.positionalEncoding === "rope" && headDim(config) % 2 !== 0) problems.push("rope needs an even head dimension");
  if (config.dropout < 0 || config.dropout >= 1) problems.push("dropout must be in [0, 1)");
  if (problems.length > 0) throw new Error(`invalid model config: ${problems.join("; ")}`);
}

export function headDim(config: ModelConfig): number {
  return config.dModel / config.heads;
}

// Parameter count and FLOPs live in packages/protocol, so the web's recipe form and queue
// estimate with the very formulas the engine uses, without importing TensorFlow.
export { forwardFlopsPerToken, MLP_RATIO, parameterCount, trainingFlopsPerToken } from "@transcend/protocol";
