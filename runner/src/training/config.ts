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

export const MLP_RATIO = 4; // GPT-2's MLP width; the bench reference uses the same.

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

/** Every trainable number: embeddings, blocks (attention + MLP + two layer norms), final norm. */
export function parameterCount(config: ModelConfig): number {
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
export function forwardFlopsPerToken(config: ModelConfig, sequenceLength = config.contextLength): number {
  const c = config.dModel;
  const matmulWeights = config.layers * (4 * c * c + 2 * MLP_RATIO * c * c) + config.vocabSize * c;
  const attention = config.layers * 2 * c * sequenceLength;
  return 2 * matmulWeights + attention;
}

/** Training FLOPs per token: forward plus a backward pass that costs twice the forward. */
export function trainingFlopsPerToken(config: ModelConfig, sequenceLength = config.contextLength): number {
  return 3 * forwardFlopsPerToken(config, sequenceLength);
}
