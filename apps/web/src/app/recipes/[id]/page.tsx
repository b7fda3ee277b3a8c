import type { Metadata } from "next";
import Link from "next/link";
import { Alert, Badge, ButtonLink, Card, CardHeader, PageHeader, TBody, Table, Td, Th, Tr } from "@/components/ui";
import { formatCount, formatDate } from "@/components/format";
import { currentUser } from "@/app/_lib/session";
import { orNotFound } from "@/app/_lib/load";
import { serverCaller } from "@/trpc/server";
import { SECTIONS, fieldsOf, formatFieldValue } from "../_lib/fields";

export const metadata: Metadata = { title: "Recipe" };
export const dynamic = "force-dynamic";

const SAVED_MESSAGES: Record<string, string> = {
  created: "Recipe created.",
  updated: "Saved. No run had used this version, so it was changed in place.",
  new_version: "Saved as a new version; runs of the previous version keep their recipe.",
  unchanged: "Nothing changed, so nothing was saved.",
};

export default async function RecipePage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ saved?: string }> }) {
  const [{ id }, { saved }] = await Promise.all([params, searchParams]);
  const caller = serverCaller();
  const recipe = await orNotFound(() => caller.recipes.get({ id }));
  const { slug: _slug, name: _name, ...settings } = recipe.spec;
  const [versions, user, estimate] = await Promise.all([
    caller.recipes.versions({ slug: recipe.slug }),
    currentUser(),
    caller.recipes.estimate({ recipe: settings }).catch(() => null),
  ]);
  const isOwner = user?.id === recipe.ownerId;

  return (
    <div className="space-y-8">
      <PageHeader
        eyebrow={
          <Link href="/recipes" className="hover:underline">
            Recipes
          </Link>
        }
        title={recipe.name}
        actions={
          <>
            {isOwner && (
              <ButtonLink variant="secondary" href={`/recipes/${recipe.id}/edit`}>
                Edit
              </ButtonLink>
            )}
            <ButtonLink variant="secondary" href={user ? `/recipes/new?fork=${recipe.id}` : `/sign-in?next=${encodeURIComponent(`/recipes/new?fork=${recipe.id}`)}`}>
              Fork
            </ButtonLink>
            <ButtonLink href={`/submit?recipe=${recipe.id}`}>Submit runs</ButtonLink>
          </>
        }
      />
      {saved && SAVED_MESSAGES[saved] && <Alert tone="success">{SAVED_MESSAGES[saved]}</Alert>}
      <div className="flex flex-wrap gap-2">
        <Badge>
          {recipe.slug} · v{recipe.version}
          {recipe.version !== recipe.latestVersion && ` (latest v${recipe.latestVersion})`}
        </Badge>
        {recipe.isPreset ? <Badge tone="info">preset</Badge> : <Badge>by {recipe.ownerName}</Badge>}
        <Badge>seeds {recipe.spec.seeds.join(", ")}</Badge>
      </div>

      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem] lg:items-start">
        <div className="grid gap-6 md:grid-cols-2">
          {SECTIONS.map((section) => (
            <Card key={section.key} aria-labelledby={`section-${section.key}`}>
              <CardHeader id={`section-${section.key}`} title={section.title} />
              <dl className="space-y-2 text-sm">
                {fieldsOf(section.key).map((field) => (
                  <div key={field.path} className="flex items-baseline justify-between gap-3">
                    <dt className="text-slate-600 dark:text-slate-400" title={field.description}>
                      {field.label}
                    </dt>
                    {/* A recipe stored without requirements has no such section: every field is unset. */}
                    <dd className="font-mono tabular-nums">{formatFieldValue(field, (settings[section.key] as Record<string, unknown> | undefined)?.[field.key])}</dd>
                  </div>
                ))}
              </dl>
            </Card>
          ))}
        </div>
        <div className="space-y-6">
          {estimate && (
            <Card aria-labelledby="estimate">
              <CardHeader id="estimate" title="Size and compute" description="Per run, assuming worst-case task lengths." />
              <p className="text-3xl font-bold tabular-nums">{formatCount(estimate.parameters)}</p>
              <p className="text-xs text-slate-500 dark:text-slate-400">parameters</p>
              <dl className="mt-3 space-y-1 text-sm tabular-nums">
                {(
                  [
                    ["Pretraining", estimate.pretraining],
                    ["GRPO", estimate.grpo],
                    ["Evaluation", estimate.evaluation],
                  ] as const
                ).map(([label, phase]) => (
                  <div key={label} className="flex justify-between gap-2">
                    <dt>{label}</dt>
                    <dd>
                      {formatCount(phase.tokens)} tokens · {formatCount(phase.flops)} FLOPs
                    </dd>
                  </div>
                ))}
              </dl>
            </Card>
          )}
          <Card aria-labelledby="versions">
            <CardHeader id="versions" title="Versions" />
            <Table>
              <thead>
                <tr>
                  <Th>Version</Th>
                  <Th>Created</Th>
                </tr>
              </thead>
              <TBody>
                {versions.map((version) => (
                  <Tr key={version.id}>
                    <Td>
                      {version.id === recipe.id ? (
                        <span aria-current="page" className="font-semibold">
                          v{version.version} (this)
                        </span>
                      ) : (
                        <Link className="text-indigo-600 hover:underline dark:text-indigo-400" href={`/recipes/${version.id}`}>
                          v{version.version}
                        </Link>
                      )}
                    </Td>
                    <Td className="whitespace-nowrap">{formatDate(version.createdAt)}</Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
          </Card>
        </div>
      </div>
    </div>
  );
}
