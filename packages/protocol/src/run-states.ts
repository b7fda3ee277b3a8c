// A run's states (DESIGN.md §2.1), shared by the database enum, the server and the pages,
// so the run page and the queue can never disagree on what a state is called.
export const RUN_STATES = [
  "queued",
  "assigned",
  "pretraining",
  "evaluating_base",
  "grpo",
  "evaluating_final",
  "graded",
  "failed",
  "cancelled",
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** States after which a run never changes again. */
export const TERMINAL_RUN_STATES = ["graded", "failed", "cancelled"] as const satisfies readonly RunState[];
