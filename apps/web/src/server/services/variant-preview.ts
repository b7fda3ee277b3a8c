// The live preview of the task variant form: a few generated items of each split, token by
// token, marked with what training does with each token — supervised in pretraining
// (every token, or only the completion, per the recipe's `lossOn`) and read by the GRPO
// verifier (the answer). Pure: no database, the same generators the runner uses.
import { z } from "zod";
import type { TaskVariant } from "@transcend/protocol";
import { ANSWER, EOS, THINK, createRng, resolveVariant } from "@transcend/tasks";

export const PREVIEW_LIMITS = { examplesPerSplit: 8 } as const;

export const previewOptionsSchema = z.strictObject({
  examplesPerSplit: z.number().int().min(1).max(PREVIEW_LIMITS.examplesPerSplit).default(3),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  lossOn: z.enum(["all", "completion"]).default("all"),
});
export type PreviewOptions = z.input<typeof previewOptionsSchema>;

const tokenPartSchema = z.enum(["bos", "prompt", "think", "chainOfThought", "answerMarker", "answer", "eos"]);

export const previewTokenSchema = z.object({
  token: z.string(),
  part: tokenPartSchema,
  /** Pretraining's next-token loss covers this token. */
  supervised: z.boolean(),
  /** The GRPO reward depends on this token (the verifier reads the answer). */
  rewarded: z.boolean(),
});

export const variantPreviewSchema = z.object({
  splits: z.array(
    z.object({
      name: z.string(),
      axis: z.string(),
      /** Share of pretraining sequences / GRPO prompts drawn from this split (0–1). */
      pretrainingShare: z.number(),
      grpoShare: z.number(),
      evaluated: z.boolean(),
      /** Worst-case prompt and completion lengths in tokens. */
      maxPromptTokens: z.number().int(),
      maxCompletionTokens: z.number().int(),
      examples: z.array(
        z.object({
          tokens: z.array(previewTokenSchema),
          /** Reward the verifier gives the reference completion (1 unless the generator is broken). */
          referenceReward: z.number(),
        }),
      ),
    }),
  ),
  vocabulary: z.array(z.string()),
  /** Longest sequence any split produces: the recipe's contextLength must be at least this. */
  maxSequenceLength: z.number().int(),
});
export type VariantPreview = z.infer<typeof variantPreviewSchema>;

const share = (mix: Record<string, number>, split: string) => {
  const total = Object.values(mix).reduce((sum, weight) => sum + weight, 0);
  return total > 0 ? (mix[split] ?? 0) / total : 0;
};

export function previewVariant(variant: TaskVariant, rawOptions: PreviewOptions = {}): VariantPreview {
  const options = previewOptionsSchema.parse(rawOptions);
  const resolved = resolveVariant(variant);
  const root = createRng(options.seed);
  return {
    splits: variant.splits.map((split) => {
      const rng = root.fork(`preview:${split.name}`);
      const bound = resolved.lengthBound(split.name);
      return {
        name: split.name,
        axis: split.axis,
        pretrainingShare: share(variant.pretrainingMix, split.name),
        grpoShare: share(variant.grpoMix, split.name),
        evaluated: variant.evalSplits.includes(split.name),
        maxPromptTokens: bound.prompt,
        maxCompletionTokens: bound.completion,
        examples: Array.from({ length: options.examplesPerSplit }, () => {
          const example = resolved.sample(split.name, rng);
          const prompt = resolved.promptTokens(example);
          const completion = resolved.completionTokens(example);
          const supervisedPrompt = options.lossOn === "all";
          let inAnswer = false;
          let inThought = false;
          const completionTokens = completion.map((token) => {
            let part: z.infer<typeof tokenPartSchema>;
            if (token === THINK) {
              part = "think";
              inThought = true;
            } else if (token === ANSWER) {
              part = "answerMarker";
              inThought = false;
              inAnswer = true;
            } else if (token === EOS) {
              part = "eos";
              inAnswer = false;
            } else {
              part = inAnswer ? "answer" : inThought ? "chainOfThought" : "answer";
            }
            return { token, part, supervised: true, rewarded: part === "answer" || part === "answerMarker" || part === "eos" };
          });
          return {
            tokens: [
              ...prompt.map((token, index) => ({
                token,
                part: index === 0 ? ("bos" as const) : ("prompt" as const),
                supervised: supervisedPrompt && index > 0,
                rewarded: false,
              })),
              ...completionTokens,
            ],
            referenceReward: resolved.verify(prompt, completion),
          };
        }),
      };
    }),
    vocabulary: [...resolved.tokenizer.vocab],
    maxSequenceLength: resolved.maxSequenceLength,
  };
}
