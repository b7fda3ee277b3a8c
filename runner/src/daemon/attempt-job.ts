// One assigned attempt on this runner, from `assign` to its settled result: the job
// process, its progress and log, its evaluation sets, its completions, its checkpoint
// uploads and its `finished`/`failed` frame.
import { rm } from "node:fs/promises";
import path from "node:path";
import type { AttemptRef, EvaluatedModelName, Recipe, RunnerToServer, ServerToRunnerMessage, TaskVariant } from "@transcend/protocol";
import type { BackendName } from "../backend";
import { ENGINE_VERSION, type RunResults } from "../training";
import { type ArtifactKind, uploadArtifact } from "./artifacts";
import { AttemptOutbox } from "./attempt-outbox";
import { packCompletions } from "./completions";
import { EvaluationSetAssembly } from "./evaluation-sets";
import type { JobToParent } from "./ipc";
import { describeCrash, type JobExit, JobSupervisor } from "./job-supervisor";
import { ProgressReporter } from "./progress-reporter";

type AssignFrame = Extract<ServerToRunnerMessage, { type: "assign" }>;
type ServerFrame<T extends ServerToRunnerMessage["type"]> = Extract<ServerToRunnerMessage, { type: T }>;

export interface AttemptJobOptions {
  assign: AssignFrame;
  variant: TaskVariant;
  recipe: Recipe;
  send: (message: RunnerToServer) => boolean;
  /** The server's web address, for checkpoint uploads. */
  server: string;
  /** This attempt's checkpoints are written under it, and removed once uploaded. */
  workDir: string;
  originCacheDir: string | false;
  backend: BackendName | "auto";
  /** SIGTERM → this long → SIGKILL. */
  cancelGraceMs: number;
  jobEnv?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** The job process is gone and its result (if any) queued: the runner may take other work. */
  onJobEnded: () => void;
  /** Nothing is left to deliver for this attempt: forget it. */
  onSettled: () => void;
  /** Between upload attempts (tests shorten it). */
  uploadRetryDelayMs?: number;
}

/** running: the job process is up; finishing: it is gone, the result is being uploaded; ended: the result is queued (or the job was stopped). */
export type AttemptJobStatus = "running" | "finishing" | "ended";

interface PendingEvaluation {
  model: EvaluatedModelName;
  split: string;
  assembly: EvaluationSetAssembly;
}

export class AttemptJob {
  readonly ref: AttemptRef;
  private readonly outbox: AttemptOutbox;
  private readonly reporter: ProgressReporter;
  private readonly supervisor: JobSupervisor;
  private readonly checkpointDir: string;
  private readonly evaluations = new Map<number, PendingEvaluation>();
  private readonly checkpointFiles: Partial<Record<ArtifactKind, string>> = {};
  private results: RunResults | undefined;
  private jobError: string | undefined;
  /** Why the job is being killed: no result is reported for a cancelled attempt; a stopped runner reports a retryable failure. */
  private stopping: { kind: "cancelled" | "stopped"; reason: string } | undefined;
  private current: AttemptJobStatus = "running";

  constructor(private readonly options: AttemptJobOptions) {
    const { assign } = options;
    this.ref = { runId: assign.runId, attempt: assign.attempt };
    this.checkpointDir = path.join(options.workDir, `${assign.runId}.${assign.attempt}`);
    this.outbox = new AttemptOutbox(this.ref, options.send, options.onSettled);
    this.reporter = new ProgressReporter((update) => this.outbox.addProgress(update.phase, update.step, update.metrics));
    this.supervisor = new JobSupervisor({
      job: {
        variant: options.variant,
        recipe: options.recipe,
        seed: assign.seed,
        backend: options.backend,
        checkpointDir: this.checkpointDir,
        originCacheDir: options.originCacheDir,
      },
      env: options.jobEnv,
      onMessage: (message) => this.onJobMessage(message),
      onOutput: (text) => {
        if (this.stopping?.kind !== "cancelled") this.outbox.addLog(text);
      },
    });
    void this.supervisor.exited.then((exit) => this.onJobExit(exit));
    options.send({ type: "accepted", ...this.ref });
  }

  get status(): AttemptJobStatus {
    return this.current;
  }

  /** The server recorded its result, or there is none to report. */
  get resultDelivered(): boolean {
    return this.current === "ended" && this.outbox.resultDelivered;
  }

