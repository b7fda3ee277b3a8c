"use client";
import { RUN_PATH, RUN_STATE_DESCRIPTIONS, RUN_STATE_LABELS, formatDuration, isRunState, isTerminal } from "../_lib/run-view";
import { LocalTime } from "./local-time";
import { useNow } from "./use-now";

export interface TimelineTransition {
  toState: string;
  fromState: string | null;
  at: Date;
  reason: string;
  attempt: number;
}

/**
 * Every state change of the run with its time, how long the run stayed, and the reason;
 * then the steps still ahead. A queued run says why no runner has taken it yet.
 */
export function StateTimeline({
  state,
  transitions,
  queuedReason,
}: {
  state: string;
  transitions: readonly TimelineTransition[];
  queuedReason?: string | null;
}) {
  const terminal = isTerminal(state);
  const now = useNow(1000, !terminal);
  const reached = new Set(transitions.map((t) => t.toState));
  const currentIndex = (RUN_PATH as readonly string[]).indexOf(state);
  const ahead = terminal || currentIndex < 0 ? [] : RUN_PATH.slice(currentIndex + 1).filter((s) => !reached.has(s));

  return (
    <ol aria-label="State timeline" className="relative space-y-0">
      {transitions.map((transition, index) => {
        const next = transitions[index + 1];
        const isCurrent = next === undefined;
        const until = next?.at ?? (terminal ? undefined : now);
        const label = isRunState(transition.toState) ? RUN_STATE_LABELS[transition.toState] : transition.toState;
        return (
          <li key={`${transition.at.getTime()}-${index}`} className="relative flex gap-3 pb-4 last:pb-0" data-state={transition.toState}>
            <div aria-hidden className="flex flex-col items-center">
              <span
                className={`mt-1.5 h-2.5 w-2.5 shrink-0 rounded-full ${
                  isCurrent && !terminal
                    ? "bg-indigo-500 ring-4 ring-indigo-500/20 motion-safe:animate-pulse"
                    : transition.toState === "failed"
                      ? "bg-rose-500"
                      : "bg-slate-400 dark:bg-slate-500"
                }`}
              />
              {(next !== undefined || ahead.length > 0) && <span className="mt-1 w-px flex-1 bg-slate-200 dark:bg-slate-700" />}
            </div>
            <div className="min-w-0 flex-1">
              <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
                <span className="font-medium">{label}</span>
                <span className="text-xs tabular-nums text-slate-500 dark:text-slate-400">
                  <LocalTime at={transition.at} />
                  {until && (
                    <span suppressHydrationWarning>
                      {" · "}
                      {isCurrent ? "for " : ""}
                      {formatDuration(until.getTime() - transition.at.getTime())}
                    </span>
                  )}
                  {transition.attempt > 0 && ` · attempt ${transition.attempt}`}
                </span>
              </div>
              {transition.reason && <p className="mt-0.5 text-sm text-slate-600 dark:text-slate-400">{transition.reason}</p>}
              {isCurrent && state === "queued" && queuedReason && (
                <p
                  role="status"
                  data-testid="queued-reason"
                  className="mt-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200 dark:bg-amber-950 dark:text-amber-200 dark:ring-amber-800"
                >
                  Not assigned yet: {queuedReason}
                </p>
              )}
            </div>
          </li>
        );
      })}
      {ahead.map((upcoming, index) => (
        <li key={upcoming} className="relative flex gap-3 pb-4 last:pb-0 opacity-60">
          <div aria-hidden className="flex flex-col items-center">
            <span className="mt-1.5 h-2.5 w-2.5 shrink-0 rounded-full border border-slate-300 dark:border-slate-600" />
            {index < ahead.length - 1 && <span className="mt-1 w-px flex-1 border-l border-dashed border-slate-300 dark:border-slate-700" />}
          </div>
          <div>
            <span className="text-sm font-medium text-slate-500 dark:text-slate-400">{RUN_STATE_LABELS[upcoming]}</span>
            <p className="text-xs text-slate-500 dark:text-slate-500">{RUN_STATE_DESCRIPTIONS[upcoming]}</p>
          </div>
        </li>
      ))}
    </ol>
  );
}
