// One run of the engine: (task variant, recipe, seed) → pretrain (or reuse a cached
// origin), evaluate the base model, GRPO-train, evaluate again. This is what the offline
// `train` command and the daemon's job process both call.
import path from "node:path";
import type { Recipe, TaskVariant } from "@transcend/protocol";
import { createRng, resolveVariant } from "@transcend/tasks";
import { type BackendName, selectBackend } from "../backend";
import { forwardFlopsPerToken, type ModelConfig, modelConfigFor, parameterCount } from "./config";
import {
  type CheckpointRef,
  defaultCacheDir,
  findOrigin,
  loadCheckpoint,
  originKey,
  saveCheckpoint,
  storeOrigin,
} from "./checkpoints";
import {
  compareSplit,
  evaluateSplit,
  type EvaluationItemsProvider,
  type EvaluationPhase,
  type ItemCompletions,
  localEvaluationItems,
  type SplitComparison,
  type SplitEvaluation,
} from "./evaluation";
import { type GrpoStepReport, type GrpoSummary, grpoTrain } from "./grpo-training";
import { cloneGpt, createGpt, disposeGpt, type Gpt } from "./model";
import { pretrain, type PretrainingStepReport, type PretrainingSummary } from "./pretraining";

/** Bumped when a change alters the numbers a seed produces (invalidates cached origins). */
export const ENGINE_VERSION = "1";
export const RESULTS_FORMAT = "transcend-results/1";

/** The run states of DESIGN.md §2.1 that the engine itself goes through. */
export type RunPhase = "pretraining" | "evaluating-base" | "grpo" | "evaluating-final";

export type ProgressEvent =
  | { type: "phase-started"; phase: RunPhase }
  | { type: "phase-finished"; phase: RunPhase; seconds: number }
  | { type: "origin-reused"; key: string; sha256: string }
  | { type: "pretraining-step"; report: PretrainingStepReport }
  | { type: "grpo-step"; report: GrpoStepReport }
  /** `fraction` of the phase's evaluation work done, over all its splits. */
  | { type: "evaluation-progress"; phase: EvaluationPhase; split: string; fraction: number }
  | { type: "checkpoint"; kind: "origin" | "final"; sha256: string; path: string };

export interface TrainingJob {
  variant: TaskVariant;
  recipe: Recipe;
  seed: number;
  /** Backend preference; default: the first that loads. */
  backend?: BackendName | "auto";
  /** Evaluation prompts (a server supplies held-out ones); default: drawn locally from the seed. */
  evaluationItems?: EvaluationItemsProvider;
  /** What the model wrote on each evaluated split, for a server to grade itself. */
  onCompletions?: (phase: EvaluationPhase, split: string, completions: ItemCompletions[]) => void | Promise<void>;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /** Where the origin and final checkpoints are written; none are when absent. */
  checkpointDir?: string;
  /** Origin checkpoint cache; `false` turns it off. Default: ~/.cache/transcend-runner. */
  originCacheDir?: string | false;
}

export interface SplitResult {
  base: SplitEvaluation;
  final: SplitEvaluation;
  comparison: SplitComparison;
}

export interface RunResults {
  format: typeof RESULTS_FORMAT;
  engine: { version: string; backend: BackendName; label: string; threads: number; matmul: string };
  variant: TaskVariant;
  recipe: Recipe;
  seed: number;
  model: { config: ModelConfig; parameters: number; forwardFlopsPerToken: number };
  origin: { key: string; reused: boolean };
  pretraining: PretrainingSummary;
  grpo: GrpoSummary;
  /** Per evaluated split: the base and GRPO models on the same items. */
  evaluation: Record<string, SplitResult>;
  checkpoints: { origin?: string; final?: string };
  /** Wall-clock seconds: the only numbers that differ between two runs of one seed. */
  timings: Record<RunPhase | "total", number>;
}

