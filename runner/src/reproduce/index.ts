// The reproduction study (issue #9): run every preset of the paper's four axes at zero and
// partial overlap over N seeds, then write DIR/report.md, DIR/summary.json and the figures.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Recipe, TaskFamilyName } from "@transcend/protocol";
import type { BackendName } from "../backend";
import { UserError } from "../errors";
import type { StudyRun } from "./aggregate";
import { type ExecuteSummary, executeStudy, readFinishedRun } from "./execute";
import { type StudySummary, writeReport } from "./report";
import { runStudyOnServer } from "./server";
import { planStudy, type Scale, type StudyPlan } from "./study";

export { DEFAULT_STUDY_FAMILY, isScale, isStudyFamily, planStudy, SCALES, type Scale, STUDY_FAMILIES, studyRecipe } from "./study";

export interface ReproduceOptions {
  outDir: string;
  scale: Scale;
  seeds: number;
  /** The task family whose presets the study runs (default: mod-arith). */
  family?: TaskFamilyName;
  /** Only these presets (slugs); default: all eight. For tests and partial studies. */
  presets?: readonly string[];
  /** Replaces the scale's recipe (tests cut steps further with it). */
  recipe?: Recipe;
  backend?: BackendName | "auto";
  originCacheDir?: string | false;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Runs at once, each in its own child process when more than 1. */
  parallel?: number;
  /** Write the report from the runs finished so far and run nothing (e.g. while a study runs elsewhere). */
  reportOnly?: boolean;
  /** Submit the runs to this Transcend server and wait for them instead of running them here. */
  server?: { url: string; token: string; pollMs?: number };
}

export interface ReproduceOutcome {
  plan: StudyPlan;
  execution: ExecuteSummary;
  summary: StudySummary;
}

const STUDY_FILE = "study.json";

/**
 * One DIR holds one recipe's study: resuming with another scale would mix runs of two
 * recipes in one report, so it is refused rather than silently redone.
 */
async function claimStudyDir(plan: StudyPlan, outDir: string): Promise<void> {
  const file = path.join(outDir, STUDY_FILE);
  let existing: { scale?: string; family?: string; recipe?: unknown } | undefined;
  try {
    existing = JSON.parse(await readFile(file, "utf8")) as { scale?: string; family?: string; recipe?: unknown };
  } catch {
    existing = undefined;
  }
  if (existing && (existing.family !== plan.family || !isDeepStrictEqual(existing.recipe, plan.recipe)))
    throw new UserError(
      `${outDir} holds a study of ${existing.family ?? "?"} at scale ${existing.scale ?? "?"} with another recipe; choose another --out or delete ${file}`,
    );
  await writeFile(file, `${JSON.stringify({ scale: plan.scale, family: plan.family, recipe: plan.recipe }, null, 2)}\n`);
}

export async function readStudyRuns(plan: StudyPlan): Promise<StudyRun[]> {
  const runs: StudyRun[] = [];
  for (const run of plan.runs) {
    const results = await readFinishedRun(run, plan.recipe);
    if (results) runs.push({ slug: run.preset.slug, axis: run.preset.axis, overlap: run.preset.overlap, seed: run.seed, results });
  }
  return runs;
}

async function executeOnServer(
  plan: StudyPlan,
  outDir: string,
  server: NonNullable<ReproduceOptions["server"]>,
  options: ReproduceOptions,
): Promise<ExecuteSummary> {
  const started = performance.now();
  const outcome = await runStudyOnServer(plan, {
    server: server.url,
    token: server.token,
    outDir,
    log: options.log,
    signal: options.signal,
    pollMs: server.pollMs,
  });
  for (const f of outcome.failed) options.log(`reproduce: ${f.slug} seed ${f.seed} ${f.state} on the server (run ${f.runId}); the report leaves it out`);
  return {
    ran: outcome.graded,
    skipped: 0,
    failed: outcome.failed.map((f) => ({ slug: f.slug, seed: f.seed, error: `${f.state} on the server (run ${f.runId})` })),
    seconds: (performance.now() - started) / 1000,
  };
}

export async function reproduce(options: ReproduceOptions): Promise<ReproduceOutcome> {
  const outDir = path.resolve(options.outDir);
  let plan: StudyPlan;
  try {
    plan = planStudy({ outDir, scale: options.scale, seeds: options.seeds, family: options.family, presets: options.presets, recipe: options.recipe });
  } catch (error) {
    if (error instanceof RangeError) throw new UserError(error.message);
    throw error;
  }
  await mkdir(outDir, { recursive: true });
  await claimStudyDir(plan, outDir);
  options.log(
    `reproduce: ${plan.family} · ${plan.presets.length} task variants × ${plan.seeds.length} seeds = ${plan.runs.length} runs at scale ${plan.scale} → ${outDir}`,
  );
  const execution: ExecuteSummary = options.reportOnly
    ? { ran: 0, skipped: 0, failed: [], seconds: 0 }
    : options.server
      ? await executeOnServer(plan, outDir, options.server, options)
      : await executeStudy(plan, {
        backend: options.backend,
        originCacheDir: options.originCacheDir,
        signal: options.signal,
        log: options.log,
        parallel: options.parallel,
      });
  const runs = await readStudyRuns(plan);
  const summary = await writeReport(plan, runs, outDir);
  options.log(
    `reproduce: ${execution.ran} ran, ${execution.skipped} skipped, ${execution.failed.length} failed in ${Math.round(execution.seconds)} s; ` +
      `wrote ${path.join(outDir, "report.md")}`,
  );
  return { plan, execution, summary };
}
