// CONTRACT shared by the task families and the training engine. Finalised by the
// tasks work; the engine codes against exactly these names.
import type { TaskVariant } from "@transcend/protocol";

/** A seeded pseudo-random generator. Every random draw in Transcend goes through one. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: T[]): T[];
  /** An independent generator derived from this one's seed and a label (e.g. "data", "init"). */
  fork(label: string): Rng;
  /** A 32-bit unsigned integer (for seeding other generators). */
  uint32(): number;
}

/** One generated item, as tokens of the family's vocabulary (strings, not ids). */
export interface Example {
  prompt: string[];
  chainOfThought: string[];
  answer: string[];
}

export interface Tokenizer {
  /** All tokens, index = id. Specials first: <pad>=0 <bos>=1 <eos>=2 <think>=3 <answer>=4. */
  readonly vocab: readonly string[];
  readonly size: number;
  readonly pad: number;
  readonly bos: number;
  readonly eos: number;
  readonly think: number;
  readonly answer: number;
  encode(tokens: readonly string[]): number[]; // throws on an unknown token
  decode(ids: readonly number[]): string[];
}

/**
 * A task variant made usable: what the engine needs to pretrain, run GRPO and evaluate.
 * Sequences are laid out as  <bos> prompt… <think> chainOfThought… <answer> answer… <eos>
 * (without the <think> part when the variant leaves the chain of thought out).
 */
export interface ResolvedVariant {
  readonly variant: TaskVariant;
  readonly tokenizer: Tokenizer;
  /** Names of the splits, in declaration order. */
  readonly splitNames: readonly string[];
  /** Names of the splits that are evaluated. */
  readonly evalSplits: readonly string[];
  sample(split: string, rng: Rng): Example;
  /** A split drawn by the pretraining mix, then an item of it. */
  samplePretraining(rng: Rng): { split: string; example: Example };
  /** A split drawn by the GRPO prompt mix, then an item of it. */
  sampleGrpo(rng: Rng): { split: string; example: Example };
  /** Token strings the model is conditioned on: <bos> prompt… */
  promptTokens(example: Example): string[];
  /** The full reference completion a model should write, end marker included. */
  completionTokens(example: Example): string[];
  /**
   * Reward in [0,1]: `prompt` as promptTokens() gives it (with <bos>), `completion` as generated after it.
   * `formatReward` (a recipe knob, 0 by default) is paid for a well-formed but wrong completion.
   */
  verify(prompt: readonly string[], completion: readonly string[], options?: { formatReward?: number }): number;
  /** Worst-case token counts of one split: prompt with <bos>, completion with its markers and <eos>. */
  lengthBound(split: string): { prompt: number; completion: number };
  /** The longest sequence (prompt + completion) any split can produce: a floor for the model's context. */
  readonly maxSequenceLength: number;
}
