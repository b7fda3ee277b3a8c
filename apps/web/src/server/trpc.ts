// tRPC setup shared by every router. Procedures stay thin: validate (.input/.output),
// check authorisation, call a service that takes `db` first.
import { initTRPC } from "@trpc/server";
import superjson from "superjson";
import type { Db } from "@transcend/db";

export interface TrpcContext {
  db: Db;
}

const t = initTRPC.context<TrpcContext>().create({
  // Dates and other non-JSON values cross the wire intact, in both directions.
  transformer: superjson,
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
