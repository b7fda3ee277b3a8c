// DIR/report.md, DIR/summary.json and the figures, from the runs a study finished.
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { MeanWithInterval } from "@transcend/tasks";
import { aggregateSplits, itemPoints, type RunSplitPoint, runSplitPoints, type SplitAggregate, type StudyRun } from "./aggregate";
import { type ClaimResult, evaluateClaims, formatGain } from "./claims";
import { accuracyFigure, correctMassFigure, type Figure, novelSolvesFigure, saturationFigure, writeFigures } from "./figures";
import { RESULTS_FILE } from "./execute";
import type { StudyPlan } from "./study";

export const SUMMARY_FORMAT = "transcend-reproduce-summary/1";

export interface StudySummary {
  format: typeof SUMMARY_FORMAT;
  scale: StudyPlan["scale"];
  family: StudyPlan["family"];
  recipe: StudyPlan["recipe"];
  seeds: number[];
  presets: string[];
  runsPlanned: number;
  runsFinished: number;
  /** Runs of the plan with no valid results.json: the report is partial when any are listed. */
  missing: { slug: string; seed: number }[];
  engine: string[];
  /** Sum of the finished runs' wall-clock seconds (timings.total). */
  computeSeconds: number;
  aggregates: SplitAggregate[];
  runs: RunSplitPoint[];
  claims: ClaimResult[];
}

