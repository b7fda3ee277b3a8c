// Messages between the daemon and a job process over Node's IPC channel. Both ends are
// this package at the same commit, so these are plain types, not a wire protocol: what
// crosses to the server is validated by @transcend/protocol in the daemon.
import type { BackendName } from "../backend";
import type { EvaluationItem, EvaluationPhase, ItemCompletions, ProgressEvent, RunResults } from "../training";
import type { Recipe, TaskVariant } from "@transcend/protocol";

export interface JobSpec {
  variant: TaskVariant;
  recipe: Recipe;
  seed: number;
  backend: BackendName | "auto";
  /** This attempt's own directory: the origin and final checkpoints are written there. */
  checkpointDir: string;
  /** Shared by every run on this runner, so GRPO recipes on one origin pretrain once. */
  originCacheDir: string | false;
}

export type ParentToJob =
  | { type: "start"; job: JobSpec }
  | { type: "evaluation-items"; requestId: number; items: EvaluationItem[] };

export type JobToParent =
  | { type: "progress"; event: ProgressEvent }
  | { type: "evaluation-request"; requestId: number; phase: EvaluationPhase; split: string; count: number }
  | { type: "completions"; phase: EvaluationPhase; split: string; completions: ItemCompletions[] }
  | { type: "result"; results: RunResults }
  /** The engine threw: a property of this run (bad variant for the recipe, …), not of the machine. */
  | { type: "error"; message: string };

/** Test hook: the job process ignores SIGTERM, so the daemon's SIGKILL after the grace period is exercised. */
export const IGNORE_SIGTERM_ENV = "TRANSCEND_RUNNER_TEST_IGNORE_SIGTERM";
