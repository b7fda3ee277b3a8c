import type { Metadata } from "next";
import Link from "next/link";
import { Badge, EmptyState, PageHeader, Table, TBody, Td, Th, Tr } from "@/components/ui";
import { serverCaller } from "@/trpc/server";
import { GainOverlapChart, type GainOverlapPoint } from "./_components/gain-overlap-chart";
import { LeaderboardFilters } from "./_components/filters";
import { halfWidthPoints, parseView, percent, points, viewQuery, type SearchParams } from "./_lib/query";

export const metadata: Metadata = { title: "Leaderboard" };

// Rendered per request from the live database.
export const dynamic = "force-dynamic";

export default async function LeaderboardPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const view = parseView(await searchParams);
  const { variants, minSeeds } = await serverCaller().leaderboard.overview({
    axis: view.axis,
    family: view.family,
    backend: view.backend,
  });
  const gradedRuns = variants.reduce((total, variant) => total + variant.gradedRuns, 0);
  const chartPoints: GainOverlapPoint[] = variants.flatMap((variant) =>
    variant.best === null
      ? []
      : [
          {
            slug: variant.slug,
            name: variant.name,
            family: variant.family ?? "other",
            overlap: variant.best.overlap,
            gain: variant.best.oodGain.mean,
            lower: variant.best.oodGain.lower,
            upper: variant.best.oodGain.upper,
            ranked: variant.best.ranked,
          },
        ],
  );
  // The variant pages keep the axis and backend filters (family is the variant's own).
  const variantQuery = viewQuery({ sort: "ood-gain", direction: "desc", axis: view.axis, backend: view.backend });

  return (
    <div className="space-y-8">
      <PageHeader
        title="Leaderboard"
        description={
          <p>
            Out-of-distribution generalisation after GRPO, per task variant: how far each recipe moves the model beyond its
            pretraining origin. Every number is graded by the server on held-out items the runner never saw before; a recipe is
            ranked once it has {minSeeds} seeds.
          </p>
        }
      />

      <LeaderboardFilters action="/leaderboard" view={view} showFamily />

      {gradedRuns === 0 ? (
        <EmptyState title="No graded runs yet">
          There are no graded runs yet{view.axis || view.family || view.backend ? " that match these filters" : ""}, so there is
          nothing to rank. Results appear here as soon as a runner finishes a run and the server has graded it.
        </EmptyState>
      ) : (
        <section aria-labelledby="chart-heading" className="space-y-3 rounded-xl border border-slate-200 p-4 dark:border-slate-800">
          <h2 id="chart-heading" className="text-lg font-semibold tracking-tight">
            OOD gain against pretraining overlap
          </h2>
          <GainOverlapChart points={chartPoints} />
        </section>
      )}

      {variants.length > 0 && (
        <section aria-labelledby="variants" className="space-y-3">
          <h2 id="variants" className="text-xl font-semibold tracking-tight">
            Task variants
          </h2>
          <Table data-testid="leaderboard-overview">
            <caption className="sr-only">Every task variant with its best recipe by OOD gain</caption>
            <thead>
              <tr>
                <Th>Task variant</Th>
                <Th>Family</Th>
                <Th>OOD axes</Th>
                <Th className="text-right">Overlap</Th>
                <Th>Best recipe</Th>
                <Th className="text-right">OOD gain (95% CI)</Th>
                <Th className="text-right">Graded runs</Th>
              </tr>
            </thead>
            <TBody>
              {variants.map((variant) => (
                <Tr key={variant.slug}>
                  <Td>
                    <Link
                      href={`/leaderboard/${variant.slug}${variantQuery}`}
                      className="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
                    >
                      {variant.name}
                    </Link>{" "}
                    <span className="text-xs text-slate-500">v{variant.version}</span>
                    {variant.description && (
                      <p className="mt-0.5 max-w-md text-xs text-slate-500 dark:text-slate-400">{variant.description}</p>
                    )}
                  </Td>
                  <Td>{variant.family && <Badge mono>{variant.family}</Badge>}</Td>
                  <Td className="text-sm">{variant.axes.join(", ")}</Td>
                  <Td className="text-right tabular-nums">{percent(variant.overlap.total)}</Td>
                  <Td>
                    {variant.best ? (
                      <span>
                        {variant.best.recipe.name} <span className="text-xs text-slate-500">v{variant.best.recipe.version}</span>
                      </span>
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </Td>
                  <Td className="text-right tabular-nums whitespace-nowrap">
                    {variant.best ? (
                      <>
                        {points(variant.best.oodGain.mean)}{" "}
                        <span className="text-xs text-slate-500">{halfWidthPoints(variant.best.oodGain.halfWidth)}</span>
                        {!variant.best.ranked && (
                          <Badge tone="warning" className="ml-2">
                            needs seeds ({variant.best.seeds}/{minSeeds})
                          </Badge>
                        )}
                      </>
                    ) : (
                      <span className="text-slate-400">no graded runs</span>
                    )}
                  </Td>
                  <Td className="text-right tabular-nums">{variant.gradedRuns}</Td>
                </Tr>
              ))}
            </TBody>
          </Table>
        </section>
      )}
    </div>
  );
}