/** Runs every phase of one run and returns its results. Throws on abort (signal.reason). */
export async function runTrainingJob(job: TrainingJob): Promise<RunResults> {
  const started = performance.now();
  const backend = await selectBackend(job.backend ?? "auto");
  const { recipe, seed, signal } = job;
  const variant = resolveVariant(job.variant);
  const config = modelConfigFor(recipe.model, variant.tokenizer.size);
  checkContextFits(variant, config);
  const rng = createRng(seed);
  const emit = (event: ProgressEvent) => job.onProgress?.(event);
  const timings: RunResults["timings"] = { pretraining: 0, "evaluating-base": 0, grpo: 0, "evaluating-final": 0, total: 0 };
  const checkpoints: RunResults["checkpoints"] = {};

  // What determines the pretrained model: not the GRPO mix, not the evaluated splits.
  const key = originKey({
    engine: ENGINE_VERSION,
    backend: backend.name,
    model: config,
    pretraining: recipe.pretraining,
    data: {
      family: job.variant.family,
      splits: job.variant.splits,
      pretrainingMix: job.variant.pretrainingMix,
      chainOfThought: job.variant.chainOfThought,
    },
    seed,
  });
  const cacheDir = job.originCacheDir === false ? undefined : (job.originCacheDir ?? defaultCacheDir());

  let policy: Gpt | undefined;
  let reference: Gpt | undefined;
  try {
    // Phase 1: the origin model.
    emit({ type: "phase-started", phase: "pretraining" });
    let phaseStart = performance.now();
    let pretraining: PretrainingSummary;
    const cached = cacheDir ? await findOrigin<PretrainingSummary>(cacheDir, key) : undefined;
    let originRef: CheckpointRef | undefined;
    if (cached) {
      policy = (await loadCheckpoint(cached.file)).gpt;
      pretraining = cached.record.pretraining;
      emit({ type: "origin-reused", key, sha256: cached.record.checkpoint });
    } else {
      policy = createGpt(config, rng.fork("init"));
      pretraining = await pretrain(policy, variant, recipe.pretraining, rng.fork("pretraining"), {
        signal,
        onStep: (report) => emit({ type: "pretraining-step", report }),
      });
      if (cacheDir) originRef = await storeOrigin(cacheDir, policy, key, pretraining, { variant: job.variant.slug, seed });
    }
    if (job.checkpointDir) originRef = await saveCheckpoint(policy, path.resolve(job.checkpointDir), { kind: "origin", originKey: key, variant: job.variant.slug, seed });
    if (originRef) {
      checkpoints.origin = originRef.sha256;
      emit({ type: "checkpoint", kind: "origin", sha256: originRef.sha256, path: originRef.path });
    }
    timings.pretraining = secondsSince(phaseStart);
    emit({ type: "phase-finished", phase: "pretraining", seconds: timings.pretraining });

    // Phase 2: the base model on every evaluated split.
    const evaluate = async (phase: EvaluationPhase, gpt: Gpt): Promise<Record<string, SplitEvaluation>> => {
      const out: Record<string, SplitEvaluation> = {};
      const splits = variant.evalSplits;
      const provider = job.evaluationItems ?? localEvaluationItems(variant, rng.fork("evaluation-items"));
      const count = recipe.evaluation.itemsPerSplit ?? job.variant.evalItemsPerSplit;
      for (const [index, split] of splits.entries()) {
        const items = await provider({ phase, split, count });
        const { evaluation, completions } = await evaluateSplit(
          gpt,
          variant,
          split,
          items,
          recipe.evaluation,
          rng.fork(`evaluation:${phase}:${split}`),
          {
            signal,
            onProgress: (done, total) =>
              emit({ type: "evaluation-progress", phase, split, fraction: (index + done / total) / splits.length }),
          },
        );
        out[split] = evaluation;
        await job.onCompletions?.(phase, split, completions);
      }
      return out;
    };
    emit({ type: "phase-started", phase: "evaluating-base" });
    phaseStart = performance.now();
    const baseEvaluation = await evaluate("base", policy);
    timings["evaluating-base"] = secondsSince(phaseStart);
    emit({ type: "phase-finished", phase: "evaluating-base", seconds: timings["evaluating-base"] });

    // Phase 3: GRPO against the frozen origin.
    emit({ type: "phase-started", phase: "grpo" });
    phaseStart = performance.now();
    reference = cloneGpt(policy, false);
    const grpo = await grpoTrain(policy, reference, variant, recipe.grpo, rng.fork("grpo"), {
      signal,
      onStep: (report) => emit({ type: "grpo-step", report }),
    });
    timings.grpo = secondsSince(phaseStart);
    emit({ type: "phase-finished", phase: "grpo", seconds: timings.grpo });

    // Phase 4: the GRPO model on the same items.
    emit({ type: "phase-started", phase: "evaluating-final" });
    phaseStart = performance.now();
    const finalEvaluation = await evaluate("final", policy);
    if (job.checkpointDir) {
      const ref = await saveCheckpoint(policy, path.resolve(job.checkpointDir), {
        kind: "grpo",
        origin: checkpoints.origin,
        variant: job.variant.slug,
        seed,
      });
      checkpoints.final = ref.sha256;
      emit({ type: "checkpoint", kind: "final", sha256: ref.sha256, path: ref.path });
    }
    timings["evaluating-final"] = secondsSince(phaseStart);
    emit({ type: "phase-finished", phase: "evaluating-final", seconds: timings["evaluating-final"] });

    const evaluation: Record<string, SplitResult> = {};
    for (const split of variant.evalSplits) {
      const base = baseEvaluation[split];
      const final = finalEvaluation[split];
      if (base && final) evaluation[split] = { base, final, comparison: compareSplit(base, final) };
    }
    timings.total = secondsSince(started);
    return {
      format: RESULTS_FORMAT,
      engine: { version: ENGINE_VERSION, backend: backend.name, label: backend.engine, threads: backend.threads, matmul: backend.matmul },
      variant: job.variant,
      recipe,
      seed,
      model: { config, parameters: parameterCount(config), forwardFlopsPerToken: forwardFlopsPerToken(config) },
      origin: { key, reused: cached !== undefined },
      pretraining,
      grpo,
      evaluation,
      checkpoints,
      timings,
    };
  } finally {
    if (policy) disposeGpt(policy);
    if (reference) disposeGpt(reference);
  }
}

function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Fails before any compute when the recipe's context cannot hold the variant's sequences. */
function checkContextFits(variant: ReturnType<typeof resolveVariant>, config: ModelConfig): void {
  for (const split of variant.splitNames) {
    const bound = variant.lengthBound(split);
    const pretrained = (variant.variant.pretrainingMix[split] ?? 0) > 0;
    if (pretrained && bound.prompt + bound.completion > config.contextLength)
      throw new Error(
        `split "${split}" has sequences of up to ${bound.prompt + bound.completion} tokens but model.contextLength is ${config.contextLength}`,
      );
    if (bound.prompt >= config.contextLength)
      throw new Error(`split "${split}" has prompts of up to ${bound.prompt} tokens: model.contextLength ${config.contextLength} leaves no room to answer`);
  }
}
