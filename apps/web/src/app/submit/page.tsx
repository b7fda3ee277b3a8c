import type { Metadata } from "next";
import { PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_lib/session";
import { serverCaller } from "@/trpc/server";
import { SubmitForm, type VersionOption } from "./_components/submit-form";

export const metadata: Metadata = { title: "Submit runs" };
export const dynamic = "force-dynamic";

const isUuid = (value: string | undefined): value is string =>
  typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

export default async function SubmitPage({ searchParams }: { searchParams: Promise<{ variant?: string; recipe?: string }> }) {
  const params = await searchParams;
  const query = new URLSearchParams();
  if (params.variant) query.set("variant", params.variant);
  if (params.recipe) query.set("recipe", params.recipe);
  await requireUser(`/submit${query.size > 0 ? `?${query.toString()}` : ""}`);
  const caller = serverCaller();
  const [variantList, recipeList, quota] = await Promise.all([
    caller.variants.list({ limit: 100 }),
    caller.recipes.list({ limit: 100 }),
    caller.runs.quota(),
  ]);
  // A version linked from its page may be older than the latest the lists show.
  const [linkedVariant, linkedRecipe] = await Promise.all([
    isUuid(params.variant) ? caller.variants.get({ id: params.variant }).catch(() => undefined) : undefined,
    isUuid(params.recipe) ? caller.recipes.get({ id: params.recipe }).catch(() => undefined) : undefined,
  ]);

  const variants: VersionOption[] = variantList.items.map((item) => ({ id: item.id, label: `${item.name} — ${item.slug} v${item.version}` }));
  if (linkedVariant && !variants.some((option) => option.id === linkedVariant.id)) {
    variants.unshift({ id: linkedVariant.id, label: `${linkedVariant.name} — ${linkedVariant.slug} v${linkedVariant.version}` });
  }
  const recipes: VersionOption[] = recipeList.items.map((item) => ({
    id: item.id,
    label: `${item.name} — ${item.slug} v${item.version}`,
    seeds: item.spec.seeds,
    spec: stripNames(item.spec),
  }));
  if (linkedRecipe && !recipes.some((option) => option.id === linkedRecipe.id)) {
    recipes.unshift({
      id: linkedRecipe.id,
      label: `${linkedRecipe.name} — ${linkedRecipe.slug} v${linkedRecipe.version}`,
      seeds: linkedRecipe.spec.seeds,
      spec: stripNames(linkedRecipe.spec),
    });
  }
  const recipeSeeds = recipes.find((option) => option.id === linkedRecipe?.id)?.seeds?.length;

  return (
    <div className="space-y-8">
      <PageHeader title="Submit runs" description="Pick a task variant version, a recipe version and how many seeds; each seed becomes one queued run." />
      <SubmitForm
        variants={variants}
        recipes={recipes}
        quota={quota}
        initial={{ variantId: linkedVariant?.id, recipeId: linkedRecipe?.id, seedCount: recipeSeeds ?? 1 }}
      />
    </div>
  );
}

/** The recipe settings alone, as the estimate takes them. */
function stripNames(spec: Record<string, unknown>): Record<string, unknown> {
  const { slug: _slug, name: _name, ...settings } = spec;
  return settings;
}
