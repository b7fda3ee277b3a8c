// `transcend-runner bench`: train and rollout throughput on the fixed configurations of
// ../shared/bench/README.md, measuring what ../shared/bench/torch_gpt.py measures, in its
// JSON shape, so the two compare as a ratio on one machine.
import type { Command } from "commander";
import { createRng } from "@transcend/tasks";
import { isBackendName, selectBackend } from "../backend";
import { UserError } from "../errors";
import type { ModelConfig } from "../training/config";
import { parameterCount } from "../training/config";
import { createGpt, disposeGpt } from "../training/model";
import { optimizerStep } from "../training/optimizer";
import { createOptimizer, sequenceLoss, type TokenBatch } from "../training/pretraining";
import { generate } from "../training/sampling";

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
    .action(async (options: { config?: string[]; steps: string; backend: string; json?: boolean }) => {
      const names = options.config ?? Object.keys(BENCH_CONFIGS);
      for (const name of names) if (!BENCH_CONFIGS[name]) throw new UserError(`unknown bench config "${name}" (tiny, small, base)`);
      const steps = Number(options.steps);
      if (!Number.isInteger(steps) || steps < 1) throw new UserError("--steps must be a positive integer");
      if (!isBackendName(options.backend)) throw new UserError(`unknown backend "${options.backend}"`);
      const backend = await selectBackend(options.backend);
      const configs: Record<string, BenchResult> = {};
      for (const name of names) {
        const config = BENCH_CONFIGS[name];
        if (!config) continue;
        configs[name] = await benchConfig(config, steps);
        if (!options.json) process.stdout.write(`${name} ${JSON.stringify(configs[name])}\n`);
      }
      if (options.json) process.stdout.write(`${JSON.stringify({ engine: backend.engine, threads: backend.threads, matmul: backend.matmul, configs })}\n`);
    });
}
