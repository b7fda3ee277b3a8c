import type { Metadata } from "next";
import { TASK_FAMILIES, type TaskVariantInput } from "@transcend/protocol";
import { PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_lib/session";
import { orNotFound } from "@/app/_lib/load";
import { serverCaller } from "@/trpc/server";
import { forkOf, startingVariant } from "../_lib/draft";
import { VariantEditor } from "../_components/variant-editor";

export const metadata: Metadata = { title: "New task variant" };

export default async function NewVariantPage({ searchParams }: { searchParams: Promise<{ fork?: string; family?: string }> }) {
  const params = await searchParams;
  await requireUser(params.fork ? `/variants/new?fork=${params.fork}` : "/variants/new");
  let initial: TaskVariantInput;
  let forkedFrom: string | undefined;
  if (params.fork) {
    const source = await orNotFound(() => serverCaller().variants.get({ id: params.fork ?? "" }));
    initial = forkOf(source.spec);
    forkedFrom = `${source.name} (${source.slug} v${source.version})`;
  } else {
    initial = startingVariant(TASK_FAMILIES.find((family) => family === params.family) ?? "string-ops");
  }
  return (
    <div className="space-y-8">
      <PageHeader
        title={forkedFrom ? "Fork a task variant" : "New task variant"}
        description={
          forkedFrom
            ? `A copy of ${forkedFrom} that you own. Give it its own slug, change what you like, and save.`
            : "Start from a family's preset and change its splits and mixes; the preview shows what the model will see."
        }
      />
      <VariantEditor initial={initial} mode="create" />
    </div>
  );
}
