// tRPC for React Server Components: calls procedures in-process (same validation and
// output schemas as over HTTP) with the database from the server context.
import { getServerContext } from "@/server/context";
import { createCaller } from "@/server/routers/_app";

export function serverCaller() {
  return createCaller({ db: getServerContext().db });
}