export function summarizeStudy(plan: StudyPlan, runs: readonly StudyRun[]): StudySummary {
  const finished = new Set(runs.map((r) => `${r.slug}\u0000${r.seed}`));
  const runSplits = runSplitPoints(runs);
  const aggregates = aggregateSplits(runs);
  return {
    format: SUMMARY_FORMAT,
    scale: plan.scale,
    family: plan.family,
    recipe: plan.recipe,
    seeds: plan.seeds,
    presets: plan.presets.map((p) => p.slug),
    runsPlanned: plan.runs.length,
    runsFinished: runs.length,
    missing: plan.runs.filter((r) => !finished.has(`${r.preset.slug}\u0000${r.seed}`)).map((r) => ({ slug: r.preset.slug, seed: r.seed })),
    engine: [...new Set(runs.map((r) => `${r.results.engine.label} (${r.results.engine.matmul}, ${r.results.engine.threads} threads)`))],
    computeSeconds: runs.reduce((sum, r) => sum + r.results.timings.total, 0),
    aggregates,
    runs: runSplits,
    claims: evaluateClaims(aggregates, runSplits),
  };
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/**
 * "45.3% [38.1, 52.5]": a mean accuracy with its 95% CI in percent. The t interval of a few
 * seeds can reach past 0% or 100%; shown clipped to what a share can be (summary.json keeps it raw).
 */
export function formatShare(m: MeanWithInterval): string {
  return m.lower === null || m.upper === null
    ? pct(m.mean)
    : `${pct(m.mean)} [${(100 * clamp01(m.lower)).toFixed(1)}, ${(100 * clamp01(m.upper)).toFixed(1)}]`;
}

function table(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  return [
    `| ${header.map(escape).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

export function studyFigures(summary: StudySummary, runs: readonly StudyRun[]): Figure[] {
  return [
    accuracyFigure(summary.aggregates),
    saturationFigure(summary.runs),
    correctMassFigure(itemPoints(runs), summary.recipe.grpo.klBeta),
    novelSolvesFigure(summary.aggregates),
  ];
}

export function renderReport(summary: StudySummary, figures: readonly Figure[], options: { generatedAt: Date }): string {
  const r = summary.recipe;
  const partial = summary.missing.length > 0;
  const lines: string[] = [];
  lines.push(`# Reproduction: can GRPO help a model transcend its pretraining origin?`, "");
  if (partial)
    lines.push(
      `> **Partial study**: ${summary.runsFinished} of ${summary.runsPlanned} runs finished. Missing: ` +
        `${summary.missing.map((m) => `${m.slug} seed ${m.seed}`).join(", ")}. Numbers below use only the finished runs.`,
      "",
    );
  lines.push(
    `Task family **${summary.family}** · scale **${summary.scale}** · recipe \`${r.name ?? "custom"}\` · ${summary.presets.length} task variants × seeds ${summary.seeds.join(", ")} · ` +
      `${summary.runsFinished}/${summary.runsPlanned} runs · ${(summary.computeSeconds / 60).toFixed(1)} min of run time · ` +
      `engine ${summary.engine.join("; ") || "(none)"} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? "unknown"}) · ` +
      `generated ${options.generatedAt.toISOString()}.`,
    "",
    `Model: ${r.model.layers} layers × ${r.model.dModel} wide, ${r.model.heads} heads, context ${r.model.contextLength}, ${r.model.positionalEncoding} positions. ` +
      `Pretraining: ${r.pretraining.steps} steps × ${r.pretraining.batchSize} sequences. ` +
      `GRPO: ${r.grpo.steps} steps × ${r.grpo.promptsPerStep} prompts × ${r.grpo.groupSize} completions, β = ${r.grpo.klBeta}, ε = ${r.grpo.clipEpsilon}, lr ${r.grpo.learningRate}. ` +
      `Evaluation: ${r.evaluation.itemsPerSplit ?? "the variant's"} items per split, greedy + n = ${r.evaluation.samplesPerItem} samples at temperature ${r.evaluation.temperature}.`,
    "",
  );

  lines.push(`## The paper's claims`, "");
  lines.push(
    table(
      ["claim", "verdict", "by how much", "decision rule"],
      summary.claims.map((c) => [`(${c.id}) ${c.claim}`, `**${c.verdict}**`, c.evidence, c.rule]),
    ),
    "",
    `Gains are GRPO minus base greedy accuracy on the same held-out items, in percentage points, mean over seeds with a 95% Student-t ` +
      `interval in brackets. With one seed there is no interval; a gain within ±2 points then counts as none.`,
    "",
  );

  lines.push(`## Results per experiment`, "");
  lines.push(
    table(
      ["experiment", "split", "seeds", "base greedy", "GRPO greedy", "gain", "correct mass base → GRPO", "origin ceiling (pass@n)", "novel solves / run", "of which noise (expected)"],
      summary.aggregates.map((a) => [
        `${a.axis} · ${a.overlap}`,
        a.splitAxis === "id" ? "ID" : `OOD (${a.splitAxis})`,
        String(a.seeds.length),
        formatShare(a.base.greedyAccuracy),
        formatShare(a.final.greedyAccuracy),
        formatGain(a.gain.greedyAccuracy),
        `${a.base.meanCorrectMass.mean.toFixed(3)} → ${a.final.meanCorrectMass.mean.toFixed(3)}`,
        formatShare(a.base.passAtN),
        `${a.novelSolves.mean.toFixed(2)} of ${a.itemsPerRun}`,
        a.noiseNovelSolves.mean.toFixed(2),
      ]),
    ),
    "",
  );

  lines.push(`## Figures`, "");
  for (const [i, figure] of figures.entries()) {
    lines.push(`**Figure ${i + 1}.** ${figure.title} ([SVG](${figure.name}.svg))`, "", `![${figure.title}](${figure.name}.png)`, "");
  }

  lines.push(`## Runs`, "");
  lines.push(
    table(
      ["task variant", "seed", "split", "base greedy", "GRPO greedy", "gain", "novel solves", "results"],
      summary.runs.map((p) => [
        p.slug,
        String(p.seed),
        p.split,
        pct(p.baseAccuracy),
        pct(p.finalAccuracy),
        formatGain({ n: 1, mean: p.gain, sd: null, halfWidth: null, lower: null, upper: null, confidence: 0.95 }).replace(" (one seed)", ""),
        `${p.novelSolves} of ${p.items}`,
        `[results.json](${path.posix.join("runs", p.slug, String(p.seed), RESULTS_FILE)})`,
      ]),
    ),
    "",
  );
  lines.push(
    `## How this was made`,
    "",
    "`transcend-runner reproduce` ran each (task variant, seed) with the recipe below and read every run's `results.json`; " +
      "`summary.json` beside this file holds every number above. The recipe:",
    "",
    "```json",
    JSON.stringify(r, null, 2),
    "```",
    "",
  );
  return lines.join("\n");
}

/** Writes report.md, summary.json and the figures into `outDir`. */
export async function writeReport(plan: StudyPlan, runs: readonly StudyRun[], outDir: string, generatedAt = new Date()): Promise<StudySummary> {
  const summary = summarizeStudy(plan, runs);
  await writeFile(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  if (runs.length === 0) {
    await writeFile(path.join(outDir, "report.md"), "# Reproduction\n\nNo run has finished yet.\n");
    return summary;
  }
  const figures = studyFigures(summary, runs);
  await writeFigures(outDir, figures);
  await writeFile(path.join(outDir, "report.md"), renderReport(summary, figures, { generatedAt }));
  return summary;
}
