// The report's four figures as Vega-Lite specs, rendered headless to SVG by Vega and to PNG
// by resvg (a prebuilt binary from npm: no browser, no network at run time).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { type ItemPoint, optimalCorrectMass, type RunSplitPoint, type SplitAggregate } from "./aggregate";

export interface Figure {
  /** File name without extension; the report links `<name>.svg` and `<name>.png`. */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

// DejaVu ships with Debian and with most Linux desktops; resvg falls back to any sans face.
const FONT = "DejaVu Sans";
const CONFIG = {
  font: FONT,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
} as const;

const PHASE_COLORS = { domain: ["base", "GRPO"], range: ["#8c8c8c", "#d1495b"] };

/** Figure 1: per axis, ID and OOD greedy accuracy base → GRPO with 95% CIs, zero vs partial. */
export function accuracyFigure(aggregates: readonly SplitAggregate[]): Figure {
  const values = aggregates.flatMap((a) =>
    (["base", "GRPO"] as const).map((phase) => {
      const m = phase === "base" ? a.base.greedyAccuracy : a.final.greedyAccuracy;
      return {
        axis: a.axis,
        overlap: a.overlap,
        split: a.splitAxis === "id" ? "ID" : "OOD",
        phase,
        accuracy: m.mean,
        // A few seeds' t interval can pass 0 or 1; an accuracy cannot.
        lower: Math.max(0, m.lower ?? m.mean),
        upper: Math.min(1, m.upper ?? m.mean),
      };
    }),
  );
  return {
    name: "accuracy",
    title: "Greedy accuracy, base → GRPO, mean and 95% CI over seeds",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config: CONFIG,
      data: { values },
      facet: {
        column: { field: "axis", type: "nominal", title: "OOD axis", sort: ["depth", "length", "representation", "composition"] },
        row: { field: "overlap", type: "nominal", title: "pretraining overlap", sort: ["zero", "partial"] },
      },
      spec: {
        width: 120,
        height: 120,
        encoding: {
          x: { field: "split", type: "nominal", title: null, sort: ["ID", "OOD"], axis: { labelAngle: 0 } },
          xOffset: { field: "phase", type: "nominal", sort: ["base", "GRPO"] },
          color: { field: "phase", type: "nominal", title: "model", scale: PHASE_COLORS, sort: ["base", "GRPO"] },
        },
        layer: [
          { mark: { type: "bar" }, encoding: { y: { field: "accuracy", type: "quantitative", title: "greedy accuracy", scale: { domain: [0, 1] } } } },
          {
            mark: { type: "rule", color: "black" },
            encoding: { y: { field: "lower", type: "quantitative" }, y2: { field: "upper" }, color: { value: "black" } },
          },
        ],
      },
    },
  };
}

/** Figure 2: GRPO gain against base accuracy, one point per run and split. */
export function saturationFigure(runSplits: readonly RunSplitPoint[]): Figure {
  const values = runSplits.map((p) => ({
    experiment: `${p.axis} · ${p.overlap}`,
    split: p.splitAxis === "id" ? "ID" : `OOD (${p.splitAxis})`,
    base: p.baseAccuracy,
    gain: p.gain,
    seed: p.seed,
  }));
  return {
    name: "saturation",
    title: "GRPO gain against base accuracy, one point per run and split",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config: CONFIG,
      width: 420,
      height: 300,
      layer: [
        { data: { values: [{ y: 0 }] }, mark: { type: "rule", color: "#999", strokeDash: [4, 4] }, encoding: { y: { field: "y", type: "quantitative" } } },
        {
          data: { values },
          mark: { type: "point", filled: true, size: 60, opacity: 0.75 },
          encoding: {
            x: { field: "base", type: "quantitative", title: "base greedy accuracy", scale: { domain: [0, 1] } },
            y: { field: "gain", type: "quantitative", title: "GRPO gain (greedy accuracy)" },
            color: { field: "split", type: "nominal", title: "split" },
            shape: { field: "experiment", type: "nominal", title: "experiment" },
            tooltip: [{ field: "experiment" }, { field: "split" }, { field: "seed" }, { field: "base" }, { field: "gain" }],
          },
        },
      ],
    },
  };
}

