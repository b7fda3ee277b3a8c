// The runner daemon, as an explicit state machine:
//
//   connecting ──welcome──▶ idle ──assign──▶ busy ──job ended──▶ idle
//       ▲                    │                 │
//       └── connection lost ─┘                 │ (the job keeps running while disconnected)
//   any ──first SIGINT/SIGTERM or a `drain` frame──▶ draining ──job ended, results recorded──▶ stopped
//   any ──second signal──▶ (job killed, retryable `failed` sent) ──▶ stopped
//
// The state is derived from three facts — is a job running, is the server connected, was
// a drain asked for — and every change is logged. The daemon's own event loop sends the
// heartbeats (the job runs in a child process), so a long training step never starves them.
//
// An assignment refused at once (draining, busy, invalid variant or recipe) starts no job,
// but its `failed` is a result like any other: it waits in an outbox of its own until the
// server answers `result-recorded` (or refuses it as stale or foreign), is re-sent after
// every reconnect, and its attempt is listed in hellos and heartbeats meanwhile.
import {
  type AttemptRef,
  CLOSE_CODES,
  type HelloMessage,
  recipeSchema,
  type RunnerToServer,
  type ServerToRunnerMessage,
  taskVariantSchema,
} from "@transcend/protocol";
import type { BackendName } from "../backend";
import { ConnectionRefusedError, RunnerConnection } from "../connection/runner-connection";
import { AttemptJob } from "./attempt-job";
import { AttemptOutbox } from "./attempt-outbox";
import type { JobExit } from "./job-supervisor";

export type DaemonState = "connecting" | "idle" | "busy" | "draining" | "stopped";

const ALLOWED_TRANSITIONS: Record<DaemonState, readonly DaemonState[]> = {
  connecting: ["idle", "busy", "draining", "stopped"],
  idle: ["connecting", "busy", "draining", "stopped"],
  busy: ["idle", "connecting", "draining", "stopped"],
  draining: ["stopped"],
  stopped: [],
};

/** SIGTERM → grace → SIGKILL: ten seconds lets a job write what it was writing, and no more. */
export const DEFAULT_CANCEL_GRACE_MS = 10_000;
/** A drained runner waits this long for its last result to reach the server before it closes anyway. */
export const DRAIN_DELIVERY_TIMEOUT_MS = 30_000;
/** One job at a time: training takes every core the machine gives it. */
export const SLOTS = 1;
/** The protocol's cap on attempts in a hello or heartbeat. */
const MAX_LISTED_ATTEMPTS = 16;
/**
 * Refusals kept until recorded, at most: with the jobs' slots this fills a hello or
 * heartbeat, so every attempt the runner holds is listed (and a server that keeps
 * assigning cannot grow the runner's memory). The oldest goes first; its run waits for the
 * lease sweeper as it did before refusals were kept.
 */
export const MAX_PENDING_REFUSALS = MAX_LISTED_ATTEMPTS - SLOTS;

type AssignFrame = Extract<ServerToRunnerMessage, { type: "assign" }>;
type FailedFrame = Extract<RunnerToServer, { type: "failed" }>;

/** A refused assignment: no job, only its `failed` waiting for `result-recorded`. */
interface Refusal {
  ref: AttemptRef;
  outbox: AttemptOutbox;
}

export interface RunnerDaemonOptions {
  url: URL;
  /** The server's web address (checkpoint uploads). */
  server: string;
  credential?: string;
  hello: Omit<HelloMessage, "type" | "protocolVersion" | "activeAttempts">;
  /** Per-attempt checkpoint directories are created under it. */
  workDir: string;
  /** The origin-checkpoint cache, shared by every run on this runner. */
  originCacheDir: string | false;
  backend?: BackendName | "auto";
  cancelGraceMs?: number;
  drainDeliveryTimeoutMs?: number;
  log?: (line: string) => void;
  /** Reconnect delays (tests use short ones). */
  delayMs?: (attempt: number) => number;
  /** Extra environment for job processes (test hooks). */
  jobEnv?: NodeJS.ProcessEnv;
  uploadRetryDelayMs?: number;
}

