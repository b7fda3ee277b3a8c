// `transcend-runner reproduce`: the paper's four-axis study in one command (issue #9).
// Offline by default: every run on this machine, results under DIR/runs/, DIR/report.md at the end.
import type { Command } from "commander";
import { isBackendName } from "../backend";
import { UserError } from "../errors";
import { DEFAULT_STUDY_FAMILY, isScale, isStudyFamily, reproduce, SCALES, STUDY_FAMILIES } from "../reproduce";
import { MAX_PARALLEL } from "../reproduce/execute";
import { MAX_SEEDS } from "../reproduce/study";

interface ReproduceCliOptions {
  out: string;
  seeds: string;
  scale: string;
  server?: string;
  token?: string;
  backend: string;
  presets?: string;
  family: string;
  parallel: string;
  reportOnly?: boolean;
  cache: string | boolean;
}

export function registerReproduceCommand(program: Command): void {
  program
    .command("reproduce")
    .description(
      "Run the paper's study — every axis at zero and partial pretraining overlap, the paper recipe, N seeds — " +
        "and write DIR/report.md with figures and a verdict on each of the paper's claims. Resumable.",
    )
    .option("--out <dir>", "where runs/, report.md, summary.json and the figures are written (.runs/ is git-ignored)", ".runs/reproduce")
    .option("--seeds <n>", "seeds per task variant", "3")
    .option("--scale <scale>", `${SCALES.join(", ")}: ci = minutes, pipeline only; cpu = the real study on a CPU; gpu = larger models`, "cpu")
    .option("--server <url>", "submit the runs to a Transcend server and wait for them to be graded, instead of running them here")
    .option("--token <token>", "personal access token for --server (default: $TRANSCEND_TOKEN)")
    .option("--family <name>", `task family for all four axes: ${STUDY_FAMILIES.join(", ")}`, DEFAULT_STUDY_FAMILY)
    .option("--parallel <n>", "runs at once, each in a child process (the wasm engine computes on one core)", "1")
    .option("--report-only", "write the report from the runs finished so far; run nothing")
    .option("--presets <slugs>", "comma-separated subset of the study's task variants (default: all eight)")
    .option("--backend <name>", "auto, tfjs-node-gpu, tfjs-node, wasm or cpu", "auto")
    .option("--cache <dir>", "origin checkpoint cache (default: ~/.cache/transcend-runner)")
    .option("--no-cache", "always pretrain, never reuse or store an origin")
    .action(async (options: ReproduceCliOptions) => {
      await reproduceCommand(options);
    });
}

async function reproduceCommand(options: ReproduceCliOptions): Promise<void> {
  if (!isScale(options.scale)) throw new UserError(`--scale must be one of ${SCALES.join(", ")}, got "${options.scale}"`);
  const seeds = Number(options.seeds);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > MAX_SEEDS) throw new UserError(`--seeds must be an integer from 1 to ${MAX_SEEDS}, got ${options.seeds}`);
  if (!isStudyFamily(options.family)) throw new UserError(`--family must be one of ${STUDY_FAMILIES.join(", ")}, got "${options.family}"`);
  const parallel = Number(options.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL)
    throw new UserError(`--parallel must be an integer from 1 to ${MAX_PARALLEL}, got ${options.parallel}`);
  if (!isBackendName(options.backend)) throw new UserError(`unknown backend "${options.backend}"`);
  let server: { url: string; token: string } | undefined;
  if (options.server !== undefined) {
    const token = options.token ?? process.env.TRANSCEND_TOKEN;
    if (!token) throw new UserError("--server needs a personal access token: --token T or TRANSCEND_TOKEN (create one on the account page)");
    if (!/^https?:\/\/./.test(options.server)) throw new UserError(`--server must be an http(s) URL, got "${options.server}"`);
    server = { url: options.server, token };
  } else if (options.token !== undefined) throw new UserError("--token only applies with --server");
  const presets = options.presets
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

  const controller = new AbortController();
  const onSignal = () => controller.abort(new UserError("interrupted: finished runs are kept; run the same command again to resume"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const outcome = await reproduce({
      outDir: options.out,
      scale: options.scale,
      seeds,
      family: options.family,
      parallel,
      presets,
      reportOnly: options.reportOnly === true,
      server,
      backend: options.backend,
      originCacheDir: options.cache === false ? false : typeof options.cache === "string" ? options.cache : undefined,
      signal: controller.signal,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    for (const claim of outcome.summary.claims) process.stdout.write(`(${claim.id}) ${claim.claim}: ${claim.verdict} — ${claim.evidence}\n`);
    if (outcome.execution.failed.length > 0)
      throw new UserError(
        server
          ? `${outcome.execution.failed.length} run(s) failed or were cancelled on the server; the report covers the others.`
          : `${outcome.execution.failed.length} run(s) failed; the report covers the others. Run again to retry them.`,
      );
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason instanceof Error ? controller.signal.reason : error;
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
