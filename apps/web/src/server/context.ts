// The process-wide server context: the database handle and the runner gateway, created
// once by server.ts. Next bundles each route handler separately from server.ts, so a
// module-level singleton would exist once per bundle; a globalThis key is shared by all.
import type { Db } from "@transcend/db";
import type { RunnerGateway } from "./gateway/runner-gateway";
import type { RunEvents } from "./services/run-events";

export type DatabaseKind = "pglite" | "postgres";

export interface ServerContext {
  db: Db;
  databaseKind: DatabaseKind;
  gateway: RunnerGateway;
  /** Cross-instance fleet signals (LISTEN/NOTIFY): live run updates for pages, cancels, revocations. */
  runEvents: RunEvents;
  version: string;
  /** Resolves when the database answers a trivial query; used by the health check. */
  pingDatabase(): Promise<void>;
}

const CONTEXT_KEY = Symbol.for("transcend.serverContext");

type GlobalWithContext = typeof globalThis & { [CONTEXT_KEY]?: ServerContext };

export function setServerContext(context: ServerContext): void {
  (globalThis as GlobalWithContext)[CONTEXT_KEY] = context;
}

/** Forgets `context` if it is the current one (a second server in one process must not clear the first's). */
export function clearServerContext(context: ServerContext): void {
  const holder = globalThis as GlobalWithContext;
  if (holder[CONTEXT_KEY] === context) holder[CONTEXT_KEY] = undefined;
}

export function getServerContext(): ServerContext {
  const context = (globalThis as GlobalWithContext)[CONTEXT_KEY];
  if (!context) {
    // Happens under `next dev`/`next start`, which bypass server.ts: the database and the
    // gateway only exist in the custom server.
    throw new Error("Transcend server context is missing: start the app with `npm start` (server.ts), not `next start`.");
  }
  return context;
}
