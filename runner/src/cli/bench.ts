// `transcend-runner bench`: train and rollout throughput on the fixed configurations of
// ../shared/bench/README.md, measuring what ../shared/bench/torch_gpt.py measures, in its
// JSON shape, so the two compare as a ratio on one machine.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import * as tf from "@tensorflow/tfjs";
import { createRng } from "@transcend/tasks";
import { z } from "zod";
import { isBackendName, selectBackend } from "../backend";
import { UserError } from "../errors";
import type { ModelConfig } from "../training/config";
import { parameterCount } from "../training/config";
import { createGpt, disposeGpt } from "../training/model";
import { optimizerStep } from "../training/optimizer";
import { createOptimizer, sequenceLoss, type TokenBatch } from "../training/pretraining";
import { rolloutThreads } from "../training/rollout-pool";
import { generate } from "../training/sampling";
import { readStdin } from "./stdin";

interface BenchConfig {
  vocab: number;
  context: number;
  dModel: number;
  layers: number;
  heads: number;
  batch: number;
}

// Keep in step with ../shared/bench/README.md and torch_gpt.py.
export const BENCH_CONFIGS: Record<string, BenchConfig> = {
  tiny: { vocab: 64, context: 64, dModel: 64, layers: 2, heads: 4, batch: 32 },
  small: { vocab: 64, context: 128, dModel: 128, layers: 4, heads: 4, batch: 32 },
  base: { vocab: 64, context: 128, dModel: 256, layers: 4, heads: 8, batch: 16 },
};
export const ROLLOUT = { sequences: 64, prompt: 32, newTokens: 32 };

export interface BenchResult {
  params: number;
  ms_per_train_step: number;
  train_tokens_per_s: number;
  ms_per_rollout: number;
  rollout_tokens_per_s: number;
  /** Training work per second, counting 6·params·tokens plus attention (DESIGN's convention). */
  train_gflops?: number;
}

/** Training FLOPs of one step: 6 per parameter per token, plus attention's 6·layers·d·T per token. */
export function trainStepFlops(c: BenchConfig, params: number): number {
  const tokens = c.batch * c.context;
  return 6 * params * tokens + 6 * c.layers * c.dModel * c.context * tokens;
}

/**
 * GFLOP/s of a large square product on the current backend: the yardstick for how close a
 * training step comes to what the backend's matmul can do. A fresh right-hand side per
 * repetition, as in training (XNNPACK caches its packing per tensor).
 */
export function largeMatmulGflops(size = 2048, reps = 3): number {
  const a = tf.randomUniform([size, size], -1, 1, "float32", 1);
  const bs = Array.from({ length: reps + 1 }, (_, i) => tf.randomUniform([size, size], -1, 1, "float32", i + 2));
  const product = (b: tf.Tensor) => {
    const out = tf.matMul(a, b);
    // Reading one number waits for the product on asynchronous backends without timing a
    // 4 MiB copy. (Never return a TypedArray from tf.tidy: it walks it element by element.)
    const corner = out.slice([0, 0], [1, 1]);
    corner.dataSync();
    tf.dispose([out, corner]);
  };
  try {
    product(bs[reps] ?? a); // warm-up
    const start = performance.now();
    for (let i = 0; i < reps; i++) product(bs[i] ?? a);
    const seconds = (performance.now() - start) / 1000 / reps;
    return round((2 * size ** 3) / seconds / 1e9, 1);
  } finally {
    tf.dispose([a, ...bs]);
  }
}

// The shape torch_gpt.py --json prints (and `bench --json` too): what --compare reads.
const benchResultSchema = z.object({
  params: z.number().int().nonnegative(),
  ms_per_train_step: z.number().positive(),
  train_tokens_per_s: z.number().positive(),
  ms_per_rollout: z.number().positive(),
  rollout_tokens_per_s: z.number().positive(),
});
export const benchReportSchema = z.object({
  engine: z.string().max(200),
  threads: z.number().int().nonnegative(),
  configs: z.record(z.string().max(50), benchResultSchema),
});
export type BenchReport = z.infer<typeof benchReportSchema>;

