// Runs a study's runs offline, one after another in this process (or N at a time in child
// processes with `parallel`), each writing
// DIR/runs/<preset>/<seed>/results.json. A run whose results.json is present and valid is
// skipped, so an interrupted study resumes where it stopped. One progress line per run per
// phase (and a heartbeat line in long phases), with the run's ETA and the study's running total.
import { fork } from "node:child_process";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import type { Recipe } from "@transcend/protocol";
import type { BackendName } from "../backend";
import { type ProgressEvent, RESULTS_FORMAT, type RunPhase, type RunResults, runTrainingJob } from "../training/job";
import type { RunProcessMessage, RunRequest } from "./run-process";
import type { PlannedRun, StudyPlan } from "./study";

export const RESULTS_FILE = "results.json";

/** Why a results.json does not count as a finished run, or undefined when it does. */
export function invalidResults(value: unknown, run: { slug: string; seed: number; recipe: Recipe; evalSplits: readonly string[] }): string | undefined {
  if (typeof value !== "object" || value === null) return "not a JSON object";
  const results = value as Partial<RunResults>;
  if (results.format !== RESULTS_FORMAT) return `format is ${String(results.format)}, expected ${RESULTS_FORMAT}`;
  if (results.variant?.slug !== run.slug) return `it is a run of ${String(results.variant?.slug)}`;
  if (results.seed !== run.seed) return `it is seed ${String(results.seed)}`;
  if (!isDeepStrictEqual(results.recipe, run.recipe)) return "it was made with another recipe";
  for (const split of run.evalSplits) {
    const r = results.evaluation?.[split];
    if (!r?.base?.scores || !r.final?.scores || !r.comparison) return `split ${split} has no evaluation`;
  }
  return undefined;
}

/** The run's results when its results.json is present and valid for this plan. */
export async function readFinishedRun(run: PlannedRun, recipe: Recipe): Promise<RunResults | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(run.dir, RESULTS_FILE), "utf8");
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const why = invalidResults(value, { slug: run.preset.slug, seed: run.seed, recipe, evalSplits: run.preset.variant.evalSplits });
  return why === undefined ? (value as RunResults) : undefined;
}

/** Written next to a file and renamed over it, so a killed run never leaves a half-written results.json. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

export interface ExecuteOptions {
  backend?: BackendName | "auto";
  /** Origin checkpoint cache; `false` turns it off. */
  originCacheDir?: string | false;
  signal?: AbortSignal;
  /** Where progress lines go (stderr in the CLI). */
  log: (line: string) => void;
  /** Seconds between heartbeat lines inside a long phase. */
  heartbeatSeconds?: number;
  /** Runs at once, each in a child process when more than 1 (the wasm engine uses one core). */
  parallel?: number;
}

export interface ExecuteSummary {
  ran: number;
  skipped: number;
  failed: { slug: string; seed: number; error: string }[];
  seconds: number;
}

// Share of a run's time in each phase, before a run of this study has been timed
// (measured on a 2-core CPU: pretraining dominates, rollouts most of the rest).
const DEFAULT_PHASE_SHARE: Record<RunPhase, number> = { pretraining: 0.75, "evaluating-base": 0.03, grpo: 0.19, "evaluating-final": 0.03 };
const PHASES: readonly RunPhase[] = ["pretraining", "evaluating-base", "grpo", "evaluating-final"];

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Runs one planned run to its results, reporting progress; rejects on abort or failure. */
type RunExecutor = (run: PlannedRun, recipe: Recipe, onProgress: (event: ProgressEvent) => void, signal?: AbortSignal) => Promise<RunResults>;

function inThisProcess(options: ExecuteOptions): RunExecutor {
  return (run, recipe, onProgress, signal) =>
    runTrainingJob({
      variant: run.preset.variant,
      recipe,
      seed: run.seed,
      backend: options.backend ?? "auto",
      signal,
      originCacheDir: options.originCacheDir,
      onProgress,
    });
}

const RUN_PROCESS_ENTRY = fileURLToPath(new URL("./run-process-entry.mjs", import.meta.url));

