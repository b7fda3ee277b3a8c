// A revoked runner is cut off even when the runner-revoked notice never reaches the gateway
// (a dropped LISTEN connection, an instance that started listening just after): the
// gateway's periodic credential check closes it with 4003, and the claim statement gives it
// nothing meanwhile. Real servers, real sockets, a real database; the revocation is written
// to the row directly, so no NOTIFY is sent.
import { asc, eq, sql } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { runAttempts, runners, runs } from "@transcend/db/schema";
import { CLOSE_CODES } from "@transcend/protocol";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { checkAttempt, claimRun, recordProgress, renewLeases } from "../services/queue";
import { revokeRunner } from "../services/runners";
import { cancelOpenRuns, createRunner, createUser, createVariantAndRecipe, queueRuns, testCapabilities } from "../test-fleet";
import { SimRunner, UpgradeRefused } from "./sim-runner";

const REVOCATION_CHECK_MS = 1_000;
const fleet = {
  heartbeatIntervalMs: 200,
  sweepIntervalMs: 150,
  claimPollMs: 100,
  revocationCheckMs: REVOCATION_CHECK_MS,
  queue: { leaseMs: 2_000, maxAttempts: 3, backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
};

describeEachDatabase("revoked runners", (getDb, { getDatabase }) => {
  /** Re-checks credentials every second. */
  let checked: TranscendServer;
  /** Re-checks credentials only every ten minutes: whatever closes a socket here within seconds is the notice. */
  let noticeOnly: TranscendServer;
  const logs: string[] = [];
  let owner = "";
  const open: SimRunner[] = [];

  beforeAll(async () => {
    const base = { port: 0, host: "127.0.0.1", database: getDatabase(), seed: false } as const;
    checked = await startTranscendServer({ ...base, log: (line) => logs.push(line), fleet });
    noticeOnly = await startTranscendServer({ ...base, log: () => {}, fleet: { ...fleet, revocationCheckMs: 10 * 60_000 } });
    owner = await createUser(getDb(), "revocation-owner");
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((runner) => runner.close()));
    await cancelOpenRuns(getDb());
  });
  afterAll(async () => {
    await checked?.close();
    await noticeOnly?.close();
  });

  async function connect(server: TranscendServer, name: string): Promise<{ sim: SimRunner; runnerId: string; credential: string }> {
    const { runnerId, credential } = await createRunner(getDb(), owner, name);
    const sim = await SimRunner.start(server.url, credential, { name });
    open.push(sim);
    return { sim, runnerId, credential };
  }

  /** Revokes as a missed notice leaves it: the row says revoked, no instance was told. */
  const revokeSilently = (runnerId: string) => getDb().update(runners).set({ revokedAt: sql`now()` }).where(eq(runners.id, runnerId));

  it("a runner revoked without the notice is closed with 4003 within the check interval, claims nothing meanwhile, and its attempt's lease runs out", async () => {
    const { variantId, recipeId } = await createVariantAndRecipe(getDb(), owner);
    const [held = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const revoked = await connect(checked, "revoked-silently");
    const healthy = await connect(checked, "healthy");
    let attempts = [{ runId: held, attempt: 1 }];
    const stopHeartbeat = revoked.sim.heartbeat(() => attempts, fleet.heartbeatIntervalMs);
    try {
      revoked.sim.send({ type: "ready", slots: 1 });
      expect(await revoked.sim.next("assign")).toMatchObject({ runId: held, attempt: 1 });
      revoked.sim.send({ type: "accepted", runId: held, attempt: 1 });

      await revokeSilently(revoked.runnerId);
      const revokedAt = Date.now();
      // Queued after the revocation and asked for at once: without the claim's own check
      // the still-open socket would be handed this run before the credential check runs.
      const [waiting = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
      revoked.sim.send({ type: "ready", slots: 1 });

      const refusal = await revoked.sim.next("error", (e) => e.reason === "revoked", 10_000);
      expect(refusal.message).toMatch(/revoked by its owner/);
      expect((await revoked.sim.closed).code).toBe(CLOSE_CODES.revoked);
      // One interval, plus slack for a loaded machine.
      expect(Date.now() - revokedAt).toBeLessThan(REVOCATION_CHECK_MS + 2_000);
      expect(logs.some((line) => line.includes(`credential check: runner ${revoked.runnerId}`))).toBe(true);

      expect(revoked.sim.frames.filter((f) => f.type === "assign").map((f) => "runId" in f && f.runId)).toEqual([held]);
      const [stillQueued] = await getDb().select({ state: runs.state, attempt: runs.attempt }).from(runs).where(eq(runs.id, waiting));
      expect(stillQueued).toEqual({ state: "queued", attempt: 0 });
      await expect(SimRunner.connect(checked.url, revoked.credential)).rejects.toEqual(new UpgradeRefused(401));

      // Its attempt is handled as after the notice: the lease, no longer renewed, runs out.
      attempts = [];
      await expect
        .poll(async () => (await getDb().select({ outcome: runAttempts.outcome }).from(runAttempts).where(eq(runAttempts.runId, held)))[0]?.outcome, {
          timeout: 10_000,
          interval: 100,
        })
        .toBe("lease_expired");

      // The other runner on the instance was checked too and stays connected; it gets the run.
      expect(healthy.sim.socket.readyState).toBe(healthy.sim.socket.OPEN);
      healthy.sim.send({ type: "ready", slots: 1 });
      expect(await healthy.sim.next("assign", (a) => a.runId === waiting, 10_000)).toMatchObject({ attempt: 1 });
      const attemptsOfWaiting = await getDb().select().from(runAttempts).where(eq(runAttempts.runId, waiting)).orderBy(asc(runAttempts.attempt));
      expect(attemptsOfWaiting.map((a) => a.runnerId)).toEqual([healthy.runnerId]);
    } finally {
      stopHeartbeat();
    }
  }, 60_000);

  it("the claim statement gives a revoked runner nothing, even with a fitting run queued", async () => {
    const { variantId, recipeId } = await createVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { runnerId } = await createRunner(getDb(), owner, "claims-after-revocation");
    await revokeSilently(runnerId);
    const claim = { runnerId, ownerId: owner, capabilities: testCapabilities, settings: fleet.queue };
    expect(await claimRun(getDb(), claim)).toBeUndefined();
    const [run] = await getDb().select({ state: runs.state, attempt: runs.attempt }).from(runs).where(eq(runs.id, runId));
    expect(run).toEqual({ state: "queued", attempt: 0 });
    // The same claim for an admitted runner takes it: the revocation was the only reason.
    const admitted = await createRunner(getDb(), owner, "claims-admitted");
    expect(await claimRun(getDb(), { ...claim, runnerId: admitted.runnerId })).toMatchObject({ runId, attempt: 1 });
  });

  it("a revoked runner renews no lease and reports nothing more on the attempt it holds", async () => {
    const { variantId, recipeId } = await createVariantAndRecipe(getDb(), owner);
    await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { runnerId } = await createRunner(getDb(), owner, "holds-an-attempt");
    const claimed = await claimRun(getDb(), { runnerId, ownerId: owner, capabilities: testCapabilities, settings: fleet.queue });
    if (!claimed) throw new Error("the admitted runner should claim the queued run");
    const ref = { runId: claimed.runId, attempt: claimed.attempt };
    expect(await renewLeases(getDb(), { runnerId, attempts: [ref], settings: fleet.queue })).toEqual({ renewed: [ref], lost: [] });

    await revokeSilently(runnerId);
    expect(await renewLeases(getDb(), { runnerId, attempts: [ref], settings: fleet.queue })).toEqual({ renewed: [], lost: [ref] });
    await expect(checkAttempt(getDb(), ref, runnerId)).rejects.toMatchObject({ code: "not_your_run", message: expect.stringMatching(/revoked/) });
    await expect(recordProgress(getDb(), { ref, runnerId, seq: 1, phase: "pretraining", step: 1, metrics: { loss: 1 } })).rejects.toMatchObject({
      code: "not_your_run",
    });
  });

  it("the notice alone still closes a revoked runner at once", async () => {
    const { sim, runnerId, credential } = await connect(noticeOnly, "revoked-with-notice");
    const revokedAt = Date.now();
    await revokeRunner(getDb(), { ownerId: owner, runnerId });
    expect(await sim.next("error", (e) => e.reason === "revoked", 5_000)).toBeTruthy();
    expect((await sim.closed).code).toBe(CLOSE_CODES.revoked);
    expect(Date.now() - revokedAt).toBeLessThan(3_000);
    await expect(SimRunner.connect(noticeOnly.url, credential)).rejects.toEqual(new UpgradeRefused(401));
  });
});
