import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Alert, PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_lib/session";
import { orNotFound } from "@/app/_lib/load";
import { serverCaller } from "@/trpc/server";
import { toFormValues } from "../../_lib/draft";
import { VariantEditor } from "../../_components/variant-editor";

export const metadata: Metadata = { title: "Edit task variant" };

export default async function EditVariantPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser(`/variants/${id}/edit`);
  const variant = await orNotFound(() => serverCaller().variants.get({ id }));
  // Only the owner edits; anyone else can fork.
  if (variant.ownerId !== user.id) redirect(`/variants/new?fork=${variant.id}`);
  return (
    <div className="space-y-6">
      <PageHeader title={`Edit ${variant.name}`} eyebrow={`${variant.slug} · v${variant.version}`} />
      {variant.version !== variant.latestVersion && (
        <Alert tone="warning">You are editing version {variant.version}; saving makes a version after the latest (v{variant.latestVersion}).</Alert>
      )}
      {variant.usedByRuns ? (
        <Alert tone="info">Runs have used this version, so saving creates version {variant.latestVersion + 1}; their results keep pointing at this one.</Alert>
      ) : (
        <Alert tone="info">No run has used this version yet, so saving changes it in place.</Alert>
      )}
      <VariantEditor initial={toFormValues(variant.spec)} mode="edit" />
    </div>
  );
}
