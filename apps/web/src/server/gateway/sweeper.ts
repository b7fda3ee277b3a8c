// Re-queues runs whose lease ran out (their runner died or lost its network), on a timer.
// Every server instance runs one; SKIP LOCKED keeps two sweepers off the same run.
import type { Db } from "@transcend/db";
import { sweepExpiredLeases, type QueueSettings } from "../services/queue";

/** How often expired leases are looked for: a small fraction of a lease, so a dead runner's run waits little. */
export const SWEEP_INTERVAL_MS = 5_000;

export class LeaseSweeper {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly options: { db: Db; intervalMs?: number; settings?: Partial<QueueSettings>; log?: (line: string) => void },
  ) {
    this.timer = setInterval(() => void this.sweep(), options.intervalMs ?? SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** One sweep now (also what the timer runs); overlapping calls share the sweep in progress. */
  sweep(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= sweepExpiredLeases(this.options.db, { settings: this.options.settings })
      .then((swept) => {
        for (const run of swept) this.options.log?.(`lease of run ${run.runId} attempt ${run.attempt} expired: ${run.state === "queued" ? "re-queued" : "failed"}`);
      })
      .catch((error: unknown) => this.options.log?.(`lease sweep failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }
}