const keyOf = (ref: AttemptRef) => `${ref.runId}#${ref.attempt}`;

export class RunnerDaemon {
  private current: DaemonState = "connecting";
  private readonly connection: RunnerConnection;
  private readonly attempts = new Map<string, AttemptJob>();
  /** In the order refused (a Map keeps insertion order): the oldest is dropped first. */
  private readonly refusals = new Map<string, Refusal>();
  private readonly listeners = new Set<(state: DaemonState) => void>();
  private readonly log: (line: string) => void;
  private drainReason: string | undefined;
  private stopNowReason: string | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: RunnerDaemonOptions) {
    this.log = options.log ?? (() => undefined);
    this.connection = new RunnerConnection({
      url: options.url,
      credential: options.credential,
      hello: () => ({ ...options.hello, activeAttempts: this.activeAttempts() }),
      log: this.log,
      delayMs: options.delayMs,
      onMessage: (message) => this.onServerMessage(message),
    });
    this.connection.onStateChange((state) => {
      if (state.name === "connecting") this.onConnectionLost();
      this.update();
    });
  }

  get state(): DaemonState {
    return this.current;
  }

  onStateChange(listener: (state: DaemonState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The attempts this runner holds, job running or result not yet delivered (for tests and status). */
  get jobs(): readonly AttemptJob[] {
    return [...this.attempts.values()];
  }

  /** The attempts refused at once whose `failed` the server has not recorded yet (for tests and status). */
  get pendingRefusals(): readonly AttemptRef[] {
    return [...this.refusals.values()].map((refusal) => refusal.ref);
  }

  /** Runs until stopped; rejects with ConnectionRefusedError when the server refuses this runner. */
  async run(): Promise<void> {
    try {
      await this.connection.run();
    } catch (error) {
      if (error instanceof ConnectionRefusedError) await this.killJobs(`the server refused this runner: ${error.message}`);
      throw error;
    } finally {
      clearInterval(this.heartbeatTimer);
      this.transition("stopped");
    }
  }

  /** Graceful stop (first Ctrl-C, SIGTERM or a `drain` frame): finish the current job, take no new one, then stop. */
  drain(reason: string): void {
    if (this.drainReason !== undefined || this.current === "stopped") return;
    this.drainReason = reason;
    const job = this.runningJob();
    this.log(job ? `draining (${reason}): finishing ${job.label}, taking no new runs` : `draining (${reason})`);
    this.update();
  }

  /** Immediate stop (second Ctrl-C): kill the job, report it as retryable, close the socket with 1000. */
  async stopNow(reason: string): Promise<void> {
    if (this.stopNowReason !== undefined) return;
    this.stopNowReason = reason;
    this.drainReason ??= reason;
    this.update();
    await this.killJobs(reason);
    this.close();
  }

  /**
   * The attempts whose leases this runner still needs, listed in the hello and every
   * heartbeat: job running, or result not yet recorded by the server. Renewing until the
   * `result-recorded` keeps a result that waits behind other frames (or a reconnect) from
   * losing its lease to the sweeper; one the server has recorded meanwhile is answered
   * with `result-recorded` again, not refused. A refusal waiting for its answer is listed
   * the same way; jobs come first, so a running job's lease is never the one left out.
   */
  private activeAttempts(): AttemptRef[] {
    const jobs = [...this.attempts.values()].filter((job) => !job.resultDelivered).map((job) => job.ref);
    return [...jobs, ...this.pendingRefusals].slice(0, MAX_LISTED_ATTEMPTS);
  }

  private runningJob(): AttemptJob | undefined {
    return [...this.attempts.values()].find((job) => job.status !== "ended");
  }

  private send(message: RunnerToServer): boolean {
    return this.connection.send(message);
  }

  /** Recomputes the state from the facts and acts on entering it. */
  private update(): void {
    if (this.current === "stopped") return;
    const next: DaemonState =
      this.drainReason !== undefined ? "draining" : this.runningJob() ? "busy" : this.connection.connected ? "idle" : "connecting";
    if (next !== this.current) this.transition(next);
    if (this.current === "draining") this.maybeFinishDrain();
  }

  private transition(next: DaemonState): void {
    if (next === this.current) return;
    if (!ALLOWED_TRANSITIONS[this.current].includes(next)) throw new Error(`runner daemon: no transition from ${this.current} to ${next}`);
    this.log(`state: ${this.current} → ${next}`);
    this.current = next;
    if (next === "idle") this.send({ type: "ready", slots: SLOTS });
    for (const listener of this.listeners) listener(next);
  }

  private onConnectionLost(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private onWelcome(heartbeatIntervalMs: number): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.send({ type: "heartbeat", attempts: this.activeAttempts() }), heartbeatIntervalMs);
    // The server keeps the leases the hello listed; it gets what it has not acknowledged.
    for (const job of this.attempts.values()) job.resend();
    for (const refusal of this.refusals.values()) refusal.outbox.resend();
    this.update();
    // Back to idle from idle cannot happen (a lost connection passes through connecting),
    // but a welcome after a busy reconnect leaves the state busy: nothing more to say.
  }

  private onServerMessage(message: ServerToRunnerMessage): void {
    switch (message.type) {
      case "welcome":
        return this.onWelcome(message.heartbeatIntervalMs);
      case "assign":
        return this.onAssign(message);
      case "evaluation-set":
      case "graded":
      case "ack":
        this.attempts.get(keyOf(message))?.handle(message);
        return;
      case "result-recorded": {
        this.attempts.get(keyOf(message))?.handle(message);
        const refusal = this.refusals.get(keyOf(message));
        if (refusal?.outbox.recorded()) this.log(`run ${message.runId} attempt ${message.attempt}: the server recorded its refusal`);
        return;
      }
      case "cancel": {
        const job = this.attempts.get(keyOf(message));
        if (job) void job.cancel(message.reason);
        this.dropRefusal(message, message.reason);
        return;
      }
      case "drain":
        return this.drain(`the server asked: ${message.reason}`);
      case "error": {
        // Connection-wide errors precede a close; the connection reports them with it.
        if (message.runId === undefined || message.attempt === undefined) return;
        const ref = { runId: message.runId, attempt: message.attempt };
        const job = this.attempts.get(keyOf(ref));
        // The lease is gone (re-assigned elsewhere, or the run is not ours): the job's work counts
        // for nothing, and a refusal has nothing left to say.
        const leaseGone = message.reason === "stale_attempt" || message.reason === "not_your_run";
        if (leaseGone && job) void job.cancel(`${message.reason}: ${message.message}`);
        else if (leaseGone && this.refusals.has(keyOf(ref))) this.dropRefusal(ref, `${message.reason}: ${message.message}`);
        else this.log(`the server refused a message for run ${message.runId} (${message.reason}): ${message.message}`);
        return;
      }
    }
  }

  private onAssign(assign: AssignFrame): void {
    const ref = { runId: assign.runId, attempt: assign.attempt };
    const existing = this.attempts.get(keyOf(ref));
    if (existing) return existing.handle(assign);
    // The same attempt again while its refusal waits for an answer: refused it stays.
    const refused = this.refusals.get(keyOf(ref));
    if (refused) return refused.outbox.resend();
    const refuse = (retryable: boolean, error: string) => {
      this.log(`refused run ${ref.runId} attempt ${ref.attempt}: ${error}`);
      this.holdRefusal({ type: "failed", ...ref, retryable, error });
    };
    if (this.drainReason !== undefined) return refuse(true, "this runner is draining and takes no new runs");
    if (this.runningJob()) return refuse(true, "this runner is already running a job");
    const variant = taskVariantSchema.safeParse(assign.variant);
    if (!variant.success) return refuse(false, `invalid task variant: ${describeIssues(variant.error.issues)}`);
    const recipe = recipeSchema.safeParse(assign.recipe);
    if (!recipe.success) return refuse(false, `invalid recipe: ${describeIssues(recipe.error.issues)}`);

    const key = keyOf(ref);
    const job = new AttemptJob({
      assign,
      variant: variant.data,
      recipe: recipe.data,
      send: (message) => this.send(message),
      server: this.options.server,
      workDir: this.options.workDir,
      originCacheDir: this.options.originCacheDir,
      backend: this.options.backend ?? "auto",
      cancelGraceMs: this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
      jobEnv: this.options.jobEnv,
      uploadRetryDelayMs: this.options.uploadRetryDelayMs,
      log: this.log,
      onJobEnded: () => this.update(),
      onSettled: () => {
        if (this.attempts.get(key) === job) this.attempts.delete(key);
        this.update();
      },
    });
    this.attempts.set(key, job);
    this.log(`${job.label}: started (${variant.data.slug}, recipe ${recipe.data.name ?? "custom"}, seed ${assign.seed}, job pid ${job.pid ?? "?"})`);
    this.update();
  }

  /** Sends a refusal's `failed` and keeps it, as a job's result is kept, until the server records it. */
  private holdRefusal(frame: FailedFrame): void {
    const ref = { runId: frame.runId, attempt: frame.attempt };
    const key = keyOf(ref);
    for (const [oldestKey, oldest] of this.refusals) {
      if (this.refusals.size < MAX_PENDING_REFUSALS) break;
      oldest.outbox.discard();
      this.refusals.delete(oldestKey);
      this.log(`run ${oldest.ref.runId} attempt ${oldest.ref.attempt}: no longer keeping its refusal (${MAX_PENDING_REFUSALS} newer ones wait for the server; its lease will run out)`);
    }
    const outbox: AttemptOutbox = new AttemptOutbox(ref, (message) => this.send(message), () => {
      if (this.refusals.get(key)?.outbox === outbox) this.refusals.delete(key);
      // A draining runner may have been waiting for this answer alone.
      this.update();
    });
    this.refusals.set(key, { ref, outbox });
    outbox.finish(frame);
  }

  /** The server cancelled a refused attempt or refused its `failed` as stale or foreign: nothing to retry. */
  private dropRefusal(ref: AttemptRef, reason: string): void {
    const refusal = this.refusals.get(keyOf(ref));
    if (!refusal) return;
    this.log(`run ${ref.runId} attempt ${ref.attempt}: dropping its refusal (${reason})`);
    refusal.outbox.discard();
    this.refusals.delete(keyOf(ref));
    this.update();
  }

  private drainTimer: NodeJS.Timeout | undefined;

  /** While draining: once no job runs and every result is delivered (or the wait ran out), close. */
  private maybeFinishDrain(): void {
    if (this.closing || this.stopNowReason !== undefined) return;
    if (this.runningJob()) return;
    const undelivered = [...this.attempts.values()].filter((job) => !job.resultDelivered).length + this.refusals.size;
    // Undelivered results (refusals too) wait for the connection (or a reconnect) up to the drain timeout.
    if (undelivered === 0) return this.close();
    // Each recorded or refused result settles its attempt, which calls update() and so
    // this again: no polling, only a cap on the wait.
    this.drainTimer ??= setTimeout(() => this.close(), this.options.drainDeliveryTimeoutMs ?? DRAIN_DELIVERY_TIMEOUT_MS);
  }

  private close(): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.drainTimer);
    clearInterval(this.heartbeatTimer);
    this.log(`closing the connection (code ${CLOSE_CODES.normal})`);
    this.connection.stop();
  }

  private async killJobs(reason: string): Promise<JobExit[]> {
    const running = [...this.attempts.values()].filter((job) => job.status === "running");
    for (const job of running) this.log(`${job.label}: killing the job (${reason})`);
    return Promise.all(running.map((job) => job.stopNow(reason)));
  }
}

function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
    .join("; ")
    .slice(0, 1500);
}
