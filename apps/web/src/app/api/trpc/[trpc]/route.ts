import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getServerContext } from "@/server/context";
import { appRouter } from "@/server/routers/_app";

// Answers from the live database on every request; nothing here can be prerendered.
export const dynamic = "force-dynamic";

function handler(request: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: () => ({ db: getServerContext().db }),
  });
}

export { handler as GET, handler as POST };
