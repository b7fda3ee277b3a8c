// Per-kernel time of one engine train step and one rollout (tf.profile), to see where a
// bench configuration spends its time. Run:
//   npx tsx runner/src/kernels/profile-step.ts [small] [--stock]
import * as tf from "@tensorflow/tfjs";
import { createRng } from "@transcend/tasks";
import { selectBackend } from "../backend";
import { BENCH_CONFIGS, ROLLOUT } from "../cli/bench";
import { createGpt } from "../training/model";
import { optimizerStep } from "../training/optimizer";
import { createOptimizer, sequenceLoss, type TokenBatch } from "../training/pretraining";
import { generate } from "../training/sampling";
import { installFastKernels } from "./index";

async function profile(label: string, f: () => unknown): Promise<void> {
  const info = await tf.profile(async () => {
    await f();
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += 1;
    byName.set(k.name, entry);
    total += ms;
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 18);
  process.stdout.write(`\n${label}: ${info.kernels.length} kernel calls, ${total.toFixed(0)} ms in kernels\n`);
  for (const [name, { ms, calls }] of rows) process.stdout.write(`  ${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms ${String(calls).padStart(6)} calls\n`);
}

async function main(): Promise<void> {
  const name = process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : "small";
  const c = BENCH_CONFIGS[name];
  if (!c) throw new Error(`unknown config ${name}`);
  await selectBackend("wasm");
  if (!process.argv.includes("--stock")) await installFastKernels();
  const rng = createRng(0);
  const gpt = createGpt(
    { vocabSize: c.vocab, contextLength: c.context, dModel: c.dModel, layers: c.layers, heads: c.heads, positionalEncoding: "learned", dropout: 0 },
    rng.fork("init"),
  );
  const tokens = c.batch * c.context;
  const batch: TokenBatch = {
    batch: c.batch,
    length: c.context,
    inputs: Int32Array.from({ length: tokens }, () => rng.int(0, c.vocab - 1)),
    targets: Int32Array.from({ length: tokens }, () => rng.int(0, c.vocab - 1)),
    weights: new Float32Array(tokens).fill(1),
  };
  const optimizer = createOptimizer(gpt);
  const step = () => optimizerStep(optimizer, () => ({ loss: sequenceLoss(gpt, batch) }), { learningRate: 1e-3, weightDecay: 0.1, gradClip: 1 });
  step();
  let start = performance.now();
  step();
  process.stdout.write(`${name}: train step ${(performance.now() - start).toFixed(0)} ms unprofiled\n`);
  await profile(`${name} train step`, step);
  const prompts = Array.from({ length: ROLLOUT.sequences }, () => Array.from({ length: ROLLOUT.prompt }, () => rng.int(0, c.vocab - 1)));
  const rollout = () => generate(gpt, prompts, { maxNewTokens: ROLLOUT.newTokens, temperature: 1, greedy: false, eos: -1, pad: 0, rng: rng.fork("r") });
  await rollout();
  start = performance.now();
  await rollout();
  process.stdout.write(`${name}: rollout ${(performance.now() - start).toFixed(0)} ms unprofiled\n`);
  await profile(`${name} rollout`, rollout);
}

await main();