  /** The job process's pid (tests check it is gone). */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  get label(): string {
    return `run ${this.ref.runId} attempt ${this.ref.attempt}`;
  }

  /** A frame from the server about this attempt. */
  handle(message: ServerToRunnerMessage): void {
    switch (message.type) {
      case "ack":
        this.outbox.ack(message.seq, message.logOffset);
        return;
      case "graded":
        this.outbox.graded(message.model, message.split);
        return;
      case "result-recorded":
        if (this.outbox.recorded()) this.options.log(`${this.label}: the server recorded its result (${message.outcome})`);
        return;
      case "evaluation-set":
        this.onEvaluationSet(message);
        return;
      case "assign":
        // The same attempt again (the server re-sent it after a reconnect): still running.
        this.outbox.ack(message.resumeAfterSeq, undefined);
        if (this.current === "running") this.options.send({ type: "accepted", ...this.ref });
        return;
      default:
        return;
    }
  }

  /** After a reconnect: everything unacknowledged, and the evaluation sets still awaited. */
  resend(): void {
    this.outbox.resend();
    for (const pending of this.evaluations.values())
      this.options.send({ type: "evaluation-request", ...this.ref, model: pending.model, split: pending.split });
  }

  /** The server cancelled the attempt or its lease is gone: kill the job, report nothing more. */
  cancel(reason: string): Promise<JobExit> {
    if (this.current === "ended") {
      // Nothing runs any more: the server has given up on this attempt's result (it refused
      // it as stale or foreign), so there is nothing to retry.
      if (this.outbox.resultPending) this.options.log(`${this.label}: dropping its result (${reason})`);
      this.outbox.discard();
      this.options.onSettled();
      return this.supervisor.exited;
    }
    this.stopping ??= { kind: "cancelled", reason };
    this.reporter.dispose();
    this.outbox.discard();
    this.options.log(`${this.label}: stopping the job (${reason})`);
    return this.supervisor.kill(this.options.cancelGraceMs);
  }

  /** The runner stops now: kill the job and tell the server it may give the run to another runner. */
  stopNow(reason: string): Promise<JobExit> {
    this.stopping ??= { kind: "stopped", reason };
    return this.supervisor.killNow();
  }

  private onJobMessage(message: JobToParent): void {
    if (this.stopping?.kind === "cancelled") return;
    switch (message.type) {
      case "progress": {
        const event = message.event;
        this.reporter.handle(event);
        if (event.type === "phase-started") this.options.log(`${this.label}: ${event.phase}`);
        if (event.type === "checkpoint") this.checkpointFiles[event.kind] = event.path;
        return;
      }
      case "evaluation-request": {
        const model: EvaluatedModelName = message.phase === "base" ? "base" : "grpo";
        this.evaluations.set(message.requestId, { model, split: message.split, assembly: new EvaluationSetAssembly() });
        this.options.send({ type: "evaluation-request", ...this.ref, model, split: message.split });
        return;
      }
      case "completions": {
        const model: EvaluatedModelName = message.phase === "base" ? "base" : "grpo";
        this.reporter.flush();
        this.outbox.addCompletions(model, message.split, packCompletions(this.ref, model, message.split, message.completions));
        return;
      }
      case "result":
        this.results = message.results;
        return;
      case "error":
        this.jobError = message.message;
        return;
    }
  }

  private onEvaluationSet(frame: ServerFrame<"evaluation-set">): void {
    for (const [requestId, pending] of this.evaluations) {
      if (pending.model !== frame.model || pending.split !== frame.split) continue;
      let items;
      try {
        items = pending.assembly.add(frame);
      } catch (error) {
        this.options.log(`${this.label}: ignoring an evaluation-set chunk: ${(error as Error).message}`);
        return;
      }
      if (!items) return;
      this.evaluations.delete(requestId);
      const expected = this.options.recipe.evaluation.samplesPerItem;
      if (pending.assembly.samplesPerItem !== expected)
        this.options.log(`${this.label}: the server expects ${pending.assembly.samplesPerItem} samples per item, the recipe gives ${expected}`);
      this.supervisor.post({ type: "evaluation-items", requestId, items });
      return;
    }
    // A chunk for nothing awaited: a repeat after the set was complete.
  }

