// Every tRPC procedure, called with random and boundary inputs drawn from its own input
// schema, as nobody, as a signed-in user (session and personal access token) and as
// another user holding the first one's ids: the answer is a value or a named client
// error, never INTERNAL_SERVER_ERROR, and a refused mutation leaves every table's row
// count as it was (no half-done writes). Procedures are found by walking the router, so
// a procedure added tomorrow is fuzzed without touching this file.
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import { z } from "zod";
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configureRateLimits } from "../rate-limit";
import { appRouter } from "../routers/_app";
import { callerAs, createUser } from "../routers/test-support";
import { seedDatabase } from "../seed";
import { createApiToken } from "../services/api-tokens";
import { createRunner, createVariantAndRecipe, queueRuns } from "../test-fleet";
import type { ContextUser } from "../trpc";
import { rowCounts } from "./db-snapshot";
import { arbitraryFromSchema, type ValuePools } from "./schema-arbitrary";

/**
 * Cases per procedure and caller: ~35 procedures × 4 callers × 6 ≈ 850 calls, about 20 s
 * on a loaded machine. FUZZ_RUNS=200 for a longer hunt by hand.
 */
const RUNS_PER_PROCEDURE = Number(process.env.FUZZ_RUNS ?? 6);

interface ProcedureInfo {
  path: string;
  type: "query" | "mutation" | "subscription";
  input: z.ZodType | undefined;
}

function listProcedures(): ProcedureInfo[] {
  const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: ProcedureInfo["type"]; inputs: z.ZodType[] } }> } })._def
    .procedures;
  return Object.entries(procedures).map(([path, procedure]) => ({ path, type: procedure._def.type, input: procedure._def.inputs[0] }));
}

type Caller = ReturnType<typeof callerAs>;

function procedureOf(caller: Caller, path: string): (input: unknown) => Promise<unknown> {
  let target: unknown = caller;
  for (const part of path.split(".")) target = (target as Record<string, unknown>)[part];
  if (typeof target !== "function") throw new Error(`no procedure at ${path}`);
  return target as (input: unknown) => Promise<unknown>;
}

/** Calls and settles: a subscription's iterator is closed straight away (its setup is what is fuzzed). */
async function call(fn: (input: unknown) => Promise<unknown>, input: unknown): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    const result = await fn(input);
    const open = (result as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown> } | null)?.[Symbol.asyncIterator];
    if (typeof open === "function") await open.call(result).return?.();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

const CLIENT_ERRORS = new Set<TRPCError["code"]>([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PRECONDITION_FAILED",
  "TOO_MANY_REQUESTS",
  "UNPROCESSABLE_CONTENT",
  "PAYLOAD_TOO_LARGE",
  "METHOD_NOT_SUPPORTED",
]);

describeEachDatabase("tRPC fuzzing", (getDb) => {
  let owner: ContextUser;
  let other: ContextUser;
  const pools: ValuePools = { uuids: [], slugs: [] };

  beforeAll(async () => {
    // Submissions are fuzzed for their answers, not for the burst limit (tested elsewhere).
    configureRateLimits({ submit: null });
    const db = getDb();
    await seedDatabase(db);
    owner = await createUser(db, "Owner");
    other = await createUser(db, "Other");
    const { variantId, recipeId } = await createVariantAndRecipe(db, owner.id);
    const runIds = await queueRuns(db, { submitterId: owner.id, variantId, recipeId, count: 2 });
    const runner = await createRunner(db, owner.id);
    const token = await createApiToken(db, { userId: owner.id, name: "fuzz" });
    pools.uuids.push(variantId, recipeId, runner.runnerId, token.id, ...runIds);
    const owned = await callerAs(db, owner).variants.list({ owner: "mine" });
    pools.slugs.push(...owned.items.map((item) => item.slug), "string-ops-depth-zero");
  });

  afterAll(() => configureRateLimits());

  it("answers random and boundary inputs of every procedure without a server error or a partial write", async () => {
    const db = getDb();
    const procedures = listProcedures();
    expect(procedures.length).toBeGreaterThan(10);
    const callers: Array<{ who: string; caller: Caller; anonymous: boolean }> = [
      { who: "anonymous", caller: callerAs(db, null), anonymous: true },
      { who: "owner (session)", caller: callerAs(db, owner), anonymous: false },
      { who: "owner (token)", caller: callerAs(db, owner, { authMethod: "token" }), anonymous: false },
      { who: "other user", caller: callerAs(db, other), anonymous: false },
    ];
    const failures: string[] = [];
    let calls = 0;

    for (const procedure of procedures) {
      const schema = procedure.input ? z.toJSONSchema(procedure.input, { io: "input", unrepresentable: "any" }) : {};
      const inputs = fc.oneof(
        { arbitrary: arbitraryFromSchema(schema, pools), weight: 4 },
        { arbitrary: fc.anything({ maxDepth: 2 }), weight: 1 },
      );
      for (const { who, caller, anonymous } of callers) {
        const fn = procedureOf(caller, procedure.path);
        const samples = fc.sample(inputs, { numRuns: RUNS_PER_PROCEDURE, seed: hashSeed(`${procedure.path}/${who}`) });
        for (const input of samples) {
          const before = procedure.type === "mutation" ? await rowCounts(db) : undefined;
          const outcome = await call(fn, input);
          calls += 1;
          const shown = `${procedure.path} as ${who} with ${preview(input)}`;
          if (!outcome.ok) {
            const error = outcome.error;
            if (!(error instanceof TRPCError)) {
              failures.push(`${shown}: threw ${String(error)}`);
            } else if (!CLIENT_ERRORS.has(error.code)) {
              failures.push(`${shown}: ${error.code} ${error.message}`);
            }
            if (before) {
              const after = await rowCounts(db);
              const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
              if (changed.length > 0) failures.push(`${shown}: refused but wrote to ${changed.join(", ")}`);
            }
          } else if (anonymous && procedure.type === "mutation") {
            failures.push(`${shown}: an anonymous mutation succeeded`);
          }
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(calls).toBe(procedures.length * callers.length * RUNS_PER_PROCEDURE);
  }, 120_000);
});

/** Stable per-procedure seeds: a failure reproduces on the next run. */
function hashSeed(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