export interface BenchComparison {
  config: string;
  /** Our tokens/s ÷ the reference's: ≥ 1 is at least as fast. */
  train: number;
  rollout: number;
  /** Set when the two measured different models (the configurations drifted apart). */
  paramsDiffer?: { ours: number; reference: number };
}

/** Ratios for every configuration both reports measured. */
export function compareBench(ours: Record<string, BenchResult>, reference: BenchReport): BenchComparison[] {
  const rows: BenchComparison[] = [];
  for (const [config, result] of Object.entries(ours)) {
    const ref = reference.configs[config];
    if (!ref) continue;
    rows.push({
      config,
      train: round(result.train_tokens_per_s / ref.train_tokens_per_s, 2),
      rollout: round(result.rollout_tokens_per_s / ref.rollout_tokens_per_s, 2),
      ...(ref.params === result.params ? {} : { paramsDiffer: { ours: result.params, reference: ref.params } }),
    });
  }
  return rows;
}

export function formatComparison(ours: Record<string, BenchResult>, reference: BenchReport, engine: string): string {
  const header = ["config", "train tok/s", "reference", "ratio", "rollout tok/s", "reference", "ratio"];
  const lines = [header];
  const notes: string[] = [];
  for (const row of compareBench(ours, reference)) {
    const mine = ours[row.config];
    const ref = reference.configs[row.config];
    if (!mine || !ref) continue;
    const n = (x: number) => Math.round(x).toLocaleString("en-US");
    lines.push([row.config, n(mine.train_tokens_per_s), n(ref.train_tokens_per_s), `${row.train.toFixed(2)}×`, n(mine.rollout_tokens_per_s), n(ref.rollout_tokens_per_s), `${row.rollout.toFixed(2)}×`]);
    if (row.paramsDiffer) notes.push(`${row.config}: the models differ (${row.paramsDiffer.ours} vs ${row.paramsDiffer.reference} parameters)`);
  }
  const missing = Object.keys(ours).filter((config) => !reference.configs[config]);
  if (missing.length > 0) notes.push(`not in the reference: ${missing.join(", ")}`);
  const widths = header.map((_, i) => Math.max(...lines.map((cells) => (cells[i] ?? "").length)));
  const table = lines.map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "));
  return [`${engine} vs ${reference.engine} (${reference.threads} threads); ratio = ours ÷ reference, ≥ 1 is at least as fast`, ...table, ...notes].join("\n") + "\n";
}

