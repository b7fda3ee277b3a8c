// Seeds the preset task variants and recipes that exist in this release. seedPresets is
// idempotent (a preset already stored with the same content is left alone), so this runs
// on every start: a new release's presets appear after an upgrade.
import type { Db } from "@transcend/db";
import { seedPresets, type SeedReport } from "@transcend/db";
import { recipePresets } from "@transcend/protocol";
import { presets } from "@transcend/tasks";

/** Recipe presets are keyed by name; stored recipes are keyed by slug, so the name is the slug. */
export function recipePresetSpecs(): Array<Record<string, unknown> & { slug: string; name: string }> {
  return Object.entries(recipePresets).map(([slug, recipe]) => ({ ...recipe, slug, name: recipe.name ?? slug }));
}

export async function seedDatabase(db: Db): Promise<SeedReport> {
  return seedPresets(db, { variants: presets, recipes: recipePresetSpecs() });
}
