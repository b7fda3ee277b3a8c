import { z } from "zod";

/** Seeds one submission may ask for (MAX_SEEDS_PER_SUBMISSION in server/services/runs.ts; a test keeps them equal). */
export const MAX_SEEDS = 32;

export const submitFormSchema = z.object({
  variantId: z.uuid("pick a task variant version"),
  recipeId: z.uuid("pick a recipe version"),
  seedCount: z
    .number("enter how many seeds")
    .int("a whole number of seeds")
    .min(1, "at least 1 seed")
    .max(MAX_SEEDS, `at most ${MAX_SEEDS} seeds per submission`),
});
export type SubmitFormValues = z.infer<typeof submitFormSchema>;
