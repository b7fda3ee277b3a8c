"use client";
import { useMemo } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { curveSeries, thinPoints, type MetricPoint } from "../_lib/run-view";

const AXIS_TICK = { fontSize: 11, fill: "currentColor" };

function formatValue(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude < 0.001) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}

/**
 * The training curves the runner reported: pretraining loss, then the GRPO step metrics.
 * Runners are untrusted, so the section says these numbers are theirs, not the server's.
 */
export function TrainingCurves({ metrics, live }: { metrics: readonly MetricPoint[]; live: boolean }) {
  const series = useMemo(() => curveSeries(metrics), [metrics]);

  return (
    <section aria-labelledby="curves-heading" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="curves-heading" className="text-lg font-semibold tracking-tight">
          Training curves
        </h2>
        <p className="text-xs font-medium uppercase tracking-wide text-amber-700 dark:text-amber-400">Self-reported by the runner</p>
      </div>
      {series.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-500 dark:border-slate-700 dark:text-slate-400">
          {live ? "Curves appear here as soon as the runner reports its first training step." : "The runner reported no training steps for this run."}
        </p>
      ) : (
        <div className="grid gap-4 sm:grid-cols-2">
          {series.map(({ definition, points }) => {
            const last = points[points.length - 1];
            return (
              <figure
                key={definition.id}
                data-testid={`curve-${definition.id}`}
                className="rounded-lg border border-slate-200 p-3 dark:border-slate-800"
              >
                <figcaption className="mb-2 flex items-baseline justify-between gap-2 text-sm">
                  <span className="font-medium">
                    {definition.title}
                    {definition.unit && <span className="ml-1 text-xs font-normal text-slate-500">({definition.unit})</span>}
                  </span>
                  {last && (
                    <span className="text-xs tabular-nums text-slate-500 dark:text-slate-400">
                      step {last.step}: {formatValue(last.value)}
                    </span>
                  )}
                </figcaption>
                {/* A fixed height keeps the page from jumping while the chart measures its width. */}
                <div className="h-40 text-slate-500 dark:text-slate-400" role="img" aria-label={`${definition.title} by step`}>
                  <ResponsiveContainer width="100%" height="100%">
                    <LineChart data={thinPoints(points)} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.3} />
                      <XAxis dataKey="step" type="number" domain={["dataMin", "dataMax"]} tick={AXIS_TICK} allowDecimals={false} />
                      <YAxis
                        width={44}
                        tick={AXIS_TICK}
                        tickFormatter={formatValue}
                        domain={definition.fraction ? [0, 1] : ["auto", "auto"]}
                      />
                      <Tooltip
                        formatter={(value) => [typeof value === "number" ? formatValue(value) : String(value), definition.title]}
                        labelFormatter={(step) => `step ${String(step)}`}
                        contentStyle={{ fontSize: 12 }}
                      />
                      <Line
                        type="monotone"
                        dataKey="value"
                        stroke={definition.phase === "pretraining" ? "#6366f1" : "#10b981"}
                        strokeWidth={1.5}
                        dot={false}
                        // Live updates would otherwise replay the draw-in animation every few seconds.
                        isAnimationActive={false}
                      />
                    </LineChart>
                  </ResponsiveContainer>
                </div>
              </figure>
            );
          })}
        </div>
      )}
    </section>
  );
}
