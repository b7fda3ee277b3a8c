import type { Metadata } from "next";
import { serverCaller } from "@/trpc/server";

export const metadata: Metadata = { title: "Leaderboard" };

// Rendered per request from the live database.
export const dynamic = "force-dynamic";

export default async function LeaderboardPage() {
  const variants = await serverCaller().leaderboard.variants();
  const gradedRuns = variants.reduce((total, variant) => total + variant.gradedRuns, 0);

  return (
    <div className="space-y-8">
      <header className="space-y-2">
        <h1 className="text-3xl font-bold tracking-tight">Leaderboard</h1>
        <p className="max-w-2xl text-slate-600 dark:text-slate-300">
          Out-of-distribution generalisation after GRPO, per task variant: how far each recipe moves the model beyond its
          pretraining origin.
        </p>
      </header>

      {gradedRuns === 0 && (
        <section
          aria-labelledby="empty"
          className="rounded-xl border border-dashed border-slate-300 px-6 py-10 text-center dark:border-slate-700"
        >
          <h2 id="empty" className="text-lg font-semibold">
            No graded runs yet
          </h2>
          <p className="mx-auto mt-2 max-w-md text-sm text-slate-600 dark:text-slate-400">
            There are no graded runs yet, so there is nothing to rank. Results appear here as soon as a runner finishes a run
            and the server has graded it.
          </p>
        </section>
      )}

      {variants.length > 0 && (
        <section aria-labelledby="variants" className="space-y-3">
          <h2 id="variants" className="text-xl font-semibold tracking-tight">
            Task variants
          </h2>
          <ul className="divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
            {variants.map((variant) => (
              <li key={variant.slug} className="flex flex-col gap-1 px-5 py-4 sm:flex-row sm:items-center sm:justify-between">
                <div>
                  <p className="font-medium">
                    {variant.name} <span className="text-xs font-normal text-slate-500">v{variant.version}</span>
                  </p>
                  {variant.description && <p className="text-sm text-slate-600 dark:text-slate-400">{variant.description}</p>}
                </div>
                <div className="flex shrink-0 items-center gap-3 whitespace-nowrap text-sm">
                  {variant.family && (
                    <span className="rounded-full bg-slate-100 px-2.5 py-0.5 font-mono text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
                      {variant.family}
                    </span>
                  )}
                  <span className="text-slate-500 dark:text-slate-400">
                    {variant.gradedRuns === 0 ? "no graded runs" : `${variant.gradedRuns} graded run${variant.gradedRuns === 1 ? "" : "s"}`}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
