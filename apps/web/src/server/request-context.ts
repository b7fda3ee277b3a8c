// Builds a tRPC context from an HTTP request: who is calling (a personal access token in
// `Authorization: Bearer`, else the session cookie), and this site's origin.
import { TRPCError } from "@trpc/server";
import type { Db } from "@transcend/db";
import { apiEnv } from "./api-env";
import { getAuth, sessionUser, type Auth } from "./auth";
import { authenticateApiToken } from "./services/api-tokens";
import type { RunUpdateSource, TrpcContext } from "./trpc";

/** `Authorization: Bearer <token>` → the token; undefined when there is no such header. */
export function bearerTokenOf(headers: Headers): string | undefined {
  const header = headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(header);
  // A malformed Authorization header is a failed token login, not an anonymous request.
  return match?.[1] ?? "";
}

/** The origin users reach this site at: BETTER_AUTH_URL when set, else the request's own. */
export function siteOrigin(request: Request): string {
  return apiEnv().publicUrl ?? new URL(request.url).origin;
}

export async function createRequestContext(
  request: Request,
  deps: { db: Db; auth?: Auth; runUpdates?: RunUpdateSource | undefined },
): Promise<TrpcContext> {
  const base = { db: deps.db, origin: siteOrigin(request), runUpdates: deps.runUpdates };
  const token = bearerTokenOf(request.headers);
  if (token !== undefined) {
    const user = await authenticateApiToken(deps.db, token);
    if (user === null) {
      // Falling back to anonymous would hide a revoked token behind a confusing FORBIDDEN later.
      throw new TRPCError({ code: "UNAUTHORIZED", message: "This personal access token is unknown, expired or revoked." });
    }
    return { ...base, user, authMethod: "token" };
  }
  const user = await sessionUser(deps.auth ?? getAuth(deps.db), request.headers);
  return { ...base, user, authMethod: user === null ? null : "session" };
}
