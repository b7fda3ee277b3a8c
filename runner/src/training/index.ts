// The training engine's public surface. A run is one call:
//   runTrainingJob({ variant, recipe, seed, evaluationItems, onCompletions, onProgress, signal, checkpointDir })
// The daemon runs it in a child process; the offline `train` command runs it in-process.
export {
  ENGINE_VERSION,
  RESULTS_FORMAT,
  type ProgressEvent,
  type RunPhase,
  type RunResults,
  type SplitResult,
  type TrainingJob,
  runTrainingJob,
} from "./job";
export type {
  EvaluationItem,
  EvaluationItemsProvider,
  EvaluationPhase,
  EvaluationRequest,
  ItemCompletions,
  ItemScore,
  SplitComparison,
  SplitEvaluation,
} from "./evaluation";
export { compareSplit, isCorrect, summarizeSplit } from "./evaluation";
export { forwardFlopsPerToken, type ModelConfig, modelConfigFor, parameterCount, trainingFlopsPerToken } from "./config";
export { type GrpoLossInput, type GrpoLossOutput, grpoAdvantages, grpoLoss } from "./grpo";
export type { GrpoStepReport, GrpoSummary } from "./grpo-training";
export type { PretrainingStepReport, PretrainingSummary } from "./pretraining";
export { defaultCacheDir, loadCheckpoint, saveCheckpoint } from "./checkpoints";
