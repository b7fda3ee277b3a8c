// tRPC over HTTP for the pages (cookie) and scripts (personal access token); SSE for
// subscriptions. Mutations only as JSON from our own origin unless token-authenticated.
import { apiEnv } from "@/server/api-env";
import { getServerContext } from "@/server/context";
import { handleTrpcRequest } from "@/server/trpc-handler";
import type { RunUpdateSource } from "@/server/trpc";

// Answers from the live database on every request; nothing here can be prerendered.
export const dynamic = "force-dynamic";

function handler(request: Request): Promise<Response> {
  const server = getServerContext();
  // The fleet's LISTEN/NOTIFY fan-out, when the server started one; without it clients poll.
  const runUpdates = (server as Partial<{ runEvents: RunUpdateSource }>).runEvents;
  return handleTrpcRequest(request, { db: server.db, publicOrigin: apiEnv().publicUrl, runUpdates });
}

export { handler as GET, handler as POST };
