// Loading a page's record through the in-process tRPC caller: a missing record, or an id
// that is not one, is the 404 page rather than an error page.
import { TRPCError } from "@trpc/server";
import { notFound } from "next/navigation";

export async function orNotFound<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof TRPCError && (error.code === "NOT_FOUND" || error.code === "BAD_REQUEST")) notFound();
    throw error;
  }
}
