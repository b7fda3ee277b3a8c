// Memory soak for the speed issue: a `small` GRPO run of many steps must keep a flat
// peak RSS (a leaked tensor per step would grow it by megabytes a minute).
//   npx tsx runner/src/kernels/memory-soak.ts [--steps 1000] [--variant mod-arith-depth-partial]
// Prints the RSS, the peak RSS so far and the tfjs tensor count every 100 GRPO steps, then
// the growth from the first sample to the last as JSON. RSS covers the rollout worker thread
// too (one process); the tensor count is the job thread's.
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { findRecipePreset, recipeSchema } from "@transcend/protocol";
import { findPreset } from "@transcend/tasks";
import { runTrainingJob } from "../training/index";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "1000" },
    variant: { type: "string", default: "mod-arith-depth-partial" },
  },
});
const steps = Number(values.steps);
const variant = findPreset(values.variant);
const small = findRecipePreset("small");
if (!variant || !small) throw new Error("unknown preset");

// Short pretraining: the soak is about GRPO's steady state, not about learning.
const recipe = recipeSchema.parse({
  ...small,
  pretraining: { ...small.pretraining, steps: 50 },
  grpo: { ...small.grpo, steps },
  evaluation: { ...small.evaluation, itemsPerSplit: 4 },
});

const samples: { step: number; rssMiB: number; peakRssMiB: number; tensors: number }[] = [];
await runTrainingJob({
  variant,
  recipe,
  seed: 1,
  originCacheDir: false,
  onProgress: (event) => {
    if (event.type !== "grpo-step") return;
    const step = event.report.step;
    if (step % 100 !== 0 && step !== steps - 1) return;
    const sample = {
      step,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), // maxRSS is in KiB
      tensors: tf.memory().numTensors,
    };
    samples.push(sample);
    console.error(`step ${step}: rss ${sample.rssMiB} MiB, peak ${sample.peakRssMiB} MiB, ${sample.tensors} tensors`);
  },
});
const first = samples[0];
const last = samples.at(-1);
if (first && last) {
  console.log(
    JSON.stringify({ steps, firstStep: first.step, lastStep: last.step, rssGrowthMiB: last.rssMiB - first.rssMiB, peakGrowthMiB: last.peakRssMiB - first.peakRssMiB, tensorGrowth: last.tensors - first.tensors, samples }),
  );
}
