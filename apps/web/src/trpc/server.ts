// tRPC for React Server Components: calls procedures in-process (same validation and
// output schemas as over HTTP) with the database from the server context, as the user
// whose session cookie came with the page request.
import { headers } from "next/headers";
import { getAuth, sessionUser } from "@/server/auth";
import { getServerContext } from "@/server/context";
import { createCaller } from "@/server/routers/_app";
import type { TrpcContext } from "@/server/trpc";

export function serverCaller() {
  return createCaller(async (): Promise<TrpcContext> => {
    const { db } = getServerContext();
    const requestHeaders = await headers();
    const user = await sessionUser(getAuth(db), requestHeaders);
    const host = requestHeaders.get("host") ?? "localhost";
    const protocol = requestHeaders.get("x-forwarded-proto") === "https" ? "https" : "http";
    return { db, user, authMethod: user === null ? null : "session", origin: `${protocol}://${host}` };
  });
}
