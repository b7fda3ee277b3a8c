// `transcend-runner train`: one run offline, no server. Pretrains (or reuses a cached
// origin), evaluates the base model, GRPO-trains, evaluates again, and writes
// DIR/results.json, the checkpoints and the completions.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { findRecipePreset, type Recipe, recipeSchema, type TaskVariant, taskVariantSchema } from "@transcend/protocol";
import { findPreset } from "@transcend/tasks";
import { isBackendName } from "../backend";
import { UserError } from "../errors";
import { type ProgressEvent, type RunPhase, type RunResults, runTrainingJob } from "../training/job";

interface TrainOptions {
  variant: string;
  recipe: string;
  seed?: string;
  out: string;
  backend: string;
  json?: boolean;
  cache: string | boolean;
}

export function registerTrainCommand(program: Command): void {
  program
    .command("train")
    .description("Run pretraining, base evaluation, GRPO and final evaluation offline, and write DIR/results.json.")
    .requiredOption("--variant <slug|file>", "a preset task variant's slug, or a JSON file with a task variant")
    .requiredOption("--recipe <preset|file>", "tiny, small or paper, or a JSON file with a recipe")
    .option("--seed <n>", "the run's seed (default: the recipe's first seed)")
    .requiredOption("--out <dir>", "where results.json, checkpoints/ and completions/ are written")
    .option("--backend <name>", "auto, tfjs-node-gpu, tfjs-node, wasm or cpu", "auto")
    .option("--cache <dir>", "origin checkpoint cache (default: ~/.cache/transcend-runner)")
    .option("--no-cache", "always pretrain, never reuse or store an origin")
    .option("--json", "print only results.json on stdout")
    .action(async (options: TrainOptions) => {
      await train(options);
    });
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UserError(`${what} "${file}" is neither a preset nor a readable file`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${what} file ${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describeIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");
}

export async function loadVariant(ref: string): Promise<TaskVariant> {
  const preset = findPreset(ref);
  if (preset) return preset;
  const parsed = taskVariantSchema.safeParse(await readJsonFile(ref, "variant"));
  if (!parsed.success) throw new UserError(`variant ${ref} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export async function loadRecipe(ref: string): Promise<Recipe> {
  const preset = findRecipePreset(ref);
  if (preset) return preset;
  const parsed = recipeSchema.safeParse(await readJsonFile(ref, "recipe"));
  if (!parsed.success) throw new UserError(`recipe ${ref} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

const PHASE_LABELS: Record<RunPhase, string> = {
  pretraining: "pretraining     ",
  "evaluating-base": "evaluating base ",
  grpo: "GRPO            ",
  "evaluating-final": "evaluating GRPO ",
};

/** How progress is shown: bars on a terminal, a plain line every few seconds in a log file. */
type ProgressMode = "bars" | "lines" | "off";

// Often enough to see a long phase move in a log, rarely enough not to flood it.
const LINE_INTERVAL_MS = 10_000;

/** One progress bar per phase on stderr: steps/s, the phase's loss or reward, ETA. */
class PhaseBars {
  private bar: cliProgress.SingleBar | undefined;
  private started = 0;
  private phase: RunPhase | undefined;
  private total = 0;
  private unit = "steps";
  private lastLine = 0;

  constructor(private readonly mode: ProgressMode) {}

  start(phase: RunPhase, total: number, unit: string): void {
    this.stop();
    if (this.mode === "off") return;
    this.started = performance.now();
    this.lastLine = this.started;
    this.phase = phase;
    this.total = total;
    this.unit = unit;
    if (this.mode === "lines") return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${PHASE_LABELS[phase]} |{bar}| {value}/{total} ${unit} | {speed} | {metric} | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { speed: "", metric: "" });
  }

  update(value: number, metric: string, unit = "steps"): void {
    const now = performance.now();
    const seconds = (now - this.started) / 1000;
    const speed = seconds > 0 ? `${(value / seconds).toFixed(2)} ${unit}/s` : "";
    if (this.bar) this.bar.update(value, { speed, metric });
    else if (this.mode === "lines" && this.phase && now - this.lastLine >= LINE_INTERVAL_MS) {
      this.lastLine = now;
      const eta = value > 0 ? Math.round((seconds * (this.total - value)) / value) : undefined;
      const label = PHASE_LABELS[this.phase].trim();
      process.stderr.write(`${label}: ${value}/${this.total} ${this.unit} · ${speed} · ${metric}${eta === undefined ? "" : ` · ETA ${eta} s`}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.phase = undefined;
  }
}

async function train(options: TrainOptions): Promise<void> {
  if (!isBackendName(options.backend)) throw new UserError(`unknown backend "${options.backend}"`);
  const variant = await loadVariant(options.variant);
  const recipe = await loadRecipe(options.recipe);
  const seed = options.seed === undefined ? (recipe.seeds[0] ?? 0) : Number(options.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed must be a non-negative integer, got ${options.seed}`);
  const outDir = path.resolve(options.out);
  await mkdir(outDir, { recursive: true });

  const bars = new PhaseBars(options.json ? "off" : process.stderr.isTTY === true ? "bars" : "lines");
  const log = (line: string) => {
    if (!options.json) process.stderr.write(`${line}\n`);
  };
  const onProgress = (event: ProgressEvent) => {
    switch (event.type) {
      case "phase-started":
        if (event.phase === "pretraining") bars.start(event.phase, recipe.pretraining.steps, "steps");
        else if (event.phase === "grpo") bars.start(event.phase, recipe.grpo.steps, "steps");
        else bars.start(event.phase, 100, "%");
        break;
      case "pretraining-step":
        bars.update(event.report.step, `loss ${event.report.loss.toFixed(3)}`);
        break;
      case "grpo-step":
        bars.update(event.report.step, `reward ${event.report.meanReward.toFixed(3)} kl ${event.report.kl.toFixed(4)}`);
        break;
      case "evaluation-progress":
        bars.update(Math.round(100 * event.fraction), `split ${event.split}`, "%");
        break;
      case "phase-finished":
        bars.stop();
        log(`${PHASE_LABELS[event.phase].trim()}: done in ${event.seconds.toFixed(1)} s`);
        break;
      case "origin-reused":
        log(`reusing cached origin ${event.sha256.slice(0, 12)} (key ${event.key.slice(0, 12)})`);
        break;
      case "checkpoint":
        break;
    }
  };

  const controller = new AbortController();
  const onSignal = () => controller.abort(new UserError("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const completionsDir = path.join(outDir, "completions");
  let results: RunResults;
  try {
    results = await runTrainingJob({
      variant,
      recipe,
      seed,
      backend: options.backend,
      signal: controller.signal,
      onProgress,
      checkpointDir: path.join(outDir, "checkpoints"),
      originCacheDir: options.cache === false ? false : typeof options.cache === "string" ? path.resolve(options.cache) : undefined,
      onCompletions: async (phase, split, completions) => {
        await mkdir(completionsDir, { recursive: true });
        await writeFile(path.join(completionsDir, `${phase}-${split}.json`), JSON.stringify(completions));
      },
    });
  } catch (error) {
    bars.stop();
    if (controller.signal.aborted) throw new UserError("interrupted: no results written");
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const text = JSON.stringify(results, null, 2);
  await writeFile(path.join(outDir, "results.json"), `${text}\n`);
  if (options.json) {
    process.stdout.write(`${text}\n`);
    return;
  }
  process.stdout.write(`${summaryTable(results)}\nwrote ${path.join(outDir, "results.json")}\n`);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const signedPct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;

export function summaryTable(results: RunResults): string {
  const lines: string[] = [];
  lines.push(
    `${results.variant.slug} · recipe ${results.recipe.name ?? "(custom)"} · seed ${results.seed} · ${results.engine.label} · ` +
      `${results.model.parameters.toLocaleString("en-US")} parameters`,
  );
  lines.push(
    `pretraining loss ${results.pretraining.initialLoss.toFixed(3)} → ${results.pretraining.finalLoss.toFixed(3)}` +
      `${results.origin.reused ? " (cached origin)" : ""} · GRPO reward ${results.grpo.initialReward.toFixed(3)} → ${results.grpo.finalReward.toFixed(3)}`,
  );
  const kValues = Object.keys(Object.values(results.evaluation)[0]?.base.passAtK ?? {});
  const header = ["split", "greedy base → GRPO (gain)", "correct mass base → GRPO", ...kValues.map((k) => `pass@${k} base → GRPO`), "origin ceiling", "novel solves"];
  const rows = Object.entries(results.evaluation).map(([split, r]) => [
    split,
    `${pct(r.base.greedyAccuracy)} → ${pct(r.final.greedyAccuracy)} (${signedPct(r.comparison.gain.greedyAccuracy)})`,
    `${r.base.meanCorrectMass.toFixed(3)} → ${r.final.meanCorrectMass.toFixed(3)}`,
    ...kValues.map((k) => `${pct(r.base.passAtK[k] ?? 0)} → ${pct(r.final.passAtK[k] ?? 0)}`),
    pct(r.comparison.originCeiling),
    `${r.comparison.novelSolves} / ${r.base.items}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  lines.push("", format(header), format(widths.map((w) => "-".repeat(w))), ...rows.map(format));
  const t = results.timings;
  lines.push(
    "",
    `time: pretraining ${t.pretraining.toFixed(1)} s · base evaluation ${t["evaluating-base"].toFixed(1)} s · GRPO ${t.grpo.toFixed(1)} s · ` +
      `final evaluation ${t["evaluating-final"].toFixed(1)} s · total ${t.total.toFixed(1)} s`,
  );
  return lines.join("\n");
}
