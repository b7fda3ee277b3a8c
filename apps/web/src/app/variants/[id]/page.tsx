import type { Metadata } from "next";
import Link from "next/link";
import { Alert, Badge, ButtonLink, Card, CardHeader, PageHeader, TBody, Table, Td, Th, Tr } from "@/components/ui";
import { formatDate } from "@/components/format";
import { currentUser } from "@/app/_lib/session";
import { orNotFound } from "@/app/_lib/load";
import { serverCaller } from "@/trpc/server";
import { AXIS_LABELS } from "../_lib/draft";
import { describeMix, describeSplitParams } from "../_lib/describe";
import { VariantPreview } from "../_components/variant-preview";

export const metadata: Metadata = { title: "Task variant" };
export const dynamic = "force-dynamic";

const SAVED_MESSAGES: Record<string, string> = {
  created: "Task variant created.",
  updated: "Saved. No run had used this version, so it was changed in place.",
  new_version: "Saved as a new version; runs of the previous version keep their spec.",
  unchanged: "Nothing changed, so nothing was saved.",
};

export default async function VariantPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ saved?: string }> }) {
  const [{ id }, { saved }] = await Promise.all([params, searchParams]);
  const caller = serverCaller();
  const variant = await orNotFound(() => caller.variants.get({ id }));
  const [versions, user] = await Promise.all([caller.variants.versions({ slug: variant.slug }), currentUser()]);
  const spec = variant.spec;
  const isOwner = user?.id === variant.ownerId;

  return (
    <div className="space-y-8">
      <PageHeader
        eyebrow={
          <Link href="/variants" className="hover:underline">
            Task variants
          </Link>
        }
        title={variant.name}
        description={spec.description || undefined}
        actions={
          <>
            {isOwner && (
              <ButtonLink variant="secondary" href={`/variants/${variant.id}/edit`}>
                Edit
              </ButtonLink>
            )}
            <ButtonLink variant="secondary" href={user ? `/variants/new?fork=${variant.id}` : `/sign-in?next=${encodeURIComponent(`/variants/new?fork=${variant.id}`)}`}>
              Fork
            </ButtonLink>
            <ButtonLink href={`/submit?variant=${variant.id}`}>Submit runs</ButtonLink>
          </>
        }
      />
      {saved && SAVED_MESSAGES[saved] && <Alert tone="success">{SAVED_MESSAGES[saved]}</Alert>}

      <div className="flex flex-wrap gap-2 text-sm">
        <Badge mono>{spec.family}</Badge>
        <Badge>
          {variant.slug} · v{variant.version}
          {variant.version !== variant.latestVersion && ` (latest v${variant.latestVersion})`}
        </Badge>
        {variant.isPreset ? <Badge tone="info">preset</Badge> : <Badge>by {variant.ownerName}</Badge>}
        <Badge>{spec.chainOfThought ? "chain of thought" : "no chain of thought"}</Badge>
        <Badge>{spec.evalItemsPerSplit} evaluation items per split</Badge>
      </div>

      <div className="grid gap-6 lg:grid-cols-2 lg:items-start">
        <div className="space-y-6">
          <Card aria-labelledby="splits">
            <CardHeader id="splits" title="Splits" description={`Pretraining: ${describeMix(spec.pretrainingMix)}. GRPO prompts: ${describeMix(spec.grpoMix)}.`} />
            <ul className="space-y-3">
              {spec.splits.map((split) => (
                <li key={split.name} className="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
                  <div className="flex flex-wrap items-center gap-2">
                    <span className="font-mono font-medium">{split.name}</span>
                    <Badge tone={split.axis === "id" ? "success" : "warning"}>{AXIS_LABELS[split.axis]}</Badge>
                    {spec.evalSplits.includes(split.name) && <Badge tone="info">evaluated</Badge>}
                  </div>
                  <p className="mt-1.5 text-sm text-slate-600 dark:text-slate-400">{describeSplitParams(split).join(" · ")}</p>
                </li>
              ))}
            </ul>
          </Card>

          <Card aria-labelledby="versions">
            <CardHeader id="versions" title="Versions" description="A version used by a run never changes: editing it makes the next version." />
            <Table>
              <thead>
                <tr>
                  <Th>Version</Th>
                  <Th>Name</Th>
                  <Th>Created</Th>
                </tr>
              </thead>
              <TBody>
                {versions.map((version) => (
                  <Tr key={version.id}>
                    <Td>
                      {version.id === variant.id ? (
                        <span aria-current="page" className="font-semibold">
                          v{version.version} (this)
                        </span>
                      ) : (
                        <Link className="text-indigo-600 hover:underline dark:text-indigo-400" href={`/variants/${version.id}`}>
                          v{version.version}
                        </Link>
                      )}
                    </Td>
                    <Td>{version.name}</Td>
                    <Td className="whitespace-nowrap">{formatDate(version.createdAt)}</Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
          </Card>
        </div>
        <VariantPreview family={spec.family} splits={spec.splits} chainOfThought={spec.chainOfThought} />
      </div>
    </div>
  );
}
