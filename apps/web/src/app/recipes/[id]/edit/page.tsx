import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Alert, PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_lib/session";
import { orNotFound } from "@/app/_lib/load";
import { serverCaller } from "@/trpc/server";
import { RecipeEditor } from "../../_components/recipe-editor";

export const metadata: Metadata = { title: "Edit recipe" };

export default async function EditRecipePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser(`/recipes/${id}/edit`);
  const recipe = await orNotFound(() => serverCaller().recipes.get({ id }));
  if (recipe.ownerId !== user.id) redirect(`/recipes/new?fork=${recipe.id}`);
  return (
    <div className="space-y-6">
      <PageHeader title={`Edit ${recipe.name}`} eyebrow={`${recipe.slug} · v${recipe.version}`} />
      {recipe.usedByRuns ? (
        <Alert tone="info">Runs have used this version, so saving creates version {recipe.latestVersion + 1}; their results keep pointing at this one.</Alert>
      ) : (
        <Alert tone="info">No run has used this version yet, so saving changes it in place.</Alert>
      )}
      <RecipeEditor initial={structuredClone(recipe.spec)} mode="edit" />
    </div>
  );
}
