import { and, asc, eq } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { metrics, runAttempts, runStateTransitions, runs } from "@transcend/db/schema";
import { beforeAll, expect, it } from "vitest";
import { createRunner, createUser, createVariantAndRecipe, queueRuns, testCapabilities } from "../test-fleet";
import { FleetError } from "./fleet-errors";
import {
  cancelRun,
  claimRun,
  failAttempt,
  finishAttempt,
  queuedReason,
  recordLog,
  recordProgress,
  readLog,
  renewLeases,
  sweepExpiredLeases,
  transitionRun,
} from "./queue";
import { recordRunnerHello } from "./runners";

const code = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FleetError) return error.code;
    throw error;
  }
  return "ok";
};

describeEachDatabase("run queue", (getDb) => {
  let alice = "";
  let bob = "";
  let variantId = "";
  let recipeId = "";

  beforeAll(async () => {
    alice = await createUser(getDb(), "alice");
    bob = await createUser(getDb(), "bob");
    ({ variantId, recipeId } = await createVariantAndRecipe(getDb(), alice));
  });

  const history = (runId: string) =>
    getDb()
      .select({ from: runStateTransitions.fromState, to: runStateTransitions.toState, reason: runStateTransitions.reason, attempt: runStateTransitions.attempt })
      .from(runStateTransitions)
      .where(eq(runStateTransitions.runId, runId))
      .orderBy(asc(runStateTransitions.id));

  it("cancels a queued run with its reason, and refuses to move a terminal run", async () => {
    const [runId = ""] = await queueRuns(getDb(), { submitterId: alice, variantId, recipeId, count: 1 });
    await cancelRun(getDb(), { runId, reason: "changed my mind" });
    expect(await history(runId)).toEqual([
      { from: null, to: "queued", reason: "submitted", attempt: 0 },
      { from: "queued", to: "cancelled", reason: "changed my mind", attempt: 0 },
    ]);
    // Cancelling twice is harmless; moving a cancelled run anywhere else is refused.
    expect(await code(cancelRun(getDb(), { runId, reason: "again" }))).toBe("ok");
    expect((await history(runId)).length).toBe(2);
    expect(await code(transitionRun(getDb(), { runId, to: "queued", reason: "x" }))).toBe("terminal");
    const [run] = await getDb().select().from(runs).where(eq(runs.id, runId));
    expect(run?.finishedAt).toBeInstanceOf(Date);
  });

  it("claims fairly across submitters, leases, renews, and moves with the runner's phases", async () => {
    const { variantId: v, recipeId: r } = await createVariantAndRecipe(getDb(), alice);
    const runner = await createRunner(getDb(), bob);
    // Alice queued three runs before Bob's one; Bob's must not wait behind all of hers.
    const aliceRuns = await queueRuns(getDb(), { submitterId: alice, variantId: v, recipeId: r, count: 3, createdAt: (i) => new Date(Date.UTC(2020, 0, 1, 0, 0, i)) });
    const [bobRun = ""] = await queueRuns(getDb(), { submitterId: bob, variantId: v, recipeId: r, count: 1, createdAt: () => new Date(Date.UTC(2020, 0, 1, 0, 1)) });
    const first = await claimRun(getDb(), { runnerId: runner.runnerId, ownerId: bob, capabilities: testCapabilities });
    const second = await claimRun(getDb(), { runnerId: runner.runnerId, ownerId: bob, capabilities: testCapabilities });
    expect(first?.runId).toBe(aliceRuns[0]);
    expect(second?.runId).toBe(bobRun);
    expect(first).toMatchObject({ attempt: 1, variant: { family: "string-ops" } });
    expect(first?.attemptToken.length).toBeGreaterThan(30);

    const ref = { runId: first?.runId ?? "", attempt: 1 };
    const renewed = await renewLeases(getDb(), { runnerId: runner.runnerId, attempts: [ref, { runId: aliceRuns[2] ?? "", attempt: 1 }] });
    expect(renewed).toEqual({ renewed: [ref], lost: [{ runId: aliceRuns[2], attempt: 1 }] });

    const progress = { ref, runnerId: runner.runnerId, phase: "pretraining" as const, step: 10, metrics: { loss: 2.5 } };
    expect(await recordProgress(getDb(), { ...progress, seq: 1 })).toEqual({ stored: true, lastSeq: 1 });
    expect(await recordProgress(getDb(), { ...progress, seq: 1, metrics: { loss: 9 } })).toEqual({ stored: false, lastSeq: 1 });
    expect(await recordProgress(getDb(), { ...progress, seq: 2, phase: "grpo", step: 1, metrics: { reward: 0.5 } })).toEqual({ stored: true, lastSeq: 2 });
    const stored = await getDb().select().from(metrics).where(eq(metrics.runId, ref.runId));
    expect(stored.map((m) => [m.phase, m.name, m.value]).sort()).toEqual([
      ["grpo", "reward", 0.5],
      ["pretraining", "loss", 2.5],
    ]);
    expect(await recordLog(getDb(), { ref, runnerId: runner.runnerId, offset: 0, text: "héllo\n" })).toEqual({ endOffset: 7, lastSeq: 2 });
    await recordLog(getDb(), { ref, runnerId: runner.runnerId, offset: 0, text: "héllo\n" });
    await recordLog(getDb(), { ref, runnerId: runner.runnerId, offset: 7, text: "world\n" });
    expect((await readLog(getDb(), { runId: ref.runId })).text).toBe("héllo\nworld\n");

    expect(await finishAttempt(getDb(), { ref, runnerId: runner.runnerId, engineVersion: "test" })).toEqual({ changed: true });
    expect(await finishAttempt(getDb(), { ref, runnerId: runner.runnerId, engineVersion: "test" })).toEqual({ changed: false });
    expect((await history(ref.runId)).map((h) => h.to)).toEqual(["queued", "assigned", "pretraining", "grpo", "graded"]);
    // Messages for the finished attempt change nothing.
    expect(await code(recordProgress(getDb(), { ...progress, seq: 3 }))).toBe("stale_attempt");
  });

  it("refuses messages for another runner's attempt", async () => {
    const { variantId: v, recipeId: r } = await createVariantAndRecipe(getDb(), alice);
    const owner = await createRunner(getDb(), alice);
    const intruder = await createRunner(getDb(), bob);
    await queueRuns(getDb(), { submitterId: alice, variantId: v, recipeId: r, count: 1, createdAt: () => new Date(Date.UTC(2000, 0, 1)) });
    const claimed = await claimRun(getDb(), { runnerId: owner.runnerId, ownerId: alice, capabilities: testCapabilities });
    const ref = { runId: claimed?.runId ?? "", attempt: 1 };
    expect(await code(recordLog(getDb(), { ref, runnerId: intruder.runnerId, offset: 0, text: "x" }))).toBe("not_your_run");
    expect(await code(failAttempt(getDb(), { ref, runnerId: intruder.runnerId, error: "boom", retryable: false }))).toBe("not_your_run");
    await cancelRun(getDb(), { runId: ref.runId, reason: "test over" });
    const [attempt] = await getDb().select().from(runAttempts).where(and(eq(runAttempts.runId, ref.runId), eq(runAttempts.attempt, 1)));
    expect(attempt?.outcome).toBe("cancelled");
  });

  it("re-queues expired leases with backoff and fails the run after the last attempt", async () => {
    const { variantId: v, recipeId: r } = await createVariantAndRecipe(getDb(), alice);
    const runner = await createRunner(getDb(), alice);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: alice, variantId: v, recipeId: r, count: 1, createdAt: () => new Date(Date.UTC(1999, 0, 1)) });
    const settings = { leaseMs: 50, maxAttempts: 2, backoffBaseMs: 1, backoffMaxMs: 1 };
    for (let attempt = 1; attempt <= 2; attempt++) {
      const claimed = await claimRun(getDb(), { runnerId: runner.runnerId, ownerId: alice, capabilities: testCapabilities, settings });
      expect(claimed).toMatchObject({ runId, attempt });
      await new Promise((resolve) => setTimeout(resolve, 120));
      const swept = await sweepExpiredLeases(getDb(), { settings });
      expect(swept).toContainEqual({ runId, attempt, state: attempt < 2 ? "queued" : "failed" });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const last = (await history(runId)).at(-1);
    expect(last).toMatchObject({ to: "failed", attempt: 2 });
    expect(last?.reason).toContain("stopped renewing the lease");
    expect(last?.reason).toContain("gave up after 2 attempts");
    const attempts = await getDb().select().from(runAttempts).where(eq(runAttempts.runId, runId));
    expect(attempts.map((a) => a.outcome)).toEqual(["lease_expired", "lease_expired"]);
  });

  it("only gives a GPU recipe to a GPU runner and says why a run waits", async () => {
    const { variantId: v, recipeId: r } = await createVariantAndRecipe(getDb(), alice, { requirements: { gpu: true } });
    const cpu = await createRunner(getDb(), alice);
    await recordRunnerHello(getDb(), { runnerId: cpu.runnerId, capabilities: testCapabilities });
    const [runId = ""] = await queueRuns(getDb(), { submitterId: alice, variantId: v, recipeId: r, count: 1, createdAt: () => new Date(Date.UTC(1990, 0, 1)) });
    // Other queued runs of this database may be claimed by the CPU runner; never the GPU one.
    for (let i = 0; i < 20; i++) {
      const claimed = await claimRun(getDb(), { runnerId: cpu.runnerId, ownerId: alice, capabilities: testCapabilities });
      if (!claimed) break;
      expect(claimed.runId).not.toBe(runId);
      await cancelRun(getDb(), { runId: claimed.runId, reason: "cleanup" });
    }
    expect(await queuedReason(getDb(), runId)).toMatch(/No connected runner can run a GPU recipe/);
    const gpu = await createRunner(getDb(), bob);
    const gpuCaps = { ...testCapabilities, backend: "tfjs-node-gpu" as const };
    expect(await claimRun(getDb(), { runnerId: gpu.runnerId, ownerId: bob, capabilities: gpuCaps })).toMatchObject({ runId });
    expect(await queuedReason(getDb(), runId)).toBeNull();
  });

  it("says in GiB and cores which requirement no connected runner meets", async () => {
    const { variantId: v, recipeId: r } = await createVariantAndRecipe(getDb(), alice, { requirements: { gpu: false, minMemoryBytes: 2.5 * 2 ** 30, minCores: 4 } });
    const runner = await createRunner(getDb(), alice);
    await recordRunnerHello(getDb(), { runnerId: runner.runnerId, capabilities: testCapabilities });
    const [runId = ""] = await queueRuns(getDb(), { submitterId: alice, variantId: v, recipeId: r, count: 1 });
    expect(await queuedReason(getDb(), runId)).toBe("No connected runner meets the recipe's requirements (2.5 GiB of memory, 4 cores).");
    await cancelRun(getDb(), { runId, reason: "cleanup" });
  });

  it("gives a reproduction only to a runner of another owner than the original's", async () => {
    const { variantId: v, recipeId: r } = await createVariantAndRecipe(getDb(), alice);
    const alicesRunner = await createRunner(getDb(), alice);
    const bobsRunner = await createRunner(getDb(), bob);
    const [original = ""] = await queueRuns(getDb(), { submitterId: alice, variantId: v, recipeId: r, count: 1, createdAt: () => new Date(Date.UTC(1980, 0, 1)) });
    const claimed = await claimRun(getDb(), { runnerId: alicesRunner.runnerId, ownerId: alice, capabilities: testCapabilities });
    expect(claimed?.runId).toBe(original);
    await transitionRun(getDb(), { runId: original, attempt: 1, to: "graded", reason: "test" });
    const [repro = ""] = await queueRuns(getDb(), { submitterId: bob, variantId: v, recipeId: r, count: 1, reproducesRunId: original, createdAt: () => new Date(Date.UTC(1980, 0, 2)) });
    const byAlice = await claimRun(getDb(), { runnerId: alicesRunner.runnerId, ownerId: alice, capabilities: testCapabilities });
    expect(byAlice?.runId).not.toBe(repro);
    if (byAlice) await cancelRun(getDb(), { runId: byAlice.runId, reason: "cleanup" });
    expect(await claimRun(getDb(), { runnerId: bobsRunner.runnerId, ownerId: bob, capabilities: testCapabilities })).toMatchObject({ runId: repro });
  });
});
