import { and, asc, eq, lte, sql } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "./client";
import { queryRows } from "./client";
import { metrics, runs, runStateTransitions, users } from "./schema";
import { describeEachDatabase } from "./testing";
import { createRecipe, createTaskVariant } from "./versioning";

// Not the queue service (that is the fleet's), but proof that the schema carries it on
// both drivers: the claim statement DESIGN.md §2.1 describes, and idempotent metrics.
async function claimOldest(db: Db, runnerId: string | null) {
  const oldest = db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.state, "queued"), lte(runs.notBefore, sql`now()`)))
    .orderBy(asc(runs.createdAt), asc(runs.id))
    .limit(1)
    .for("update", { skipLocked: true });
  const [claimed] = await db
    .update(runs)
    .set({
      state: "assigned",
      attempt: sql`${runs.attempt} + 1`,
      leaseRunnerId: runnerId,
      leaseExpiresAt: sql`now() + interval '30 seconds'`,
    })
    .where(eq(runs.id, oldest))
    .returning();
  return claimed;
}

describeEachDatabase("runs", (getDb) => {
  let variantId = "";
  let recipeId = "";
  beforeAll(async () => {
    await getDb().insert(users).values({ id: "runs-user", name: "R", email: "runs@example.com" });
    variantId = (await createTaskVariant(getDb(), { ownerId: "runs-user", spec: { slug: "runs-variant", name: "V" } })).id;
    recipeId = (await createRecipe(getDb(), { ownerId: "runs-user", spec: { slug: "runs-recipe", name: "R" } })).id;
  });

  it("starts queued with a secret uint32 evaluation seed", async () => {
    const [run] = await getDb().insert(runs).values({ variantId, recipeId, seed: 7, submitterId: "runs-user" }).returning();
    expect(run).toMatchObject({ state: "queued", attempt: 0, leaseRunnerId: null });
    expect(Number.isInteger(run?.evalSeed)).toBe(true);
    expect(run?.evalSeed).toBeGreaterThanOrEqual(0);
    expect(run?.evalSeed).toBeLessThan(2 ** 32);
    await getDb().update(runs).set({ state: "cancelled" }).where(eq(runs.id, run?.id ?? ""));
  });

  it("claims queued runs oldest first, each exactly once, with concurrent claimers", async () => {
    const inserted = await getDb()
      .insert(runs)
      .values([0, 1, 2, 3, 4, 5].map((seed) => ({ variantId, recipeId, seed, submitterId: "runs-user", createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, seed)) })))
      .returning({ id: runs.id });
    const claims = await Promise.all(Array.from({ length: 8 }, () => claimOldest(getDb(), null)));
    const claimed = claims.flatMap((c) => (c === undefined ? [] : [c.id]));
    expect(claimed.sort()).toEqual(inserted.map((r) => r.id).sort());
    expect(claims.filter((c) => c !== undefined).every((c) => c?.attempt === 1 && c.state === "assigned")).toBe(true);
  });

  it("records transitions and ignores a re-sent metric", async () => {
    const [run] = await getDb().insert(runs).values({ variantId, recipeId, seed: 9, submitterId: "runs-user" }).returning();
    const runId = run?.id ?? "";
    await getDb().insert(runStateTransitions).values({ runId, fromState: null, toState: "queued", reason: "submitted" });
    const point = { runId, attempt: 1, phase: "pretraining", step: 10, name: "loss", value: 2.5 };
    await getDb().insert(metrics).values(point).onConflictDoNothing();
    await getDb().insert(metrics).values({ ...point, value: 9 }).onConflictDoNothing();
    const stored = await queryRows<{ value: number }>(getDb(), sql`select value from metrics where run_id = ${runId}`);
    expect(stored).toEqual([{ value: 2.5 }]);
    const history = await getDb().select().from(runStateTransitions).where(eq(runStateTransitions.runId, runId));
    expect(history).toMatchObject([{ fromState: null, toState: "queued", reason: "submitted" }]);
  });
});
