// Engine progress events → `progress` frames. A training step can take a millisecond on
// a GPU, so steps are rate-limited (the latest one wins, the last of a phase is never
// dropped); phase changes go out at once because they move the run's state on the server.
import type { RunnerPhase } from "@transcend/protocol";
import type { ProgressEvent, RunPhase } from "../training";

/** At most five step frames a second: a live curve needs no more, a fleet's server would choke on more. */
export const MIN_PROGRESS_INTERVAL_MS = 200;
/** The protocol allows 32 metrics per frame. */
const MAX_METRICS = 32;

export interface ProgressUpdate {
  phase: RunnerPhase;
  step: number;
  metrics: Record<string, number>;
}

const PHASES: Record<RunPhase, RunnerPhase> = {
  pretraining: "pretraining",
  "evaluating-base": "evaluating_base",
  grpo: "grpo",
  "evaluating-final": "evaluating_final",
};

/** Finite numbers only (JSON has no NaN), at most 32 of them. */
function finiteMetrics(metrics: Record<string, number>): Record<string, number> {
  const entries = Object.entries(metrics).filter(([, value]) => Number.isFinite(value));
  return Object.fromEntries(entries.slice(0, MAX_METRICS));
}

export class ProgressReporter {
  private pending: ProgressUpdate | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private phase: RunnerPhase = "pretraining";
  private step = 0;

  constructor(
    private readonly emit: (update: ProgressUpdate) => void,
    private readonly intervalMs = MIN_PROGRESS_INTERVAL_MS,
  ) {}

  handle(event: ProgressEvent): void {
    switch (event.type) {
      case "phase-started":
        this.flush();
        this.phase = PHASES[event.phase];
        this.step = 0;
        this.send({ phase: this.phase, step: 0, metrics: {} });
        return;
      case "phase-finished":
        this.flush();
        this.send({ phase: PHASES[event.phase], step: this.step, metrics: { phaseSeconds: event.seconds } });
        return;
      case "pretraining-step": {
        const r = event.report;
        this.step = r.step;
        this.throttled({
          phase: "pretraining",
          step: r.step,
          metrics: { loss: r.loss, lr: r.learningRate, gradNorm: r.gradNorm, tokens: r.tokens, totalSteps: r.totalSteps },
        });
        return;
      }
      case "grpo-step": {
        const r = event.report;
        this.step = r.step;
        this.throttled({
          phase: "grpo",
          step: r.step,
          metrics: {
            reward: r.meanReward,
            kl: r.kl,
            entropy: r.entropy,
            completionLength: r.completionLength,
            zeroVarianceFraction: r.zeroStdFraction,
            clipFraction: r.clipFraction,
            loss: r.loss,
            gradNorm: r.gradNorm,
            stepSeconds: r.seconds,
            totalSteps: r.totalSteps,
          },
        });
        return;
      }
      case "evaluation-progress":
        this.throttled({ phase: event.phase === "base" ? "evaluating_base" : "evaluating_final", step: this.step, metrics: { fraction: event.fraction } });
        return;
      case "origin-reused":
      case "checkpoint":
        // In the job's log; the server learns the checkpoints from `finished`.
        return;
    }
  }

  /** Sends the step held back by the rate limit, if any (the phase ended, or the job did). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.send(pending);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.pending = undefined;
  }

  private throttled(update: ProgressUpdate): void {
    const wait = this.lastSentAt + this.intervalMs - performance.now();
    if (wait <= 0 && !this.pending) return this.send(update);
    this.pending = update;
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, wait));
  }

  private send(update: ProgressUpdate): void {
    this.lastSentAt = performance.now();
    this.emit({ ...update, metrics: finiteMetrics(update.metrics) });
  }
}