async function readReference(file: string): Promise<BenchReport> {
  let text: string;
  try {
    text = file === "-" ? await readStdin() : await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`cannot read the reference ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`the reference ${file} is not JSON (expected the output of torch_gpt.py --json)`);
  }
  const parsed = benchReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`the reference ${file} is not a bench report: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`);
  }
  return parsed.data;
}


function modelConfig(c: BenchConfig): ModelConfig {
  return { vocabSize: c.vocab, contextLength: c.context, dModel: c.dModel, layers: c.layers, heads: c.heads, positionalEncoding: "learned", dropout: 0 };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export async function benchConfig(c: BenchConfig, steps: number): Promise<BenchResult> {
  const rng = createRng(0);
  const config = modelConfig(c);
  const gpt = createGpt(config, rng.fork("init"));
  try {
    // Train step: random tokens and random targets, cross-entropy, backward, clip at 1.0, AdamW.
    const tokens = c.batch * c.context;
    const batch: TokenBatch = {
      batch: c.batch,
      length: c.context,
      inputs: Int32Array.from({ length: tokens }, () => rng.int(0, c.vocab - 1)),
      targets: Int32Array.from({ length: tokens }, () => rng.int(0, c.vocab - 1)),
      weights: new Float32Array(tokens).fill(1),
    };
    const optimizer = createOptimizer(gpt);
    const hp = { learningRate: 1e-3, weightDecay: 0.1, gradClip: 1 };
    const step = () => optimizerStep(optimizer, () => ({ loss: sequenceLoss(gpt, batch) }), hp);
    step(); // warm-up: kernels, masks and XNNPACK packing
    let start = performance.now();
    for (let i = 0; i < steps; i++) step();
    const msTrain = (performance.now() - start) / steps;
    optimizer.dispose();

    // Rollout: 64 random 32-token prompts, 32 new tokens each sampled from the softmax, cached.
    const prompts = Array.from({ length: ROLLOUT.sequences }, () => Array.from({ length: ROLLOUT.prompt }, () => rng.int(0, c.vocab - 1)));
    const rollout = () =>
      generate(gpt, prompts, { maxNewTokens: ROLLOUT.newTokens, temperature: 1, greedy: false, eos: -1, pad: 0, rng: rng.fork("rollout") });
    await rollout();
    const reps = Math.max(2, Math.floor(steps / 3));
    start = performance.now();
    for (let i = 0; i < reps; i++) await rollout();
    const msRollout = (performance.now() - start) / reps;
    return {
      params: parameterCount(config),
      ms_per_train_step: round(msTrain, 2),
      train_tokens_per_s: round((tokens / msTrain) * 1000, 1),
      ms_per_rollout: round(msRollout, 2),
      rollout_tokens_per_s: round(((ROLLOUT.sequences * ROLLOUT.newTokens) / msRollout) * 1000, 1),
      train_gflops: round(trainStepFlops(c, parameterCount(config)) / msTrain / 1e6, 1),
    };
  } finally {
    disposeGpt(gpt);
  }
}

export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description("Train and rollout tokens/s on the reference configurations (compare with ../shared/bench/torch_gpt.py).")
    .option("--config <name...>", "tiny, small and/or base (default: all)")
    .option("--steps <n>", "timed train steps per configuration (rollouts: a third as many, at least 2)", "10")
    .option("--backend <name>", "auto, tfjs-node-gpu, tfjs-node, wasm or cpu", "auto")
    .option("--json", "print one JSON object in the reference's shape")
    .option("--compare <reference.json>", "print ratios against a reference report (torch_gpt.py --json; - reads stdin)")
    .action(async (options: { config?: string[]; steps: string; backend: string; json?: boolean; compare?: string }) => {
      const names = options.config ?? Object.keys(BENCH_CONFIGS);
      for (const name of names) if (!BENCH_CONFIGS[name]) throw new UserError(`unknown bench config "${name}" (tiny, small, base)`);
      const steps = Number(options.steps);
      if (!Number.isInteger(steps) || steps < 1) throw new UserError("--steps must be a positive integer");
      if (!isBackendName(options.backend)) throw new UserError(`unknown backend "${options.backend}"`);
      // Read the reference first: a bad file should fail before minutes of measuring.
      const reference = options.compare === undefined ? undefined : await readReference(options.compare);
      const backend = await selectBackend(options.backend);
      const configs: Record<string, BenchResult> = {};
      for (const name of names) {
        const config = BENCH_CONFIGS[name];
        if (!config) continue;
        configs[name] = await benchConfig(config, steps);
        if (!options.json) process.stdout.write(`${name} ${JSON.stringify(configs[name])}\n`);
      }
      const matmulGflops = largeMatmulGflops();
      if (options.json) {
        const comparison = reference ? { reference: { engine: reference.engine, threads: reference.threads }, ratios: compareBench(configs, reference) } : {};
        process.stdout.write(
          `${JSON.stringify({ engine: backend.engine, threads: backend.threads, matmul: backend.matmul, rollout_threads: rolloutThreads(), large_matmul_gflops: matmulGflops, configs, ...comparison })}\n`,
        );
        return;
      }
      process.stdout.write(`\nrollouts on ${rolloutThreads()} thread(s); large 2048³ matmul: ${matmulGflops} GFLOP/s (${backend.matmul})\n`);
      for (const [name, result] of Object.entries(configs))
        process.stdout.write(`${name} train: ${result.train_gflops} GFLOP/s, ${((result.train_gflops ?? 0) / matmulGflops).toFixed(2)} of the large matmul\n`);
      if (reference) process.stdout.write(`\n${formatComparison(configs, reference, `${backend.engine} (matmul: ${backend.matmul})`)}`);
    });
}
