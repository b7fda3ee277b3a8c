"use client";
import { CartesianGrid, ErrorBar, Legend, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";

/** One variant's best recipe: its pretraining overlap against its OOD gain (points) with the 95% interval. */
export interface GainOverlapPoint {
  slug: string;
  name: string;
  family: string;
  /** Share of pretraining drawn from OOD splits, 0..1. */
  overlap: number;
  /** Mean OOD gain (GRPO − base greedy accuracy), −1..1. */
  gain: number;
  lower: number | null;
  upper: number | null;
  ranked: boolean;
}

const FAMILY_COLOURS: Record<string, string> = {
  "string-ops": "#6366f1",
  "graph-path": "#10b981",
  "mod-arith": "#f59e0b",
};
const AXIS_TICK = { fontSize: 11, fill: "currentColor" };

/**
 * The paper's central question in one picture: does GRPO's OOD gain grow with how much of
 * the OOD distribution pretraining already saw? One point per task variant (its best
 * recipe), error bars the 95% interval over seeds; hollow points still need seeds.
 */
export function GainOverlapChart({ points }: { points: readonly GainOverlapPoint[] }) {
  const families = [...new Set(points.map((point) => point.family))].sort();
  const data = (family: string) =>
    points
      .filter((point) => point.family === family)
      .map((point) => ({
        ...point,
        x: point.overlap * 100,
        y: point.gain * 100,
        error: point.lower === null || point.upper === null ? [0, 0] : [(point.gain - point.lower) * 100, (point.upper - point.gain) * 100],
      }));
  return (
    <figure className="space-y-2" data-testid="gain-overlap-chart">
      <div className="h-80 w-full text-slate-600 dark:text-slate-300">
        <ResponsiveContainer width="100%" height="100%">
          <ScatterChart margin={{ top: 10, right: 20, bottom: 30, left: 10 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} />
            <XAxis
              type="number"
              dataKey="x"
              name="Pretraining overlap"
              unit="%"
              domain={[0, "auto"]}
              tick={AXIS_TICK}
              label={{ value: "Pretraining overlap with the OOD split (%)", position: "bottom", offset: 10, fill: "currentColor", fontSize: 12 }}
            />
            <YAxis
              type="number"
              dataKey="y"
              name="OOD gain"
              unit=" pts"
              tick={AXIS_TICK}
              label={{ value: "OOD gain (pts)", angle: -90, position: "insideLeft", fill: "currentColor", fontSize: 12 }}
            />
            <ReferenceLine y={0} stroke="currentColor" strokeOpacity={0.4} />
            <Tooltip
              cursor={{ strokeDasharray: "3 3" }}
              content={({ active, payload }) => {
                const point = active ? (payload?.[0]?.payload as (GainOverlapPoint & { x: number; y: number }) | undefined) : undefined;
                if (!point) return null;
                return (
                  <div className="rounded-md border border-slate-200 bg-white px-3 py-2 text-xs shadow dark:border-slate-700 dark:bg-slate-900">
                    <p className="font-medium">{point.name}</p>
                    <p>overlap {point.x.toFixed(1)}%</p>
                    <p>
                      OOD gain {point.y.toFixed(1)} pts
                      {point.lower !== null && point.upper !== null && ` [${(point.lower * 100).toFixed(1)}, ${(point.upper * 100).toFixed(1)}]`}
                    </p>
                    {!point.ranked && <p className="text-amber-600 dark:text-amber-400">needs seeds</p>}
                  </div>
                );
              }}
            />
            <Legend verticalAlign="top" height={28} />
            {families.map((family) => (
              <Scatter
                key={family}
                name={family}
                data={data(family)}
                fill={FAMILY_COLOURS[family] ?? "#64748b"}
                shape={(props: { cx?: number; cy?: number; payload?: GainOverlapPoint }) => (
                  <circle
                    cx={props.cx}
                    cy={props.cy}
                    r={5}
                    fill={props.payload?.ranked ? (FAMILY_COLOURS[family] ?? "#64748b") : "transparent"}
                    stroke={FAMILY_COLOURS[family] ?? "#64748b"}
                    strokeWidth={2}
                  />
                )}
              >
                <ErrorBar dataKey="error" direction="y" width={4} stroke={FAMILY_COLOURS[family] ?? "#64748b"} strokeOpacity={0.7} />
              </Scatter>
            ))}
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="text-xs text-slate-500 dark:text-slate-400">
        One point per task variant: its best recipe&apos;s OOD gain (GRPO − base greedy accuracy, mean over seeds, 95% interval)
        against the share of pretraining drawn from its OOD splits. Hollow points have fewer than three seeds. The theory predicts
        gains only where pretraining overlaps the OOD distribution.
      </figcaption>
    </figure>
  );
}
