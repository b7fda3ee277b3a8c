"use client";
import type { ReactNode } from "react";
import { Alert, Card, CardHeader, PageHeader, Skeleton } from "@/components/ui";
import { isTerminal, type MetricPoint } from "../_lib/run-view";
import { CorrectMassScatter, type CorrectMassItem } from "./correct-mass-scatter";
import { LogTail } from "./log-tail";
import { ResultsTable, type SplitResultRow } from "./results-table";
import { Checkpoints, RunDetails, type CheckpointLink, type RunDetailsModel } from "./run-details";
import { RunStateBadge } from "./state-badge";
import { StateTimeline, type TimelineTransition } from "./state-timeline";
import { TrainingCurves } from "./training-curves";

/** Everything the run page draws, whichever procedures it came from. */
export interface RunPageModel extends RunDetailsModel {
  state: string;
  transitions: readonly TimelineTransition[];
  queuedReason: string | null;
  metrics: readonly MetricPoint[];
  log: { text: string; truncated: boolean };
  checkpoints: readonly CheckpointLink[];
  /** The failure reason of a failed run, shown at the top. */
  error: string | null;
}

export type RunResultsModel =
  | { status: "not-graded" }
  | { status: "loading" }
  | { status: "error"; message: string }
  | {
      status: "ready";
      rows: readonly SplitResultRow[];
      items: readonly CorrectMassItem[];
      /** The recipe's KL weight, for the theoretical curve. */
      beta: number;
      downloadUrl?: string;
    };

export function RunPageView({
  run,
  results,
  actions,
  connection,
}: {
  run: RunPageModel;
  results: RunResultsModel;
  actions: ReactNode;
  /** How the page stays current: shown small, so a stale page is recognisable. */
  connection: string;
}) {
  const live = !isTerminal(run.state);
  return (
    <div className="space-y-8">
      <PageHeader
        eyebrow={
          <span className="font-mono" title={run.id}>
            Run {run.id.slice(0, 8)}
          </span>
        }
        title={
          <span className="flex flex-wrap items-center gap-x-3 gap-y-1">
            <span>
              {run.variant.name} <span className="text-slate-400">×</span> {run.recipe.name}
            </span>
            <span data-testid="run-state" data-state={run.state} aria-live="polite">
              <RunStateBadge state={run.state} />
            </span>
          </span>
        }
        description={
          <span className="text-sm">
            seed {run.seed} · task variant v{run.variant.version} · recipe v{run.recipe.version}
            <span className="ml-2 text-xs text-slate-400" data-testid="run-connection">
              {connection}
            </span>
          </span>
        }
        actions={actions}
      />

      {run.state === "failed" && run.error && (
        <Alert tone="error" title="The run failed">
          {run.error}
        </Alert>
      )}

      <div className="grid gap-8 lg:grid-cols-3">
        <div className="min-w-0 space-y-8 lg:col-span-2">
          <ResultsSection results={results} state={run.state} />
          <TrainingCurves metrics={run.metrics} live={live} />
          <LogTail text={run.log.text} truncated={run.log.truncated} live={live} />
        </div>
        <div className="space-y-6">
          <Card aria-labelledby="timeline-heading">
            <CardHeader id="timeline-heading" title="Timeline" />
            <StateTimeline state={run.state} transitions={run.transitions} queuedReason={run.queuedReason} />
          </Card>
          <RunDetails run={run} />
          <Checkpoints checkpoints={run.checkpoints} live={live} />
        </div>
      </div>
    </div>
  );
}


function ResultsSection({ results, state }: { results: RunResultsModel; state: string }) {
  if (results.status === "not-graded") {
    if (state === "failed" || state === "cancelled") return null;
    return (
      <section aria-labelledby="results-heading" className="space-y-3">
        <h2 id="results-heading" className="text-lg font-semibold tracking-tight">
          Results
        </h2>
        <p className="rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-500 dark:border-slate-700 dark:text-slate-400">
          The server grades the base and GRPO models&apos; answers on held-out items once the runner has evaluated both.
          Results appear here then.
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="results-heading" className="space-y-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="results-heading" className="text-lg font-semibold tracking-tight">
          Results
        </h2>
        <p className="text-xs font-medium uppercase tracking-wide text-emerald-700 dark:text-emerald-400">Graded by the server</p>
      </div>
      {results.status === "loading" && (
        <div role="status" className="space-y-3">
          <span className="sr-only">Loading results…</span>
          <Skeleton className="h-32 w-full" />
          <Skeleton className="h-80 w-full" />
        </div>
      )}
      {results.status === "error" && <Alert tone="error">Could not load the results: {results.message}</Alert>}
      {results.status === "ready" && (
        <>
          <ResultsTable rows={results.rows} />
          <div className="rounded-xl border border-slate-200 p-4 dark:border-slate-800">
            <h3 className="mb-2 text-sm font-semibold">Per-item correct mass, base → GRPO</h3>
            <CorrectMassScatter items={results.items} beta={results.beta} />
          </div>
          {results.downloadUrl && (
            <p className="text-sm">
              <a href={results.downloadUrl} className="text-indigo-600 underline-offset-2 hover:underline dark:text-indigo-400">
                Download every item&apos;s outcome (JSON lines)
              </a>
            </p>
          )}
        </>
      )}
    </section>
  );
}