/** Figure 3: per-item correct mass, base against GRPO, with the theory's optimum Q* for β. */
export function correctMassFigure(items: readonly ItemPoint[], beta: number): Figure {
  const counts = new Map<string, { split: string; base: number; grpo: number; items: number }>();
  // Items with the same (Q, Q') on the same split are drawn once, sized by how many there are.
  for (const item of items) {
    const split = item.splitAxis === "id" ? "ID" : "OOD";
    const key = `${split}\u0000${item.baseMass}\u0000${item.finalMass}`;
    const entry = counts.get(key);
    if (entry) entry.items += 1;
    else counts.set(key, { split, base: item.baseMass, grpo: item.finalMass, items: 1 });
  }
  // Q* rises from 0 steeply when 1/β is large; a log-spaced grid near 0 draws that rise.
  const grid = [0, ...Array.from({ length: 60 }, (_, i) => 10 ** (-12 + (12 * i) / 59)), ...Array.from({ length: 50 }, (_, i) => (i + 1) / 50)].sort((a, b) => a - b);
  // At the paper's β the optimum is nearly a step (any Q > 0 goes to ≈ 1), hidden against the
  // axes; the β = 1 curve shows the shape the theory predicts for a weaker tilt.
  const curves = beta === 1 ? [beta] : [beta, 1];
  const theory = curves.flatMap((b) => grid.map((q) => ({ base: q, grpo: optimalCorrectMass(q, b), curve: `Q* (β = ${b})` })));
  const identity = [0, 1].map((q) => ({ base: q, grpo: q, curve: "Q* = Q (no change)" }));
  return {
    name: "correct-mass",
    title: `Per-item correct mass, base Q against GRPO, with the KL-regularised optimum Q* (β = ${beta})`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config: CONFIG,
      width: 360,
      height: 360,
      layer: [
        {
          data: { values: [...theory, ...identity] },
          mark: { type: "line", clip: true },
          encoding: {
            x: { field: "base", type: "quantitative" },
            y: { field: "grpo", type: "quantitative" },
            strokeDash: { field: "curve", type: "nominal", title: "theory" },
            color: { value: "#333" },
          },
        },
        {
          data: { values: [...counts.values()] },
          mark: { type: "circle", opacity: 0.55 },
          encoding: {
            x: { field: "base", type: "quantitative", title: "base correct mass Q (c/n)", scale: { domain: [0, 1] } },
            y: { field: "grpo", type: "quantitative", title: "GRPO correct mass", scale: { domain: [0, 1] } },
            size: { field: "items", type: "quantitative", title: "items", scale: { type: "sqrt", range: [15, 600] } },
            color: { field: "split", type: "nominal", title: "split", scale: { domain: ["ID", "OOD"], range: ["#30638e", "#d1495b"] } },
          },
        },
      ],
    },
  };
}

/** Figure 4: novel solves per run on each split, mean and 95% CI over seeds. */
export function novelSolvesFigure(aggregates: readonly SplitAggregate[]): Figure {
  const values = aggregates.map((a) => ({
    experiment: `${a.axis} · ${a.overlap}`,
    split: a.splitAxis === "id" ? "ID" : "OOD",
    solves: a.novelSolves.mean,
    lower: Math.max(0, a.novelSolves.lower ?? a.novelSolves.mean),
    upper: a.novelSolves.upper ?? a.novelSolves.mean,
    noise: a.noiseNovelSolves.mean,
  }));
  const order = [...new Set(values.map((v) => v.experiment))];
  return {
    name: "novel-solves",
    title: `Novel solves per run (items the base model never solved), mean and 95% CI; ticks: expected from sampling noise alone`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config: CONFIG,
      data: { values },
      width: 420,
      height: 220,
      encoding: {
        x: { field: "experiment", type: "nominal", title: "experiment (axis · overlap)", sort: order, axis: { labelAngle: -35 } },
        xOffset: { field: "split", type: "nominal", sort: ["ID", "OOD"] },
      },
      layer: [
        {
          mark: "bar",
          encoding: {
            y: { field: "solves", type: "quantitative", title: "novel solves per run" },
            color: { field: "split", type: "nominal", title: "split", scale: { domain: ["ID", "OOD"], range: ["#30638e", "#d1495b"] } },
          },
        },
        { mark: { type: "rule", color: "black" }, encoding: { y: { field: "lower", type: "quantitative" }, y2: { field: "upper" } } },
        // What sampling noise alone would give, were the GRPO model the base model.
        { mark: { type: "tick", color: "black", thickness: 2, size: 14 }, encoding: { y: { field: "noise", type: "quantitative" } } },
      ],
    },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, { background: "white", fitTo: { mode: "zoom", value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: FONT } });
  return resvg.render().asPng();
}

/** Writes `<name>.svg` and `<name>.png` for each figure into `dir`. */
export async function writeFigures(dir: string, figures: readonly Figure[]): Promise<void> {
  for (const figure of figures) {
    const svg = await renderSvg(figure.spec);
    await writeFile(path.join(dir, `${figure.name}.svg`), svg);
    await writeFile(path.join(dir, `${figure.name}.png`), svgToPng(svg));
  }
}
