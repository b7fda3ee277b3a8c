"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Alert, Button, ButtonLink, Checkbox, EmptyState, PageHeader, Select, SkeletonRows, Table, TBody, Td, Th, Tr } from "@/components/ui";
import { useSession } from "@/lib/auth-client";
import { useTRPC } from "@/trpc/react";
import { NO_FILTERS, hasFilters, parseRunFilters, runFiltersQuery, type RunFilters } from "../_lib/filters";
import { RUN_STATES, RUN_STATE_LABELS, formatAgo, formatDuration, isTerminal } from "../_lib/run-view";
import { RunStateBadge } from "./state-badge";
import { useNow } from "./use-now";

const PAGE_SIZE = 25;
/** States change in seconds; a list left open keeps up with a light poll. */
const LIST_POLL_MS = 5_000;

const linkClass = "text-indigo-600 underline-offset-2 hover:underline dark:text-indigo-400";

export function RunsList() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const filters = parseRunFilters(searchParams);
  const session = useSession();
  const signedIn = Boolean(session.data);
  const now = useNow(10_000);

  const setFilters = (next: RunFilters) => router.replace(`${pathname}${runFiltersQuery(next)}`, { scroll: false });

  const variants = useQuery(trpc.variants.list.queryOptions({ limit: 100 }));
  // "Mine" needs an account; until the session is known the list waits rather than flashing everyone's runs.
  const mineBlocked = filters.mine && !signedIn;
  const listInput = {
    mine: filters.mine,
    state: filters.state ?? undefined,
    variantSlug: filters.variantSlug ?? undefined,
    limit: PAGE_SIZE,
  };
  const runs = useInfiniteQuery({
    // tRPC adds the page `direction` to the input; the list's input accepts it (services/paging.ts).
    ...trpc.runs.list.infiniteQueryOptions(listInput, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
    enabled: !session.isPending && !mineBlocked,
    refetchInterval: LIST_POLL_MS,
  });
  const items = runs.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="space-y-6">
      <PageHeader
        title="Runs"
        description="Every run is one seed of a task variant version trained with a recipe version. States update live; open a run for its timeline, curves, logs and results."
        actions={<ButtonLink href="/submit">Submit runs</ButtonLink>}
      />

      <form
        aria-label="Filter runs"
        className="flex flex-col gap-3 rounded-xl border border-slate-200 p-4 sm:flex-row sm:flex-wrap sm:items-end dark:border-slate-800"
        onSubmit={(event) => event.preventDefault()}
      >
        <label className="flex flex-col gap-1.5 text-sm font-medium">
          State
          <Select
            name="state"
            value={filters.state ?? ""}
            onChange={(event) => setFilters({ ...filters, state: parseRunFilters(new URLSearchParams({ state: event.target.value })).state })}
          >
            <option value="">Any state</option>
            {RUN_STATES.map((state) => (
              <option key={state} value={state}>
                {RUN_STATE_LABELS[state]}
              </option>
            ))}
          </Select>
        </label>
        <label className="flex flex-col gap-1.5 text-sm font-medium">
          Task variant
          <Select
            name="variant"
            value={filters.variantSlug ?? ""}
            onChange={(event) => setFilters({ ...filters, variantSlug: event.target.value === "" ? null : event.target.value })}
          >
            <option value="">Any task variant</option>
            {filters.variantSlug && !variants.data?.items.some((v) => v.slug === filters.variantSlug) && (
              <option value={filters.variantSlug}>{filters.variantSlug}</option>
            )}
            {variants.data?.items.map((variant) => (
              <option key={variant.slug} value={variant.slug}>
                {variant.name}
              </option>
            ))}
          </Select>
        </label>
        {signedIn && (
          <label className="flex items-center gap-2 text-sm font-medium sm:pb-2">
            <Checkbox name="mine" checked={filters.mine} onChange={(event) => setFilters({ ...filters, mine: event.target.checked })} />
            Only my runs
          </label>
        )}
        {hasFilters(filters) && (
          <Button variant="ghost" size="sm" className="sm:mb-0.5" onClick={() => setFilters(NO_FILTERS)}>
            Clear filters
          </Button>
        )}
      </form>

      {mineBlocked && !session.isPending ? (
        <EmptyState title="Sign in to see your runs" action={<ButtonLink href={`/sign-in?next=${encodeURIComponent(`/runs${runFiltersQuery(filters)}`)}`}>Sign in</ButtonLink>}>
          “Only my runs” lists the runs you submitted, so it needs your account.
        </EmptyState>
      ) : runs.isPending ? (
        <SkeletonRows rows={5} rowClassName="h-12" label="Loading runs" />
      ) : runs.error ? (
        <Alert tone="error">Could not load the runs: {runs.error.message}</Alert>
      ) : items.length === 0 ? (
        hasFilters(filters) ? (
          <EmptyState title="No runs match these filters" action={<Button variant="secondary" onClick={() => setFilters(NO_FILTERS)}>Clear filters</Button>}>
            Try another state or task variant, or clear the filters to see every run.
          </EmptyState>
        ) : (
          <EmptyState title="No runs yet" action={<ButtonLink href="/submit">Submit runs</ButtonLink>}>
            Pick a task variant and a recipe and submit a few seeds. A connected runner picks them up from the queue.
          </EmptyState>
        )
      ) : (
        <>
          <Table data-testid="runs-table">
            <thead>
              <tr>
                <Th>Run</Th>
                <Th>State</Th>
                <Th>Task variant</Th>
                <Th>Recipe</Th>
                <Th className="text-right">Seed</Th>
                <Th>Submitted</Th>
                <Th>Took</Th>
              </tr>
            </thead>
            <TBody>
              {items.map((run) => (
                <Tr key={run.id} data-run-id={run.id}>
                  <Td>
                    <Link href={`/runs/${run.id}`} className={`${linkClass} font-mono text-xs`} aria-label={`Run ${run.id.slice(0, 8)}`}>
                      {run.id.slice(0, 8)}
                    </Link>
                    {run.reproducesRunId && <span className="ml-1 text-xs text-slate-500">reproduction</span>}
                  </Td>
                  <Td>
                    <RunStateBadge state={run.state} />
                  </Td>
                  <Td>
                    <Link href={`/runs${runFiltersQuery({ ...filters, variantSlug: run.variant.slug })}`} className="hover:underline" title="Show only this task variant's runs">
                      {run.variant.name}
                    </Link>{" "}
                    <span className="text-xs text-slate-500">v{run.variant.version}</span>
                  </Td>
                  <Td>
                    {run.recipe.name} <span className="text-xs text-slate-500">v{run.recipe.version}</span>
                  </Td>
                  <Td className="text-right tabular-nums">{run.seed}</Td>
                  <Td className="whitespace-nowrap text-xs text-slate-600 dark:text-slate-400">
                    <time dateTime={run.createdAt.toISOString()} title={run.createdAt.toLocaleString()} suppressHydrationWarning>
                      {formatAgo(run.createdAt, now)}
                    </time>
                    <span className="block">by {run.submitter.name}</span>
                  </Td>
                  <Td className="whitespace-nowrap text-xs tabular-nums text-slate-600 dark:text-slate-400" suppressHydrationWarning>
                    {run.finishedAt ? formatDuration(run.finishedAt.getTime() - run.createdAt.getTime()) : isTerminal(run.state) ? "—" : "running"}
                  </Td>
                </Tr>
              ))}
            </TBody>
          </Table>
          {runs.hasNextPage && (
            <div className="flex justify-center">
              <Button variant="secondary" pending={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()}>
                Show older runs
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
