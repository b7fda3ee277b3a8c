import type { Metadata } from "next";
import type { RecipePresetName } from "@transcend/protocol";
import { PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_lib/session";
import { orNotFound } from "@/app/_lib/load";
import { serverCaller } from "@/trpc/server";
import { PRESET_NAMES } from "../_lib/fields";
import { recipeForkOf, recipeFromPreset, type RecipeSpecInput } from "../_lib/spec";
import { RecipeEditor } from "../_components/recipe-editor";

export const metadata: Metadata = { title: "New recipe" };

export default async function NewRecipePage({ searchParams }: { searchParams: Promise<{ preset?: string; fork?: string }> }) {
  const params = await searchParams;
  await requireUser(params.fork ? `/recipes/new?fork=${params.fork}` : `/recipes/new?preset=${params.preset ?? "tiny"}`);
  let initial: RecipeSpecInput;
  let preset: RecipePresetName | undefined;
  let forkedFrom: string | undefined;
  if (params.fork) {
    const source = await orNotFound(() => serverCaller().recipes.get({ id: params.fork ?? "" }));
    initial = recipeForkOf(source.spec);
    forkedFrom = `${source.name} (${source.slug} v${source.version})`;
  } else {
    preset = PRESET_NAMES.find((name) => name === params.preset) ?? "tiny";
    initial = recipeFromPreset(preset);
  }
  return (
    <div className="space-y-8">
      <PageHeader
        title={forkedFrom ? "Fork a recipe" : "New recipe"}
        description={
          forkedFrom
            ? `A copy of ${forkedFrom} that you own. Give it its own slug, change what you like, and save.`
            : "Start from a preset, then adjust the model, pretraining, GRPO and evaluation. Every field shows its unit and limits."
        }
      />
      <RecipeEditor initial={initial} mode="create" preset={preset} />
    </div>
  );
}
