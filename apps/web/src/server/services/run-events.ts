// Instance-to-instance signals over PostgreSQL LISTEN/NOTIFY (DESIGN.md §2.3). A runner
// is connected to one server instance, a browser maybe to another: a cancel, a revocation
// or a progress update is published into the database and every instance (this one too)
// hears it. PGlite delivers the same notifications in-process, so one code path serves
// both. Published inside a transaction, an event is delivered only if it commits.
import { z } from "zod";
import { notify, type Database, type Db } from "@transcend/db";
import { RUN_STATES } from "@transcend/db/schema";

/** The one channel every instance listens on; events are told apart by `type`. */
export const FLEET_CHANNEL = "transcend_fleet";

const uuid = z.string().uuid();

export const fleetEventSchema = z.discriminatedUnion("type", [
  /** Stop this attempt wherever its runner is connected. */
  z.object({ type: z.literal("cancel-attempt"), runId: uuid, attempt: z.number().int().min(1), reason: z.string().min(1).max(2000) }),
  /** The runner's owner revoked it: close its socket. */
  z.object({ type: z.literal("runner-revoked"), runnerId: uuid }),
  /**
   * Something visible about a run changed (state, progress, logs): live run pages refetch
   * or apply it. Small on purpose: NOTIFY payloads are limited to 8000 bytes.
   */
  z.object({
    type: z.literal("run-updated"),
    runId: uuid,
    state: z.enum(RUN_STATES).optional(),
    attempt: z.number().int().min(0).optional(),
    phase: z.string().max(64).optional(),
    step: z.number().int().min(0).optional(),
    metrics: z.record(z.string().max(64), z.number()).optional(),
  }),
  /** New queued runs (or a freed runner): idle runners elsewhere may claim now. */
  z.object({ type: z.literal("queue-changed") }),
]);
export type FleetEvent = z.infer<typeof fleetEventSchema>;
export type RunUpdatedEvent = Extract<FleetEvent, { type: "run-updated" }>;

/** Publishes an event to every instance; inside a transaction it is sent at commit. */
export async function publishFleetEvent(db: Db, event: FleetEvent): Promise<void> {
  const payload = JSON.stringify(fleetEventSchema.parse(event));
  // Metrics are the only unbounded part; drop them rather than fail the write they follow.
  if (payload.length > 7_500 && event.type === "run-updated") {
    await notify(db, FLEET_CHANNEL, JSON.stringify({ ...event, metrics: undefined }));
    return;
  }
  await notify(db, FLEET_CHANNEL, payload);
}

type Handler = (event: FleetEvent) => void;

/**
 * One LISTEN per process, fanned out to in-process subscribers (the gateway, live run
 * pages). Created by the server at start; reach it through the server context.
 */
export class RunEvents {
  private readonly handlers = new Set<Handler>();
  private unlisten: (() => Promise<void>) | undefined;

  private constructor(private readonly log: (line: string) => void) {}

  static async start(database: Pick<Database, "listen">, log: (line: string) => void = () => {}): Promise<RunEvents> {
    const events = new RunEvents(log);
    events.unlisten = await database.listen(FLEET_CHANNEL, (payload) => events.dispatch(payload));
    return events;
  }

  /** Every event; returns the function that unsubscribes. */
  subscribe(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Updates of one run, for a live run page. */
  onRunUpdated(runId: string, handler: (event: RunUpdatedEvent) => void): () => void {
    return this.subscribe((event) => {
      if (event.type === "run-updated" && event.runId === runId) handler(event);
    });
  }

  async close(): Promise<void> {
    this.handlers.clear();
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch(() => undefined);
  }

  private dispatch(payload: string): void {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      this.log(`fleet event ignored: not JSON`);
      return;
    }
    const parsed = fleetEventSchema.safeParse(json);
    if (!parsed.success) {
      this.log(`fleet event ignored: ${parsed.error.issues[0]?.message ?? "invalid"}`);
      return;
    }
    for (const handler of this.handlers) {
      try {
        handler(parsed.data);
      } catch (error) {
        this.log(`fleet event handler failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
