// Callers for router tests: real users in the database and a tRPC caller acting as each
// (or as nobody), so authorisation is exercised as requests would exercise it.
import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import type { Db } from "@transcend/db";
import { users } from "@transcend/db/schema";
import { expect } from "vitest";
import type { ContextUser, RunUpdateSource } from "../trpc";
import { createCaller } from "./_app";

export async function createUser(db: Db, name: string): Promise<ContextUser> {
  const id = randomUUID();
  const user = { id, name, email: `${name.toLowerCase()}-${id}@example.com` };
  await db.insert(users).values(user);
  return user;
}

export function callerAs(
  db: Db,
  user: ContextUser | null,
  options: { runUpdates?: RunUpdateSource; authMethod?: "session" | "token"; signal?: AbortSignal } = {},
) {
  return createCaller(
    {
      db,
      user,
      authMethod: user === null ? null : (options.authMethod ?? "session"),
      origin: "http://transcend.test",
      runUpdates: options.runUpdates,
    },
    { signal: options.signal },
  );
}

/** Awaits `promise` expecting a TRPCError with `code`; returns it for further checks. */
export async function expectTrpcError(promise: Promise<unknown>, code: TRPCError["code"]): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe(code);
    return error as TRPCError;
  }
  throw new Error(`expected a ${code} TRPCError, but the call succeeded`);
}

/** Field paths of a BAD_REQUEST input error (as the error formatter sends them to forms). */
export async function expectInvalidPaths(promise: Promise<unknown>): Promise<string[]> {
  const error = await expectTrpcError(promise, "BAD_REQUEST");
  const cause = error.cause as { issues?: Array<{ path: PropertyKey[] }> } | undefined;
  expect(cause?.issues).toBeDefined();
  return (cause?.issues ?? []).map((issue) => issue.path.map(String).join("."));
}

/** Keys a strict input refused, from a BAD_REQUEST input error. */
export async function expectUnrecognizedKeys(promise: Promise<unknown>): Promise<string[]> {
  const error = await expectTrpcError(promise, "BAD_REQUEST");
  const cause = error.cause as { issues?: Array<{ code: string; keys?: string[] }> } | undefined;
  return (cause?.issues ?? []).filter((issue) => issue.code === "unrecognized_keys").flatMap((issue) => issue.keys ?? []);
}
