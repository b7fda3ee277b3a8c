// A recipe as it is stored and edited: packages/protocol's recipeSchema plus the slug and
// name it is stored under — the same shape the recipes router accepts (routers/recipes.ts).
import { recipeSchema, requiresNothing, type RecipeInput, type RecipePresetName } from "@transcend/protocol";
import { z } from "zod";
import { presetValues } from "./fields";

export const recipeSpecFormSchema = recipeSchema.extend({
  slug: z
    .string()
    .min(3, "at least 3 characters")
    .max(64, "at most 64 characters")
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "a slug is lowercase letters and digits separated by single dashes"),
  name: z.string().trim().min(1, "give the recipe a name").max(80, "at most 80 characters"),
});
export type RecipeSpecInput = z.input<typeof recipeSpecFormSchema>;
export type RecipeSpec = z.output<typeof recipeSpecFormSchema>;

/** A new recipe from a preset: the preset's every field, under a slug of its own. */
export function recipeFromPreset(name: RecipePresetName): RecipeSpecInput {
  return { ...presetValues(name), slug: `my-${name}-recipe`, name: `My ${name} recipe` };
}

/** A fork keeps the settings under a new slug and name. */
export function recipeForkOf(spec: RecipeInput & { slug: string; name?: string | undefined }): RecipeSpecInput {
  return {
    ...structuredClone(spec),
    slug: `${spec.slug}-fork`.slice(0, 64).replace(/-+$/, ""),
    name: `${spec.name ?? spec.slug} (fork)`.slice(0, 80),
  };
}

/** Requirements that ask nothing are dropped: "none" has one stored form (and one content hash). */
export function withoutEmptyRequirements(spec: RecipeSpec): RecipeSpec {
  if (!requiresNothing(spec.requirements)) return spec;
  const { requirements: _none, ...rest } = spec;
  return rest;
}
