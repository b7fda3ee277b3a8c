import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { TRPCError } from "@trpc/server";
import type { ReactNode } from "react";
import { formatDate } from "@/components/format";
import { Badge, EmptyState, PageHeader, Table, TBody, Td, Th, Tr } from "@/components/ui";
import type { RouterOutputs } from "@/server/routers/_app";
import { serverCaller } from "@/trpc/server";
import { LeaderboardFilters } from "../_components/filters";
import { halfWidthPoints, parseView, percent, points, shortHash, sortLink, type LeaderboardView, type SearchParams, type SortKey } from "../_lib/query";

export const dynamic = "force-dynamic";

type Board = RouterOutputs["leaderboard"]["variant"];
type Row = Board["rows"][number];
type SplitAggregate = Row["aggregate"]["splits"][number];
type Interval = SplitAggregate["gain"];

export async function generateMetadata({ params }: { params: Promise<{ slug: string }> }): Promise<Metadata> {
  const { slug } = await params;
  return { title: `Leaderboard · ${slug}` };
}

async function loadBoard(slug: string, view: LeaderboardView): Promise<Board | undefined> {
  try {
    return await serverCaller().leaderboard.variant({ slug, sort: view.sort, direction: view.direction, axis: view.axis, backend: view.backend });
  } catch (error) {
    if (error instanceof TRPCError && (error.code === "NOT_FOUND" || error.code === "BAD_REQUEST")) return undefined;
    throw error;
  }
}

function gainTone(value: number): string {
  if (value > 0) return "text-emerald-700 dark:text-emerald-400";
  if (value < 0) return "text-rose-700 dark:text-rose-400";
  return "text-slate-500";
}

/** "40.0% → 52.5%" and the gain with its interval under it. */
function BaseToGrpo({ split }: { split: SplitAggregate | undefined }) {
  if (split === undefined) return <span className="text-slate-400">—</span>;
  return (
    <div className="whitespace-nowrap tabular-nums">
      <div>
        {percent(split.base.greedyAccuracy.mean)} → {percent(split.grpo.greedyAccuracy.mean)}
      </div>
      <Gain interval={split.gain} small />
    </div>
  );
}

function Gain({ interval, small = false }: { interval: Interval | null; small?: boolean }) {
  if (interval === null) return <span className="text-slate-400">—</span>;
  return (
    <div className={`whitespace-nowrap tabular-nums ${small ? "text-xs" : "font-medium"} ${gainTone(interval.mean)}`}>
      {points(interval.mean)} <span className="text-xs text-slate-500">{halfWidthPoints(interval.halfWidth)}</span>
    </div>
  );
}

function SortHeader({ path, view, sort, children, align = "left" }: { path: string; view: LeaderboardView; sort: SortKey; children: ReactNode; align?: "left" | "right" }) {
  const active = view.sort === sort;
  return (
    <Th className={align === "right" ? "text-right" : undefined} aria-sort={active ? (view.direction === "asc" ? "ascending" : "descending") : "none"}>
      <Link href={sortLink(path, view, sort)} className="inline-flex items-center gap-1 hover:text-slate-900 dark:hover:text-slate-100">
        {children}
        <span aria-hidden className={active ? "" : "opacity-30"}>
          {active && view.direction === "asc" ? "▲" : "▼"}
        </span>
      </Link>
    </Th>
  );
}

const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length);

