import type { Metadata } from "next";
import Link from "next/link";
import { TASK_FAMILIES } from "@transcend/protocol";
import { Badge, ButtonLink, EmptyState, PageHeader } from "@/components/ui";
import { ListFilters } from "@/components/list-filters";
import { currentUser } from "@/app/_lib/session";
import { serverCaller } from "@/trpc/server";
import { describeMix } from "./_lib/describe";

export const metadata: Metadata = { title: "Task variants" };
export const dynamic = "force-dynamic";

type Search = { owner?: string; q?: string; family?: string; cursor?: string };

export default async function VariantsPage({ searchParams }: { searchParams: Promise<Search> }) {
  const params = await searchParams;
  const user = await currentUser();
  const owner = params.owner === "mine" && user ? "mine" : params.owner === "presets" ? "presets" : "all";
  const family = TASK_FAMILIES.find((name) => name === params.family);
  const search = params.q?.slice(0, 100) || undefined;
  const cursor = Math.max(0, Math.min(1_000_000, Number.parseInt(params.cursor ?? "0", 10) || 0));
  const { items, nextCursor } = await serverCaller().variants.list({ owner, search, family, cursor, limit: 50 });

  return (
    <div className="space-y-8">
      <PageHeader
        title="Task variants"
        description="A task family, its in-distribution split, the OOD splits that differ from it along one axis, and how much of each pretraining sees."
        actions={
          <ButtonLink href={user ? "/variants/new" : "/sign-in?next=%2Fvariants%2Fnew"}>New variant</ButtonLink>
        }
      />
      <ListFilters
        signedIn={user !== null}
        owner={owner}
        search={search ?? ""}
        extra={{ name: "family", label: "Family", value: family ?? "", options: TASK_FAMILIES.map((name) => ({ value: name, label: name })) }}
      />
      {items.length === 0 ? (
        <EmptyState
          title={search || family || owner !== "all" ? "No task variants match" : "No task variants yet"}
          action={user ? <ButtonLink href="/variants/new">Create a task variant</ButtonLink> : <ButtonLink href="/sign-up?next=%2Fvariants%2Fnew">Sign up to create one</ButtonLink>}
        >
          {search || family || owner !== "all"
            ? "Clear the filters to see every variant, or create the one you are looking for."
            : "Create one from a family's preset: pick its splits and how much of each pretraining sees."}
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {items.map((item) => (
            <li key={item.id} className="relative flex flex-col gap-2 px-5 py-4 hover:bg-slate-50 sm:flex-row sm:items-center sm:justify-between dark:hover:bg-slate-900">
              <div className="min-w-0">
                <p className="font-medium">
                  <Link href={`/variants/${item.id}`} className="after:absolute after:inset-0 focus-visible:outline-2 focus-visible:outline-indigo-500">
                    {item.name}
                  </Link>{" "}
                  <span className="text-xs font-normal text-slate-500">
                    {item.slug} · v{item.version}
                  </span>
                </p>
                <p className="mt-0.5 text-sm text-slate-600 dark:text-slate-400">
                  Pretraining: {describeMix(item.spec.pretrainingMix)} · {item.spec.splits.length} splits
                </p>
              </div>
              <div className="flex shrink-0 flex-wrap items-center gap-2 text-sm">
                <Badge mono>{item.spec.family}</Badge>
                {item.isPreset ? <Badge tone="info">preset</Badge> : <span className="text-slate-500 dark:text-slate-400">by {item.ownerName}</span>}
                <span className="text-slate-500 dark:text-slate-400">
                  {item.runs === 0 ? "no runs" : `${item.runs} run${item.runs === 1 ? "" : "s"}`}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
      {(cursor > 0 || nextCursor !== null) && (
        <nav aria-label="Pages" className="flex justify-between">
          {cursor > 0 ? (
            <ButtonLink variant="secondary" size="sm" href={pageHref(params, Math.max(0, cursor - 50))}>
              Previous
            </ButtonLink>
          ) : (
            <span />
          )}
          {nextCursor !== null && (
            <ButtonLink variant="secondary" size="sm" href={pageHref(params, nextCursor)}>
              Next
            </ButtonLink>
          )}
        </nav>
      )}
    </div>
  );
}

function pageHref(params: Search, cursor: number): string {
  const query = new URLSearchParams();
  for (const key of ["owner", "q", "family"] as const) if (params[key]) query.set(key, params[key]);
  if (cursor > 0) query.set("cursor", String(cursor));
  return `/variants?${query.toString()}`;
}
