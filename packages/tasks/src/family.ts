// What every task family provides, and the completion reading shared by all of them.
import type { OodAxis, TaskFamilyName } from "@transcend/protocol";
import type { z } from "zod";
import { ANSWER, BOS, EOS, THINK, createTokenizer, isSpecialToken } from "./tokenizer";
import type { Example, Rng, Tokenizer } from "./types";

export interface VerifyOptions {
  /**
   * Reward for a well-formed but wrong completion (`[<think> …] <answer> x… <eos>`), a recipe
   * knob that gives GRPO a gradient before any answer is right. 0 (off) by default; a correct
   * answer always earns 1.
   */
  formatReward?: number;
  /** Whether a well-formed completion starts with `<think>`; only matters for the format reward. */
  chainOfThought?: boolean;
}

/** What one item shows on each OOD axis, read back from its prompt (used to check splits really differ). */
export type AxisValues = Record<OodAxis, readonly (string | number)[]>;

/** Worst-case token counts of a split's items (prompt without <bos>; parts without their markers). */
export interface LengthBound {
  prompt: number;
  chainOfThought: number;
  answer: number;
}

export interface TaskFamily<Params> {
  readonly name: TaskFamilyName;
  /** The family's own tokens, in id order after the specials. */
  readonly tokens: readonly string[];
  readonly tokenizer: Tokenizer;
  readonly paramsSchema: z.ZodType<Params>;
  /** One item of a split, drawn from `rng` alone. */
  sample(params: Params, rng: Rng): Example;
  /** Whether `answer` answers `prompt` (without <bos>). Throws if the prompt is not one of this family's. */
  isCorrect(prompt: readonly string[], answer: readonly string[]): boolean;
  /** Reward in [0,1] for a completion generated after `prompt` (with or without its leading <bos>). */
  verify(prompt: readonly string[], completion: readonly string[], options?: VerifyOptions): number;
  measure(prompt: readonly string[]): AxisValues;
  lengthBound(params: Params): LengthBound;
}

export type FamilySpec<Params> = Omit<TaskFamily<Params>, "tokenizer" | "verify">;

export function defineFamily<Params>(spec: FamilySpec<Params>): TaskFamily<Params> {
  const tokenizer = createTokenizer(spec.tokens);
  return {
    ...spec,
    tokenizer,
    verify(prompt, completion, options = {}) {
      const formatReward = options.formatReward ?? 0;
      if (!(formatReward >= 0 && formatReward < 1)) {
        throw new RangeError(`formatReward must be in [0, 1), below the reward for a correct answer; got ${formatReward}`);
      }
      const question = prompt[0] === BOS ? prompt.slice(1) : prompt;
      const reading = readAnswer(completion);
      if (reading === undefined) return 0;
      if (spec.isCorrect(question, reading.answer)) return 1;
      if (formatReward === 0) return 0;
      const opener = options.chainOfThought === false ? ANSWER : THINK;
      return reading.terminated && completion[0] === opener && reading.answer.length > 0 && !reading.answer.some(isSpecialToken)
        ? formatReward
        : 0;
    },
  };
}

/**
 * The answer a completion gives: the tokens after its first `<answer>`, up to `<eos>` (what
 * follows `<eos>` is never read, since generation stops there). Without `<answer>` there is
 * no answer. Trailing tokens before `<eos>` stay part of the answer, so they make it wrong.
 */
export function readAnswer(completion: readonly string[]): { answer: string[]; terminated: boolean } | undefined {
  const start = completion.indexOf(ANSWER);
  if (start < 0) return undefined;
  const rest = completion.slice(start + 1);
  const end = rest.indexOf(EOS);
  return end < 0 ? { answer: rest, terminated: false } : { answer: rest.slice(0, end), terminated: true };
}

/** Thrown when a prompt cannot be read by its family: a caller bug, never a model's fault. */
export class MalformedPromptError extends Error {
  override name = "MalformedPromptError";
  constructor(family: TaskFamilyName, prompt: readonly string[], reason: string) {
    super(`not a ${family} prompt (${reason}): ${prompt.join(" ")}`);
  }
}

export const arraysEqual = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((token, index) => token === b[index]);

/** Split `tokens` on `separator` into groups (an empty input gives one empty group). */
export function splitOn(tokens: readonly string[], separator: string): string[][] {
  const groups: string[][] = [[]];
  for (const token of tokens) {
    if (token === separator) groups.push([]);
    else groups[groups.length - 1]?.push(token);
  }
  return groups;
}

/** `groups` joined by `separator`. */
export function joinWith(groups: readonly (readonly string[])[], separator: string): string[] {
  return groups.flatMap((group, index) => (index === 0 ? [...group] : [separator, ...group]));
}
