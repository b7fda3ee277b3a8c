"use client";
import { useMemo } from "react";
import { CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from "recharts";
import { theoreticalCurve } from "../_lib/run-view";

export interface CorrectMassItem {
  split: string;
  /** Fraction of the base model's n samples that verified. */
  base: number;
  /** The same for the GRPO model, on the same item. */
  grpo: number;
}

const SPLIT_COLOURS = ["#6366f1", "#10b981", "#f59e0b", "#ec4899", "#0ea5e9", "#84cc16", "#a855f7", "#ef4444"];
const AXIS_TICK = { fontSize: 11, fill: "currentColor" };
const percent = (value: number) => `${Math.round(value * 100)}%`;

/**
 * Per held-out item: the base model's correct mass against the GRPO model's, with the
 * KL-regularised optimum Q* = Q·e^{1/β} / (Q·e^{1/β} + 1 − Q) for the recipe's β and the
 * diagonal (no change). Points above the curve moved further than the theory's optimum;
 * points on the left edge above zero are novel solves.
 */
export function CorrectMassScatter({ items, beta }: { items: readonly CorrectMassItem[]; beta: number }) {
  const bySplit = useMemo(() => {
    const groups = new Map<string, { x: number; y: number }[]>();
    for (const item of items) {
      let group = groups.get(item.split);
      if (!group) groups.set(item.split, (group = []));
      group.push({ x: item.base, y: item.grpo });
    }
    return [...groups.entries()];
  }, [items]);
  const curve = useMemo(() => theoreticalCurve(beta).map(({ q, qStar }) => ({ x: q, y: qStar })), [beta]);
  const diagonal = [
    { x: 0, y: 0 },
    { x: 1, y: 1 },
  ];
  const novel = items.filter((item) => item.base === 0 && item.grpo > 0).length;

  return (
    <figure className="space-y-2" data-testid="correct-mass-scatter">
      <div className="h-80 text-slate-500 dark:text-slate-400" role="img" aria-label={`Per-item correct mass, base against GRPO, ${items.length} items, with the theoretical curve for β = ${beta}`}>
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart margin={{ top: 8, right: 16, bottom: 24, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.3} />
            <XAxis
              type="number"
              dataKey="x"
              domain={[0, 1]}
              ticks={[0, 0.25, 0.5, 0.75, 1]}
              tickFormatter={percent}
              tick={AXIS_TICK}
              label={{ value: "base correct mass Q", position: "insideBottom", offset: -12, fontSize: 12, fill: "currentColor" }}
            />
            <YAxis
              type="number"
              dataKey="y"
              domain={[0, 1]}
              ticks={[0, 0.25, 0.5, 0.75, 1]}
              tickFormatter={percent}
              tick={AXIS_TICK}
              width={44}
              label={{ value: "GRPO correct mass", angle: -90, position: "insideLeft", offset: 4, fontSize: 12, fill: "currentColor" }}
            />
            <Tooltip
              cursor={{ strokeDasharray: "3 3" }}
              formatter={(value) => (typeof value === "number" ? percent(value) : String(value))}
              contentStyle={{ fontSize: 12 }}
            />
            <Legend verticalAlign="top" height={28} wrapperStyle={{ fontSize: 12 }} />
            <Line
              data={diagonal}
              dataKey="y"
              name="no change"
              stroke="#94a3b8"
              strokeDasharray="4 4"
              dot={false}
              activeDot={false}
              isAnimationActive={false}
              legendType="plainline"
            />
            <Line
              data={curve}
              dataKey="y"
              name={`theory Q* (β = ${beta})`}
              stroke="#f43f5e"
              strokeWidth={1.5}
              dot={false}
              activeDot={false}
              isAnimationActive={false}
              legendType="plainline"
            />
            {bySplit.map(([split, points], index) => (
              <Scatter
                key={split}
                name={split}
                data={points}
                fill={SPLIT_COLOURS[index % SPLIT_COLOURS.length]}
                fillOpacity={0.55}
                isAnimationActive={false}
              />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="text-xs leading-relaxed text-slate-500 dark:text-slate-400">
        One point per held-out item: the share of n sampled completions that verified, before and after GRPO. The red curve is
        what the KL-regularised optimum reaches from each Q; where Q = 0 it predicts no gain.{" "}
        {novel === 0 ? "No item went from never solved to solved." : `${novel} item${novel === 1 ? "" : "s"} went from never solved to solved (novel solves).`}
      </figcaption>
    </figure>
  );
}
