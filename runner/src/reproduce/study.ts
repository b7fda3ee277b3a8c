// What the reproduction study runs: every axis of the paper at zero and partial pretraining
// overlap, the `paper` recipe scaled to the machine, N seeds, one task family for all four
// axes so their gains can be compared. The default family is mod-arith: at CPU scale it is the
// one whose ID split a small model learns within minutes (measured in docs/reproduce.md); the
// paper's own string operations are `--family string-ops`, which need the gpu scale to be learned.
import path from "node:path";
import { type OodAxis, type Recipe, recipePresets, recipeSchema, type TaskFamilyName, type TaskVariant } from "@transcend/protocol";
import { findPreset, type Overlap, resolveVariant } from "@transcend/tasks";

export const STUDY_FAMILIES: readonly TaskFamilyName[] = ["mod-arith", "string-ops", "graph-path"];
export const DEFAULT_STUDY_FAMILY: TaskFamilyName = "mod-arith";

export function isStudyFamily(value: string): value is TaskFamilyName {
  return (STUDY_FAMILIES as readonly string[]).includes(value);
}
export const STUDY_AXES: readonly OodAxis[] = ["depth", "length", "representation", "composition"];
export const STUDY_OVERLAPS: readonly Overlap[] = ["zero", "partial"];

export const SCALES = ["ci", "cpu", "gpu"] as const;
export type Scale = (typeof SCALES)[number];

export function isScale(value: string): value is Scale {
  return (SCALES as readonly string[]).includes(value);
}

/** One task variant of the study, with the axis and overlap it stands for. */
export interface StudyPreset {
  slug: string;
  axis: OodAxis;
  overlap: Overlap;
  variant: TaskVariant;
}

export function studyPresets(family: TaskFamilyName = DEFAULT_STUDY_FAMILY): StudyPreset[] {
  return STUDY_AXES.flatMap((axis) =>
    STUDY_OVERLAPS.map((overlap) => {
      const slug = `${family}-${axis}-${overlap}`;
      const variant = findPreset(slug);
      if (!variant) throw new Error(`task variant preset ${slug} is missing`);
      return { slug, axis, overlap, variant };
    }),
  );
}

const paper = recipePresets.paper;

/**
 * The longest prompt + completion and the longest completion over a family's study presets:
 * the small scales size context and completion cap to them, since runaway samples up to a
 * loose cap are where rollout time goes.
 */
export function familyBounds(family: TaskFamilyName): { sequence: number; completion: number } {
  let sequence = 0;
  let completion = 0;
  for (const preset of studyPresets(family)) {
    const variant = resolveVariant(preset.variant);
    for (const split of variant.splitNames) {
      const bound = variant.lengthBound(split);
      sequence = Math.max(sequence, bound.prompt + bound.completion);
      completion = Math.max(completion, bound.completion);
    }
  }
  return { sequence, completion };
}

/**
 * The `paper` recipe at each scale. Only sizes and step counts change; the GRPO objective,
 * its KL weight, clip and group size stay the paper's, because they are what is being tested.
 */
export function studyRecipe(scale: Scale, family: TaskFamilyName = DEFAULT_STUDY_FAMILY): Recipe {
  const bounds = familyBounds(family);
  const contextLength = 16 * Math.ceil(bounds.sequence / 16);
  const maxNewTokens = bounds.completion + 1;
  switch (scale) {
    case "ci":
      // The pipeline's shape only: every phase runs, in seconds per run. Learns nothing.
      return recipeSchema.parse({
        ...paper,
        name: "paper@ci",
        model: { ...paper.model, layers: 1, dModel: 32, heads: 2, contextLength },
        pretraining: { ...paper.pretraining, steps: 60, batchSize: 16, learningRate: 3e-3, warmupSteps: 10 },
        grpo: { ...paper.grpo, steps: 2, promptsPerStep: 4, maxNewTokens },
        evaluation: { ...paper.evaluation, itemsPerSplit: 8, samplesPerItem: 4, kValues: [1, 4], maxNewTokens },
      });
    case "cpu":
      // Sized so 24 runs (8 presets × 3 seeds) fit in about 70 minutes on a shared 2-core CPU:
      // pretraining is 85% of a run, and 1200 steps took 4 min a run there, so 800 (measured:
      // docs/reproduce.md). Smaller model and shorter pretraining than `paper`; the
      // paper's 60 GRPO steps at twice its learning rate (5e-5 moves a model this small too
      // little in 60 steps); context and completion cap fitted to the family (familyBounds).
      return recipeSchema.parse({
        ...paper,
        name: "paper@cpu",
        model: { ...paper.model, layers: 2, dModel: 64, heads: 4, contextLength },
        pretraining: { ...paper.pretraining, steps: 800, batchSize: 32, learningRate: 2e-3, warmupSteps: 50 },
        grpo: { ...paper.grpo, steps: 60, promptsPerStep: 8, maxNewTokens, learningRate: 1e-4 },
        evaluation: { ...paper.evaluation, itemsPerSplit: 64, samplesPerItem: 16, kValues: [1, 4, 16], maxNewTokens },
      });
    case "gpu":
      // Larger than `paper` for a tfjs-node-gpu runner: a wider, deeper model pretrained longer,
      // and more evaluation items so per-split CIs narrow.
      return recipeSchema.parse({
        ...paper,
        name: "paper@gpu",
        model: { ...paper.model, layers: 6, dModel: 256, heads: 8, contextLength: 128 },
        pretraining: { ...paper.pretraining, steps: 10_000, batchSize: 128 },
        grpo: { ...paper.grpo, steps: 60, promptsPerStep: 32 },
        evaluation: { ...paper.evaluation, itemsPerSplit: 256 },
      });
  }
}

/** One run of the study: a preset and a seed, and where its results live. */
export interface PlannedRun {
  preset: StudyPreset;
  seed: number;
  dir: string;
}

export interface StudyPlan {
  scale: Scale;
  family: TaskFamilyName;
  recipe: Recipe;
  presets: StudyPreset[];
  seeds: number[];
  runs: PlannedRun[];
}

export const MAX_SEEDS = 32;

/** Seeds 1..N, presets in axis order, runs seed-major so a partial study covers every preset. */
export function planStudy(options: {
  outDir: string;
  scale: Scale;
  seeds: number;
  family?: TaskFamilyName;
  presets?: readonly string[];
  recipe?: Recipe;
}): StudyPlan {
  if (!Number.isInteger(options.seeds) || options.seeds < 1 || options.seeds > MAX_SEEDS)
    throw new RangeError(`seeds must be an integer in 1..${MAX_SEEDS}, got ${options.seeds}`);
  const all = studyPresets(options.family);
  let presets = all;
  if (options.presets) {
    const wanted = new Set(options.presets);
    for (const slug of wanted) if (!all.some((p) => p.slug === slug)) throw new RangeError(`${slug} is not a preset of the study`);
    presets = all.filter((p) => wanted.has(p.slug));
  }
  const recipe = options.recipe ?? studyRecipe(options.scale, options.family);
  const seeds = Array.from({ length: options.seeds }, (_, i) => i + 1);
  const runs = seeds.flatMap((seed) => presets.map((preset) => ({ preset, seed, dir: runDir(options.outDir, preset.slug, seed) })));
  return { scale: options.scale, family: options.family ?? DEFAULT_STUDY_FAMILY, recipe, presets, seeds, runs };
}

export function runDir(outDir: string, slug: string, seed: number): string {
  return path.join(outDir, "runs", slug, String(seed));
}
