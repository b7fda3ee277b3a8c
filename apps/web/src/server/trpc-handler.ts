// The HTTP side of the tRPC API (/api/trpc/<procedure>), apart from Next so tests can send
// it real requests: the request guard (JSON from our origin for cookie-authenticated
// writes, a body limit), then tRPC with a context built from the request.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Db } from "@transcend/db";
import type { Auth } from "./auth";
import { retryAfterOf } from "./rate-limit";
import { createRequestContext } from "./request-context";
import { guardTrpcRequest } from "./request-guard";
import { appRouter } from "./routers/_app";
import type { RunUpdateSource } from "./trpc";

export interface TrpcHandlerDeps {
  db: Db;
  /** BETTER_AUTH_URL's origin, when the site has a configured public URL. */
  publicOrigin: string | undefined;
  auth?: Auth;
  runUpdates?: RunUpdateSource | undefined;
  dailyRunQuota?: number;
}

export async function handleTrpcRequest(incoming: Request, deps: TrpcHandlerDeps): Promise<Response> {
  const guarded = await guardTrpcRequest(incoming, deps.publicOrigin);
  if (!guarded.ok) return guarded.response;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: guarded.request,
    router: appRouter,
    createContext: async () => ({
      ...(await createRequestContext(guarded.request, deps)),
      ...(deps.dailyRunQuota === undefined ? {} : { dailyRunQuota: deps.dailyRunQuota }),
    }),
    responseMeta: ({ errors }) => {
      const headers = new Headers({ "cache-control": "no-store" });
      // A rate-limited procedure (TOO_MANY_REQUESTS → 429) tells the client when to retry.
      const retryAfter = retryAfterOf(errors);
      if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
      return { headers };
    },
  });
}