export default async function VariantLeaderboardPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const { slug } = await params;
  const view = parseView(await searchParams);
  const board = await loadBoard(slug, view);
  if (board === undefined) notFound();
  const path = `/leaderboard/${slug}`;
  const { variant, rows, minSeeds } = board;
  const idSplit = variant.splits.find((split) => split.axis === "id");
  const oodSplits = variant.splits.filter((split) => split.axis !== "id" && (view.axis === undefined || split.axis === view.axis));
  const splitOf = (row: Row, name: string) => row.aggregate.splits.find((split) => split.split === name);
  const oodOf = (row: Row) => oodSplits.flatMap((split) => splitOf(row, split.name) ?? []);

  return (
    <div className="space-y-8">
      <PageHeader
        eyebrow={
          <Link href="/leaderboard" className="hover:underline">
            ← Leaderboard
          </Link>
        }
        title={variant.name}
        description={
          <div className="space-y-2">
            {variant.description && <p>{variant.description}</p>}
            <p className="flex flex-wrap items-center gap-2 text-sm">
              {variant.family && <Badge mono>{variant.family}</Badge>}
              <Badge>v{variant.version}</Badge>
              <span>
                Pretraining overlap with OOD splits: <strong>{percent(variant.overlap.total)}</strong>
              </span>
            </p>
          </div>
        }
      />

      <LeaderboardFilters action={path} view={view} showFamily={false} />

      {rows.length === 0 ? (
        <EmptyState title="No graded runs for this variant">
          {view.axis || view.backend
            ? "No graded run matches these filters."
            : "No recipe has a server-graded run on this task variant yet. Submit one and it appears here once graded."}
        </EmptyState>
      ) : (
        <>
          <Table data-testid="variant-leaderboard">
            <caption className="sr-only">Recipes on {variant.name}: server-graded results aggregated over seeds</caption>
            <thead>
              <tr>
                <Th className="text-right">#</Th>
                <SortHeader path={path} view={view} sort="recipe">
                  Recipe
                </SortHeader>
                {idSplit && (
                  <SortHeader path={path} view={view} sort="id-gain">
                    ID ({idSplit.name}) base → GRPO
                  </SortHeader>
                )}
                {oodSplits.map((split) => (
                  <Th key={split.name}>
                    {split.axis} ({split.name}) base → GRPO
                  </Th>
                ))}
                <SortHeader path={path} view={view} sort="ood-gain" align="right">
                  OOD gain
                </SortHeader>
                <Th>pass@k (OOD)</Th>
                <SortHeader path={path} view={view} sort="ceiling" align="right">
                  Origin ceiling
                </SortHeader>
                <SortHeader path={path} view={view} sort="novel" align="right">
                  Novel solves
                </SortHeader>
                <Th className="text-right">Overlap</Th>
                <Th>Hardware</Th>
                <Th>Verified</Th>
                <Th>Submitter</Th>
                <SortHeader path={path} view={view} sort="date">
                  Date
                </SortHeader>
                <SortHeader path={path} view={view} sort="seeds">
                  Seeds · provenance
                </SortHeader>
              </tr>
            </thead>
            <TBody>
              {rows.map((row) => {
                const ood = oodOf(row);
                const ceiling = mean(ood.map((split) => split.originCeiling.mean));
                const gained = mean(ood.map((split) => split.novelSolves.gained.mean));
                const lost = mean(ood.map((split) => split.novelSolves.lost.mean));
                return (
                  <Tr key={`${row.variant.id}:${row.recipe.id}`} data-ranked={row.rank !== null}>
                    <Td className="text-right tabular-nums font-semibold">{row.rank ?? "—"}</Td>
                    <Td>
                      <div className="font-medium whitespace-nowrap">
                        {row.recipe.name} <span className="text-xs font-normal text-slate-500">v{row.recipe.version}</span>
                      </div>
                      <div className="text-xs text-slate-500">variant v{row.variant.version}</div>
                      {!row.aggregate.ranked && (
                        <Badge tone="warning" className="mt-1">
                          needs seeds ({row.aggregate.seeds.length}/{minSeeds})
                        </Badge>
                      )}
                    </Td>
                    {idSplit && (
                      <Td>
                        <BaseToGrpo split={splitOf(row, idSplit.name)} />
                      </Td>
                    )}
                    {oodSplits.map((split) => (
                      <Td key={split.name}>
                        <BaseToGrpo split={splitOf(row, split.name)} />
                      </Td>
                    ))}
                    <Td className="text-right">
                      <Gain interval={row.oodGain} />
                    </Td>
                    <Td className="text-xs tabular-nums whitespace-nowrap">
                      {ood.length === 0
                        ? "—"
                        : row.recipe.kValues.map((k) => {
                            const base = mean(ood.map((split) => split.base.passAtK[String(k)]?.mean ?? 0));
                            const grpo = mean(ood.map((split) => split.grpo.passAtK[String(k)]?.mean ?? 0));
                            return (
                              <div key={k}>
                                pass@{k} {percent(base ?? 0)} → {percent(grpo ?? 0)}
                              </div>
                            );
                          })}
                    </Td>
                    <Td className="text-right tabular-nums">{ceiling === null ? "—" : percent(ceiling)}</Td>
                    <Td className="text-right tabular-nums whitespace-nowrap">
                      {gained === null ? (
                        "—"
                      ) : (
                        <span title="items never solved by the base model in n samples that GRPO solves / solved by base, never by GRPO">
                          +{gained.toFixed(1)} / −{(lost ?? 0).toFixed(1)}
                        </span>
                      )}
                    </Td>
                    <Td className="text-right tabular-nums">{percent(row.overlap.total)}</Td>
                    <Td className="text-xs">
                      {row.hardware.map((entry) => (
                        <div key={entry} className="whitespace-nowrap">
                          {entry}
                        </div>
                      ))}
                    </Td>
                    <Td>
                      {row.verifiedBy.length > 0 ? (
                        <Badge tone="success">✓ by {[...new Set(row.verifiedBy.map((entry) => entry.name))].join(", ")}</Badge>
                      ) : (
                        <span className="text-xs text-slate-400">not yet</span>
                      )}
                    </Td>
                    <Td className="text-sm">{row.submitters.join(", ")}</Td>
                    <Td className="text-sm whitespace-nowrap">{row.lastGradedAt ? formatDate(row.lastGradedAt) : "—"}</Td>
                    <Td className="text-xs">
                      <details>
                        <summary className="cursor-pointer whitespace-nowrap">
                          {row.aggregate.seeds.length} seed{row.aggregate.seeds.length === 1 ? "" : "s"} ({row.aggregate.seeds.join(", ")})
                        </summary>
                        <ul className="mt-2 space-y-1.5">
                          {row.runs.map((run) => (
                            <li key={run.runId} className="whitespace-nowrap">
                              <Link href={`/runs/${run.runId}`} className="text-indigo-600 hover:underline dark:text-indigo-400">
                                seed {run.seed}
                              </Link>{" "}
                              · {run.runner ?? "unknown runner"} · {run.backend ?? "?"} · {run.device ?? "?"} · engine{" "}
                              {run.engineVersion ?? "?"}
                              {run.checkpoint && (
                                <span className="font-mono" title={run.checkpoint}>
                                  {" "}
                                  · ckpt {shortHash(run.checkpoint)}
                                </span>
                              )}
                            </li>
                          ))}
                        </ul>
                      </details>
                    </Td>
                  </Tr>
                );
              })}
            </TBody>
          </Table>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            Accuracies are greedy, graded by the server; gains are GRPO − base with a 95% Student-t interval over seeds. The origin
            ceiling is the base model&apos;s pass@n; novel solves count items the base model never solved in n samples that GRPO
            solves (and the reverse). Rows need {minSeeds} seeds to be ranked. Runners&apos; self-reported training curves are never
            used here.
          </p>
        </>
      )}
    </div>
  );
}
