import { formatGain, formatPercent } from "../_lib/run-view";

/** What the server graded for one model on one split (the grading service's summary). */
export interface ModelSplitSummary {
  n: number;
  items: number;
  greedyAccuracy: number;
  meanCorrectMass: number;
  passAtK: Record<string, number>;
  passAtN: number;
}

export interface SplitResultRow {
  split: string;
  axis: string;
  base: ModelSplitSummary;
  grpo: ModelSplitSummary;
  originCeiling: number;
  novelSolves: { gained: number; lost: number };
  gain: { greedyAccuracy: number; meanCorrectMass: number };
}

function gainTone(value: number): string {
  if (value > 0) return "text-emerald-700 dark:text-emerald-400";
  if (value < 0) return "text-rose-700 dark:text-rose-400";
  return "text-slate-500";
}

/**
 * Server-graded numbers per evaluated split, base → GRPO. Columns follow DESIGN.md §1.1:
 * greedy accuracy and its gain, pass@k, mean correct mass, the origin ceiling (base pass@n)
 * and novel solves, which the theory says should be about zero.
 */
export function ResultsTable({ rows }: { rows: readonly SplitResultRow[] }) {
  const kValues = [...new Set(rows.flatMap((row) => Object.keys(row.base.passAtK)))].sort((a, b) => Number(a) - Number(b));
  const cell = "px-3 py-2.5 text-right tabular-nums whitespace-nowrap";
  const head = "bg-slate-50 px-3 py-2 text-right text-xs font-semibold uppercase tracking-wide text-slate-600 dark:bg-slate-900 dark:text-slate-400";
  return (
    <div className="overflow-x-auto rounded-xl border border-slate-200 dark:border-slate-800">
      <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="results-table">
        <caption className="sr-only">Graded results per split, base model then GRPO model</caption>
        <thead>
          <tr>
            <th scope="col" className={`${head} text-left`}>
              Split
            </th>
            <th scope="col" className={head}>
              Accuracy (greedy)
            </th>
            <th scope="col" className={head}>
              Gain
            </th>
            {kValues.map((k) => (
              <th key={k} scope="col" className={head}>
                pass@{k}
              </th>
            ))}
            <th scope="col" className={head}>
              Correct mass
            </th>
            <th scope="col" className={head} title="The base model's pass@n: what reweighting alone can at most reach">
              Origin ceiling
            </th>
            <th scope="col" className={head} title="Items the base model never solved in n samples that the GRPO model solves (lost: the reverse)">
              Novel solves
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
          {rows.map((row) => (
            <tr key={row.split}>
              <th scope="row" className="px-3 py-2.5 text-left font-medium whitespace-nowrap">
                {row.split}
                <span className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 font-mono text-[11px] font-normal text-slate-600 dark:bg-slate-800 dark:text-slate-300">
                  {row.axis}
                </span>
                <span className="block text-xs font-normal text-slate-500">
                  {row.base.items} items · n = {row.base.n}
                </span>
              </th>
              <td className={cell}>
                {formatPercent(row.base.greedyAccuracy)} → <strong>{formatPercent(row.grpo.greedyAccuracy)}</strong>
              </td>
              <td className={`${cell} font-medium ${gainTone(row.gain.greedyAccuracy)}`}>{formatGain(row.gain.greedyAccuracy)}</td>
              {kValues.map((k) => (
                <td key={k} className={cell}>
                  {formatPercent(row.base.passAtK[k])} → {formatPercent(row.grpo.passAtK[k])}
                </td>
              ))}
              <td className={cell}>
                {formatPercent(row.base.meanCorrectMass)} → {formatPercent(row.grpo.meanCorrectMass)}
              </td>
              <td className={cell}>{formatPercent(row.originCeiling)}</td>
              <td className={cell}>
                {row.novelSolves.gained}
                <span className="text-xs text-slate-500"> (lost {row.novelSolves.lost})</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