/** Each run in a child process of its own, so several use several cores. */
function inChildProcesses(options: ExecuteOptions): RunExecutor {
  return (run, recipe, onProgress, signal) =>
    new Promise<RunResults>((resolve, reject) => {
      // No inherited loader flags (vitest's, say): the entry registers its own.
      // The runs already share the cores between them: no rollout worker thread on top,
      // unless asked for (training/rollout-pool.ts).
      const env = { ...process.env, TRANSCEND_ROLLOUT_THREADS: process.env.TRANSCEND_ROLLOUT_THREADS ?? "1" };
      const child = fork(RUN_PROCESS_ENTRY, [], { execArgv: [], env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        outcome();
      };
      const onAbort = () => {
        child.kill("SIGTERM");
        settle(() => reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted")));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      child.on("message", (message: RunProcessMessage) => {
        if (message.type === "progress") onProgress(message.event);
        else if (message.type === "finished") settle(() => resolve(message.results));
        else settle(() => reject(new Error(message.error)));
      });
      child.on("error", (error) => settle(() => reject(error)));
      child.on("exit", (code, exitSignal) => settle(() => reject(new Error(`run process exited (${exitSignal ?? `code ${code}`}) before its results`))));
      const request: RunRequest = {
        variant: run.preset.variant,
        recipe,
        seed: run.seed,
        backend: options.backend ?? "auto",
        originCacheDir: options.originCacheDir,
      };
      child.send(request);
    });
}

export const MAX_PARALLEL = 16;

export async function executeStudy(plan: StudyPlan, options: ExecuteOptions): Promise<ExecuteSummary> {
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) throw new RangeError(`parallel must be an integer in 1..${MAX_PARALLEL}, got ${parallel}`);
  const execute = parallel === 1 ? inThisProcess(options) : inChildProcesses(options);
  const started = performance.now();
  const total = plan.runs.length;
  const width = String(total).length;
  const summary: ExecuteSummary = { ran: 0, skipped: 0, failed: [], seconds: 0 };
  const runSeconds: number[] = [];
  let phaseShare = DEFAULT_PHASE_SHARE;
  let done = 0;
  // Read up front, so the study's ETA counts only the runs still to do.
  const finished = await Promise.all(plan.runs.map(async (run) => (await readFinishedRun(run, plan.recipe)) !== undefined));
  let notStarted = finished.filter((f) => !f).length;
  const labelOf = (index: number, run: PlannedRun) => `[${String(index + 1).padStart(width)}/${total}] ${run.preset.slug} seed ${run.seed}`;
  for (const [index, run] of plan.runs.entries()) {
    if (!finished[index]) continue;
    done += 1;
    summary.skipped += 1;
    options.log(`${labelOf(index, run)} · finished earlier, skipped · ${done}/${total} done`);
  }

  const runOne = async (index: number, run: PlannedRun): Promise<void> => {
    const label = labelOf(index, run);
    const runStarted = performance.now();
    let phase: RunPhase = "pretraining";
    let phaseFraction = 0;
    let lastLine = 0;
    const progress = (): { runEta: number; studyEta: number } => {
      const before = PHASES.slice(0, PHASES.indexOf(phase)).reduce((sum, p) => sum + phaseShare[p], 0);
      const fraction = Math.min(0.999, before + phaseShare[phase] * phaseFraction);
      const elapsed = (performance.now() - runStarted) / 1000;
      const runTotal = runSeconds.length > 0 ? mean(runSeconds) : fraction > 0.02 ? elapsed / fraction : Number.NaN;
      const runEta = fraction > 0.02 ? (elapsed * (1 - fraction)) / fraction : Math.max(0, runTotal - elapsed);
      return { runEta, studyEta: runEta + (notStarted * runTotal) / parallel };
    };
    const line = (what: string) => {
      lastLine = performance.now();
      const { runEta, studyEta } = progress();
      options.log(`${label} · ${what} · run ETA ${formatDuration(runEta)} · ${done}/${total} done, study ETA ${formatDuration(studyEta)}`);
    };
    const onProgress = (event: ProgressEvent) => {
      switch (event.type) {
        case "phase-started":
          phase = event.phase;
          phaseFraction = 0;
          line(event.phase);
          return;
        case "pretraining-step":
        case "grpo-step":
          phaseFraction = event.report.step / Math.max(1, event.report.totalSteps);
          break;
        case "evaluation-progress":
          phaseFraction = event.fraction;
          break;
        default:
          return;
      }
      if (performance.now() - lastLine >= 1000 * (options.heartbeatSeconds ?? 30)) line(`${phase} ${Math.round(100 * phaseFraction)}%`);
    };

    let results: RunResults;
    try {
      results = await execute(run, plan.recipe, onProgress, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      summary.failed.push({ slug: run.preset.slug, seed: run.seed, error: message });
      options.log(`${label} · FAILED: ${message}`);
      return;
    }
    await mkdir(run.dir, { recursive: true });
    await writeAtomically(path.join(run.dir, RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
    const seconds = (performance.now() - runStarted) / 1000;
    runSeconds.push(seconds);
    if (results.timings.total > 0) {
      phaseShare = Object.fromEntries(PHASES.map((p) => [p, results.timings[p] / results.timings.total])) as Record<RunPhase, number>;
    }
    done += 1;
    summary.ran += 1;
    const splits = Object.entries(results.evaluation)
      .map(([split, r]) => `${split} ${pct(r.base.greedyAccuracy)} → ${pct(r.final.greedyAccuracy)}`)
      .join(", ");
    const studyEta = (notStarted * mean(runSeconds)) / parallel;
    options.log(`${label} · done in ${formatDuration(seconds)} · ${splits} · ${done}/${total} done, study ETA ${formatDuration(studyEta)}`);
  };

  // A pool of `parallel` slots taking the next unfinished run in plan order (seed-major, so a
  // study stopped early still covers every preset).
  const queue = plan.runs.map((run, index) => ({ run, index })).filter(({ index }) => !finished[index]);
  const slot = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      options.signal?.throwIfAborted();
      notStarted -= 1;
      await runOne(next.index, next.run);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, queue.length)) }, slot));
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