  private async onJobExit(exit: JobExit): Promise<void> {
    this.reporter.flush();
    this.reporter.dispose();
    if (this.stopping?.kind === "cancelled") {
      this.options.log(`${this.label}: job stopped (${describeExit(exit)})`);
      return this.end(true);
    }
    if (this.stopping?.kind === "stopped") {
      this.outbox.finish({ type: "failed", ...this.ref, retryable: true, error: sentence(`the runner stopped before the job finished: ${this.stopping.reason}`) });
      return this.end(false);
    }
    if (this.results && exit.code === 0) {
      this.current = "finishing";
      const checkpoints = await this.uploadCheckpoints();
      this.outbox.finish({
        type: "finished",
        ...this.ref,
        engineVersion: ENGINE_VERSION,
        checkpoints,
        selfReported: selfReported(this.results),
      });
      this.options.log(`${this.label}: finished`);
      return this.end(false);
    }
    // The engine's own error is a property of this run; a process that died without one hit the machine.
    const retryable = this.jobError === undefined;
    const error = this.jobError ?? describeCrash(exit);
    this.options.log(`${this.label}: failed: ${error}`);
    this.outbox.finish({ type: "failed", ...this.ref, retryable, error: sentence(error) });
    return this.end(false);
  }

  private async end(settled: boolean): Promise<void> {
    this.current = "ended";
    await rm(this.checkpointDir, { recursive: true, force: true }).catch(() => undefined);
    this.options.onJobEnded();
    // A cancel that arrived while the result was being uploaded dropped it: nothing is owed.
    if (settled || this.stopping?.kind === "cancelled") this.options.onSettled();
  }

  private async uploadCheckpoints(): Promise<{ origin?: string; final?: string }> {
    const uploaded: { origin?: string; final?: string } = {};
    for (const kind of ["origin", "final"] as const) {
      const file = this.checkpointFiles[kind];
      if (!file) continue;
      const outcome = await uploadArtifact({
        server: this.options.server,
        ref: this.ref,
        kind,
        file,
        attemptToken: this.options.assign.attemptToken,
        retryDelayMs: this.options.uploadRetryDelayMs,
      });
      if (outcome.ok) {
        uploaded[kind] = outcome.sha256;
        this.outbox.addLog(`checkpoint ${kind} uploaded (${outcome.bytes} bytes, sha256 ${outcome.sha256})\n`);
      } else {
        this.options.log(`${this.label}: could not upload the ${kind} checkpoint: ${outcome.error}`);
        this.outbox.addLog(`checkpoint ${kind} not uploaded: ${outcome.error}\n`);
      }
    }
    return uploaded;
  }
}

function describeExit(exit: JobExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code ?? "unknown"}`;
}

/** The protocol's `error` is one sentence of at most 2000 characters. */
function sentence(text: string): string {
  const trimmed = text.trim() || "unknown error";
  return trimmed.length > 2000 ? `${trimmed.slice(0, 1997)}...` : trimmed;
}

const MAX_SELF_REPORTED = 64;

/** A few of the job's own numbers: shown as self-reported, never ranked (the server grades). */
export function selfReported(results: RunResults): Record<string, number> {
  const numbers: Record<string, number> = {
    parameters: results.model.parameters,
    originReused: results.origin.reused ? 1 : 0,
    pretrainingSteps: results.pretraining.steps,
    pretrainingTokens: results.pretraining.tokens,
    pretrainingInitialLoss: results.pretraining.initialLoss,
    pretrainingFinalLoss: results.pretraining.finalLoss,
    grpoSteps: results.grpo.steps,
    grpoInitialReward: results.grpo.initialReward,
    grpoFinalReward: results.grpo.finalReward,
    secondsTotal: results.timings.total,
    secondsPretraining: results.timings.pretraining,
    secondsGrpo: results.timings.grpo,
    secondsEvaluatingBase: results.timings["evaluating-base"],
    secondsEvaluatingFinal: results.timings["evaluating-final"],
  };
  for (const [split, result] of Object.entries(results.evaluation)) {
    if (split.length > 40) continue;
    numbers[`${split}.baseGreedyAccuracy`] = result.base.greedyAccuracy;
    numbers[`${split}.finalGreedyAccuracy`] = result.final.greedyAccuracy;
    numbers[`${split}.basePassAtN`] = result.base.passAtN;
    numbers[`${split}.finalPassAtN`] = result.final.passAtN;
  }
  const finite = Object.entries(numbers).filter(([, value]) => Number.isFinite(value));
  return Object.fromEntries(finite.slice(0, MAX_SELF_REPORTED));
}
