import { RUN_STATE_LABELS, isRunState, stateTone, type StateTone } from "../_lib/run-view";

const TONE_CLASSES: Record<StateTone, string> = {
  neutral: "bg-slate-100 text-slate-700 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-700",
  info: "bg-sky-50 text-sky-800 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800",
  active: "bg-indigo-50 text-indigo-800 ring-indigo-200 dark:bg-indigo-950 dark:text-indigo-300 dark:ring-indigo-800",
  success: "bg-emerald-50 text-emerald-800 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800",
  danger: "bg-rose-50 text-rose-800 ring-rose-200 dark:bg-rose-950 dark:text-rose-300 dark:ring-rose-800",
};

/** A run's state as a pill; running states pulse so a live page shows it is moving. */
export function RunStateBadge({ state }: { state: string }) {
  const tone = stateTone(state);
  const label = isRunState(state) ? RUN_STATE_LABELS[state] : state;
  return (
    <span
      data-state={state}
      className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset ${TONE_CLASSES[tone]}`}
    >
      <span
        aria-hidden
        className={`h-1.5 w-1.5 rounded-full bg-current ${tone === "active" || tone === "info" ? "motion-safe:animate-pulse" : ""}`}
      />
      {label}
    </span>
  );
}
