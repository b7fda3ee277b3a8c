import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { apiEnv } from "@/server/api-env";
import { getServerContext } from "@/server/context";
import { createRequestContext } from "@/server/request-context";
import { guardTrpcRequest } from "@/server/request-guard";
import { appRouter } from "@/server/routers/_app";
import type { RunUpdateSource } from "@/server/trpc";

// Answers from the live database on every request; nothing here can be prerendered.
export const dynamic = "force-dynamic";

async function handler(incoming: Request): Promise<Response> {
  // Mutations only as JSON from our own origin (or with a token); bodies within a limit.
  const guarded = await guardTrpcRequest(incoming, apiEnv().publicUrl);
  if (!guarded.ok) return guarded.response;
  const server = getServerContext();
  // The fleet's LISTEN/NOTIFY fan-out, when the server started one; without it clients poll.
  const runUpdates = (server as Partial<{ runEvents: RunUpdateSource }>).runEvents;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: guarded.request,
    router: appRouter,
    createContext: () => createRequestContext(guarded.request, { db: server.db, runUpdates }),
  });
}

export { handler as GET, handler as POST };
