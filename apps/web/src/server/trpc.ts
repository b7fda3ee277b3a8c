// tRPC setup shared by every router. Procedures stay thin: validate (.input/.output),
// check authorisation, call a service that takes `db` first.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { Db } from "@transcend/db";

/** Who is calling: the account of a session cookie or of a personal access token. */
export interface ContextUser {
  id: string;
  name: string;
  email: string;
}

/** Live run updates (services/run-events.ts RunEvents has this shape). */
export interface RunUpdateEvent {
  runId: string;
  state?: string | undefined;
  attempt?: number | undefined;
  phase?: string | undefined;
  step?: number | undefined;
  metrics?: Record<string, number> | undefined;
}
export interface RunUpdateSource {
  onRunUpdated(runId: string, handler: (event: RunUpdateEvent) => void): () => void;
}

export interface TrpcContext {
  db: Db;
  /** null: anonymous. Public procedures may still read it (e.g. to mark "mine"). */
  user: ContextUser | null;
  /** How `user` was authenticated; null when anonymous. */
  authMethod: "session" | "token" | null;
  /** This site's origin as its users reach it, e.g. for the runner register command. */
  origin: string;
  /** Live updates for subscriptions; absent where the server has none (then clients poll). */
  runUpdates?: RunUpdateSource | undefined;
  /** Runs one user may submit per 24 hours; unset: TRANSCEND_DAILY_RUN_QUOTA (tests set it here). */
  dailyRunQuota?: number | undefined;
}

/** One field problem of a rejected input: where (`splits.1.params.depth.max`) and what. */
export interface InputIssue {
  path: string;
  message: string;
}

const t = initTRPC.context<TrpcContext>().create({
  // Dates and other non-JSON values cross the wire intact, in both directions.
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // Forms show each message next to its field, so rejected inputs carry their paths.
    const issues: InputIssue[] | null =
      error.code === "BAD_REQUEST" && error.cause instanceof ZodError
        ? error.cause.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }))
        : null;
    return { ...shape, data: { ...shape.data, issues } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** No account needed (the leaderboard, public task variants and recipes). */
export const publicProcedure = t.procedure;

/**
 * A signed-in user (session cookie) or a personal access token. Only proves who calls:
 * every procedure that touches owned data still checks ownership itself.
 */
export const protectedProcedure = t.procedure.use(({ ctx, next }) => {
  if (ctx.user === null) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in (or send a personal access token) to do this." });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** Throws FORBIDDEN unless `ownerId` is the caller: the check every owned-data procedure makes. */
export function assertOwner(user: ContextUser, ownerId: string, what: string): void {
  if (user.id !== ownerId) throw new TRPCError({ code: "FORBIDDEN", message: `This ${what} belongs to someone else.` });
}

/** The context of a caller with no account (server-side rendering of public pages, tests). */
export function anonymousContext(db: Db, origin = "http://localhost"): TrpcContext {
  return { db, user: null, authMethod: null, origin };
}
