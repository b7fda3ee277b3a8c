// The daemon's handle on one job process: fork it, talk to it, kill it.
//
// Kill = SIGTERM, a grace period, then SIGKILL: a job that ignores SIGTERM (or is stuck in
// a native call) is still gone within the grace period plus a moment.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { JobSpec, JobToParent, ParentToJob } from "./ipc";

const ENTRY = fileURLToPath(new URL("./job-process-entry.mjs", import.meta.url));

/** How a job process ended. */
export interface JobExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface JobSupervisorOptions {
  job: JobSpec;
  onMessage: (message: JobToParent) => void;
  /** Every chunk the job writes to stdout or stderr: the job's log. */
  onOutput: (text: string) => void;
  /** Extra environment for the job process (tests set hooks here). */
  env?: NodeJS.ProcessEnv;
}

export class JobSupervisor {
  private readonly child: ChildProcess;
  /** Resolves once the process is gone, with how it ended. */
  readonly exited: Promise<JobExit>;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(options: JobSupervisorOptions) {
    this.child = fork(ENTRY, [], {
      // Its own process group: a Ctrl-C in the daemon's terminal means "drain", and must
      // not reach the job, which finishes its run.
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, ...options.env },
      execArgv: [],
      serialization: "json",
    });
    this.child.stdout?.setEncoding("utf8").on("data", options.onOutput);
    this.child.stderr?.setEncoding("utf8").on("data", options.onOutput);
    this.child.on("message", (message) => options.onMessage(message as JobToParent));
    // A job that crashed while a message was in flight: the exit below reports it.
    this.child.on("error", () => undefined);
    // "close", not "exit": it comes after the IPC channel and the pipes are drained, so the
    // job's last message (its result) has been handled when this resolves.
    this.exited = new Promise((resolve) =>
      this.child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(this.killTimer);
        resolve({ code, signal });
      }),
    );
    this.post({ type: "start", job: options.job });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  post(message: ParentToJob): void {
    if (this.child.connected) this.child.send(message);
  }

  /** SIGTERM now, SIGKILL after `graceMs` if it is still there; resolves when it is gone. */
  kill(graceMs: number): Promise<JobExit> {
    if (this.running) {
      this.child.kill("SIGTERM");
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => {
        if (this.running) this.child.kill("SIGKILL");
      }, graceMs);
    }
    return this.exited;
  }

  /** SIGKILL at once (a second Ctrl-C: stop now). */
  killNow(): Promise<JobExit> {
    if (this.running) this.child.kill("SIGKILL");
    return this.exited;
  }
}

/** A job process that died without reporting: infrastructure (OOM killer, a crash), worth another attempt. */
export function describeCrash(exit: JobExit): string {
  if (exit.signal === "SIGKILL") return "the job process was killed by SIGKILL (out of memory?)";
  if (exit.signal) return `the job process was killed by ${exit.signal}`;
  return `the job process exited with code ${exit.code ?? "unknown"} without a result`;
}
