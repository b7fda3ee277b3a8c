// The gateway against simulated protocol runners over real sockets and a real database:
// dispatch, leases, stale attempts, bad runners, registration, revocation, cancel,
// checkpoint uploads. The real runner daemon is exercised in ../fleet.test.ts.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, asc, eq, inArray } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { evaluationResults, runAttempts, runStateTransitions, runs } from "@transcend/db/schema";
import { CLOSE_CODES, MAX_FRAME_BYTES, PROTOCOL_VERSION } from "@transcend/protocol";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { cancelRun, transitionRun } from "../services/queue";
import { createRegistrationToken, revokeRunner } from "../services/runners";
import { cancelOpenRuns, createGradableVariantAndRecipe, createRunner, createUser, queueRuns } from "../test-fleet";
import { SimRunner, UpgradeRefused, type AssignFrame } from "./sim-runner";

const fleet = {
  heartbeatIntervalMs: 200,
  sweepIntervalMs: 150,
  claimPollMs: 150,
  queue: { leaseMs: 5_000, maxAttempts: 3, backoffBaseMs: 100, backoffMaxMs: 300 },
};

describeEachDatabase("runner gateway", (getDb, { getDatabase }) => {
  let server: TranscendServer;
  let owner = "";
  let other = "";
  let artifactsDir = "";
  const open: SimRunner[] = [];

  beforeAll(async () => {
    artifactsDir = mkdtempSync(path.join(os.tmpdir(), "transcend-artifacts-"));
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), seed: false, log: () => {}, fleet, artifactsDir });
    owner = await createUser(getDb(), "owner");
    other = await createUser(getDb(), "other");
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((runner) => runner.close()));
    await cancelOpenRuns(getDb());
  });
  afterAll(async () => {
    await server?.close();
    rmSync(artifactsDir, { recursive: true, force: true });
  });

  async function runner(ownerId = owner, name = "sim"): Promise<{ sim: SimRunner; runnerId: string; credential: string }> {
    const { runnerId, credential } = await createRunner(getDb(), ownerId, name);
    const sim = await SimRunner.start(server.url, credential, { name });
    open.push(sim);
    return { sim, runnerId, credential };
  }

  const history = async (runId: string) =>
    (await getDb().select().from(runStateTransitions).where(eq(runStateTransitions.runId, runId)).orderBy(asc(runStateTransitions.id))).map((t) => t.toState);

  it("two runners, ten queued runs: every run is executed exactly once and graded", async () => {
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const runIds = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 10 });
    const runners = [await runner(owner, "a"), await runner(other, "b")];
    const executed: string[] = [];
    await Promise.all(
      runners.map(async ({ sim }) => {
        let current: { runId: string; attempt: number }[] = [];
        const stopHeartbeat = sim.heartbeat(() => current, fleet.heartbeatIntervalMs);
        try {
          for (;;) {
            sim.send({ type: "ready", slots: 1 });
            let assign: AssignFrame;
            try {
              assign = await sim.next("assign", () => true, 3_000);
            } catch {
              return; // the queue is empty
            }
            executed.push(assign.runId);
            current = [{ runId: assign.runId, attempt: assign.attempt }];
            await sim.execute(assign, { splits: evalSplits });
            await expect.poll(async () => (await getDb().select({ state: runs.state }).from(runs).where(eq(runs.id, assign.runId)))[0]?.state, { timeout: 5_000 }).toBe("graded");
            current = [];
          }
        } finally {
          stopHeartbeat();
        }
      }),
    );
    expect([...executed].sort()).toEqual([...runIds].sort());
    const attempts = await getDb().select().from(runAttempts).where(inArray(runAttempts.runId, runIds));
    expect(attempts).toHaveLength(10);
    expect(attempts.every((a) => a.outcome === "succeeded" && a.attempt === 1 && a.engineVersion === "sim")).toBe(true);
    // Both runners got work: fair dispatch, no runner starved.
    expect(new Set(attempts.map((a) => a.runnerId)).size).toBe(2);
    const results = await getDb().select().from(evaluationResults).where(inArray(evaluationResults.runId, runIds));
    expect(results).toHaveLength(10 * 2 * evalSplits.length);
    expect(await history(runIds[0] ?? "")).toEqual(["queued", "assigned", "pretraining", "evaluating_base", "grpo", "evaluating_final", "graded"]);
  }, 120_000);

  it("a runner that stops heartbeating loses its lease; another finishes the run; the dead attempt's late messages change nothing", async () => {
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const dead = await runner(owner, "dead");
    dead.sim.send({ type: "ready", slots: 1 });
    const first = await dead.sim.next("assign");
    expect(first).toMatchObject({ runId, attempt: 1 });
    dead.sim.send({ type: "accepted", runId, attempt: 1 });
    dead.sim.send({ type: "progress", runId, attempt: 1, seq: 1, phase: "pretraining", step: 1, metrics: { loss: 3 } });
    await dead.sim.next("ack");
    // No heartbeats: the lease (5 s) runs out, the sweeper re-queues with backoff and tells the runner to stop.
    const cancel = await dead.sim.next("cancel", (c) => c.runId === runId, 10_000);
    expect(cancel.reason).toContain("stopped renewing the lease");

    const alive = await runner(other, "alive");
    const stop = alive.sim.heartbeat(() => [{ runId, attempt: 2 }], fleet.heartbeatIntervalMs);
    try {
      alive.sim.send({ type: "ready", slots: 1 });
      const second = await alive.sim.next("assign", (a) => a.runId === runId, 10_000);
      expect(second.attempt).toBe(2);
      await alive.sim.execute(second, { splits: evalSplits });
      await expect.poll(async () => (await getDb().select().from(runs).where(eq(runs.id, runId)))[0]?.state, { timeout: 5_000 }).toBe("graded");
    } finally {
      stop();
    }
    // The dead attempt wakes up: every message is refused as stale and changes nothing.
    const before = await getDb().select().from(runStateTransitions).where(eq(runStateTransitions.runId, runId));
    dead.sim.send({ type: "progress", runId, attempt: 1, seq: 2, phase: "grpo", step: 5, metrics: { loss: 1 } });
    expect(await dead.sim.next("error", (e) => e.runId === runId)).toMatchObject({ reason: "stale_attempt", attempt: 1 });
    dead.sim.send({ type: "failed", runId, attempt: 1, retryable: false, error: "late failure" });
    expect(await dead.sim.next("error", (e) => e.runId === runId)).toMatchObject({ reason: "stale_attempt" });
    dead.sim.send({ type: "finished", runId, attempt: 1, engineVersion: "late", checkpoints: {}, selfReported: { accuracy: 1 } });
    expect(await dead.sim.next("error", (e) => e.runId === runId)).toMatchObject({ reason: "stale_attempt" });
    // Refused, never acknowledged: the runner drops a stale result instead of holding it.
    expect(dead.sim.frames.filter((f) => f.type === "result-recorded")).toEqual([]);
    const after = await getDb().select().from(runStateTransitions).where(eq(runStateTransitions.runId, runId));
    expect(after).toEqual(before);
    const [run] = await getDb().select().from(runs).where(eq(runs.id, runId));
    expect(run).toMatchObject({ state: "graded", attempt: 2 });
    const attempts = await getDb().select().from(runAttempts).where(eq(runAttempts.runId, runId)).orderBy(asc(runAttempts.attempt));
    expect(attempts.map((a) => a.outcome)).toEqual(["lease_expired", "succeeded"]);
    expect(await history(runId)).toEqual(["queued", "assigned", "pretraining", "queued", "assigned", "pretraining", "evaluating_base", "grpo", "evaluating_final", "graded"]);
  }, 60_000);

  /** Everything an honest runner sends for an attempt except its result. */
  async function playAllButResult(sim: SimRunner, assign: AssignFrame, splits: string[]): Promise<void> {
    const ref = { runId: assign.runId, attempt: assign.attempt };
    sim.send({ type: "accepted", ...ref });
    const phases = ["pretraining", "evaluating_base", "grpo", "evaluating_final"] as const;
    for (const [index, phase] of phases.entries()) {
      sim.send({ type: "progress", ...ref, seq: index + 1, phase, step: 0, metrics: {} });
      if (phase === "evaluating_base" || phase === "evaluating_final") {
        for (const split of splits) await sim.evaluate(ref, phase === "evaluating_base" ? "base" : "grpo", split, () => ["a"]);
      }
    }
    await sim.next("ack", (ack) => ack.runId === ref.runId && ack.seq === phases.length);
  }

  const finishedFrame = (ref: { runId: string; attempt: number }, engineVersion = "sim") =>
    ({ type: "finished", ...ref, engineVersion, checkpoints: {}, selfReported: {} }) as const;

  it("answers a result with result-recorded once it is committed; a re-sent finished or failed is answered again and changes nothing", async () => {
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const runIds = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 2 });
    const { sim } = await runner(owner, "acked");
    sim.send({ type: "ready", slots: 1 });
    const graded = await sim.next("assign", (a) => runIds.includes(a.runId));
    await sim.execute(graded, { splits: evalSplits });
    const ref = { runId: graded.runId, attempt: 1 };
    expect(await sim.next("result-recorded", (r) => r.runId === ref.runId)).toEqual({ type: "result-recorded", ...ref, outcome: "succeeded" });
    // Durable before the answer: no polling, the run is graded the moment the runner hears it.
    expect((await getDb().select().from(runs).where(eq(runs.id, ref.runId)))[0]?.state).toBe("graded");
    const transitionsBefore = await history(ref.runId);
    sim.send(finishedFrame(ref, "again"));
    expect(await sim.next("result-recorded", (r) => r.runId === ref.runId)).toEqual({ type: "result-recorded", ...ref, outcome: "succeeded" });
    expect(await history(ref.runId)).toEqual(transitionsBefore);
    expect(await getDb().select().from(runAttempts).where(eq(runAttempts.runId, ref.runId))).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "succeeded", engineVersion: "sim" }),
    ]);

    // A failure is recorded (re-queued with backoff) and answered; its re-send likewise, once.
    sim.send({ type: "ready", slots: 1 });
    const failing = await sim.next("assign", (a) => runIds.includes(a.runId) && a.runId !== ref.runId);
    const failingRef = { runId: failing.runId, attempt: 1 };
    sim.send({ type: "accepted", ...failingRef });
    sim.send({ type: "failed", ...failingRef, retryable: true, error: "the disk is full" });
    expect(await sim.next("result-recorded", (r) => r.runId === failingRef.runId)).toMatchObject({ outcome: "failed" });
    const failedBefore = await history(failingRef.runId);
    expect(failedBefore.at(-1)).toBe("queued");
    sim.send({ type: "failed", ...failingRef, retryable: true, error: "the disk is full" });
    expect(await sim.next("result-recorded", (r) => r.runId === failingRef.runId)).toMatchObject({ outcome: "failed" });
    expect(await history(failingRef.runId)).toEqual(failedBefore);
    expect(sim.frames.filter((f) => f.type === "error")).toEqual([]);
  }, 60_000);

  it("a finished whose socket drops before the answer is re-sent after the reconnect and graded once", async () => {
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const runIds = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 2 });
    const { sim, credential } = await runner(owner, "dropping");
    const gradedOnce = async (runId: string) => {
      expect((await history(runId)).filter((state) => state === "graded")).toEqual(["graded"]);
      const attempts = await getDb().select().from(runAttempts).where(eq(runAttempts.runId, runId));
      expect(attempts.map((a) => a.outcome)).toEqual(["succeeded"]);
    };

    // The connection dies before the finished reaches the server: the lease is kept, the
    // re-sent finished is recorded and answered on the new connection.
    sim.send({ type: "ready", slots: 1 });
    const lost = await sim.next("assign", (a) => runIds.includes(a.runId));
    await playAllButResult(sim, lost, evalSplits);
    sim.terminate();
    await sim.closed;
    const lostRef = { runId: lost.runId, attempt: 1 };
    const back = await SimRunner.start(server.url, credential, { activeAttempts: [lostRef] });
    open.push(back);
    expect(await back.next("ack", (a) => a.runId === lostRef.runId)).toMatchObject({ seq: 4 });
    back.send(finishedFrame(lostRef));
    expect(await back.next("result-recorded", (r) => r.runId === lostRef.runId)).toMatchObject({ outcome: "succeeded" });
    await gradedOnce(lostRef.runId);

    // The connection dies right after the finished went out: whether the server recorded it
    // before the close or not, the runner hears result-recorded on the next connection (for
    // the hello's listing or for its re-send) and the run is graded once.
    back.send({ type: "ready", slots: 1 });
    const raced = await back.next("assign", (a) => runIds.includes(a.runId) && a.runId !== lostRef.runId);
    const racedRef = { runId: raced.runId, attempt: 1 };
    await playAllButResult(back, raced, evalSplits);
    back.send(finishedFrame(racedRef));
    back.terminate();
    await back.closed;
    const again = await SimRunner.start(server.url, credential, { activeAttempts: [racedRef] });
    open.push(again);
    again.send(finishedFrame(racedRef));
    expect(await again.next("result-recorded", (r) => r.runId === racedRef.runId)).toMatchObject({ outcome: "succeeded" });
    await expect.poll(async () => (await getDb().select().from(runs).where(eq(runs.id, racedRef.runId)))[0]?.state, { timeout: 5_000 }).toBe("graded");
    await gradedOnce(racedRef.runId);
    // Nothing told the runner to stop: its result was recorded, not lost.
    expect(again.frames.filter((f) => f.type === "cancel" || f.type === "error")).toEqual([]);

    // Its result recorded, the attempt listed in a later hello is answered, not refused.
    const later = await SimRunner.start(server.url, credential, { activeAttempts: [lostRef] });
    open.push(later);
    expect(await later.next("result-recorded", (r) => r.runId === lostRef.runId)).toMatchObject({ outcome: "succeeded" });
    expect(later.frames.filter((f) => f.type === "cancel" || f.type === "error")).toEqual([]);
    await gradedOnce(lostRef.runId);
  }, 60_000);

  it("fails a run after its last attempt with the reason", async () => {
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const flaky = await runner(owner, "flaky");
    for (let attempt = 1; attempt <= fleet.queue.maxAttempts; attempt++) {
      flaky.sim.send({ type: "ready", slots: 1 });
      const assign = await flaky.sim.next("assign", (a) => a.runId === runId, 10_000);
      expect(assign.attempt).toBe(attempt);
      flaky.sim.send({ type: "accepted", runId, attempt });
      flaky.sim.send({ type: "failed", runId, attempt, retryable: true, error: "the child process was killed by SIGKILL" });
    }
    await expect.poll(async () => (await getDb().select().from(runs).where(eq(runs.id, runId)))[0]?.state, { timeout: 5_000 }).toBe("failed");
    const [last] = await getDb().select().from(runStateTransitions).where(and(eq(runStateTransitions.runId, runId), eq(runStateTransitions.toState, "failed")));
    expect(last?.reason).toBe(`attempt 3 failed: the child process was killed by SIGKILL; gave up after 3 attempts`);
  }, 30_000);

  it("refuses bad runners with a clear reason and keeps serving the good one", async () => {
    const good = await runner(owner, "good");
    const { runnerId: goodId } = good;

    // Wrong credential, and none at all: 401 before any socket opens.
    await expect(SimRunner.connect(server.url, "trr_wrongwrongwrongwrongwrong")).rejects.toEqual(new UpgradeRefused(401));
    await expect(SimRunner.connect(server.url, undefined)).rejects.toEqual(new UpgradeRefused(401));

    const { credential } = await createRunner(getDb(), other, "bad");
    // Another protocol version.
    const outdated = await SimRunner.connect(server.url, credential);
    outdated.sendRaw(JSON.stringify({ type: "hello", protocolVersion: PROTOCOL_VERSION + 7, runnerVersion: "9", capabilities: {} }));
    expect(await outdated.next("error")).toMatchObject({ reason: "protocol_mismatch" });
    expect(await outdated.closed).toEqual({ code: CLOSE_CODES.protocolMismatch, reason: "protocol_mismatch" });
    // Invalid JSON.
    const garbled = await SimRunner.start(server.url, credential);
    garbled.sendRaw("{ not json");
    expect(await garbled.next("error")).toMatchObject({ reason: "invalid_frame", message: "Invalid frame: frame is not valid JSON." });
    expect((await garbled.closed).code).toBe(CLOSE_CODES.invalidFrame);
    // Oversized frame: ws closes with 1009 before the frame is even parsed.
    const flooding = await SimRunner.start(server.url, credential);
    flooding.sendRaw("x".repeat(MAX_FRAME_BYTES + 1));
    expect((await flooding.closed).code).toBe(CLOSE_CODES.frameTooLarge);
    // Frames for another runner's run.
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    good.sim.send({ type: "ready", slots: 1 });
    const assign = await good.sim.next("assign");
    expect(assign.runId).toBe(runId);
    const intruder = await SimRunner.start(server.url, credential);
    open.push(intruder);
    intruder.send({ type: "progress", runId, attempt: 1, seq: 1, phase: "grpo", step: 1, metrics: { reward: 1 } });
    expect(await intruder.next("error")).toMatchObject({ reason: "not_your_run", runId, attempt: 1 });
    intruder.send({ type: "finished", runId, attempt: 1, engineVersion: "x", checkpoints: {}, selfReported: {} });
    expect(await intruder.next("error")).toMatchObject({ reason: "not_your_run" });
    intruder.send({ type: "failed", runId, attempt: 1, retryable: true, error: "not mine" });
    expect(await intruder.next("error")).toMatchObject({ reason: "not_your_run", runId });
    expect(intruder.frames.filter((f) => f.type === "result-recorded")).toEqual([]);
    intruder.send({ type: "evaluation-request", runId, attempt: 1, model: "base", split: "id" });
    expect(await intruder.next("error")).toMatchObject({ reason: "not_your_run" });
    expect(await history(runId)).toEqual(["queued", "assigned"]);

    // The good runner was never disturbed.
    good.sim.send({ type: "progress", runId, attempt: 1, seq: 1, phase: "pretraining", step: 1, metrics: { loss: 1 } });
    expect(await good.sim.next("ack")).toMatchObject({ runId, seq: 1 });
    expect(server.context.gateway.listRunners().map((r) => r.runnerId)).toContain(goodId);
    expect(good.sim.undecodable).toEqual([]);
  }, 30_000);

  it("registers over HTTP with a one-time token; revoking closes the socket within seconds", async () => {
    const { token } = await createRegistrationToken(getDb(), { ownerId: owner });
    const post = (body: unknown) =>
      fetch(`${server.url}/api/runners/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const first = await post({ token, name: "http runner" });
    expect(first.status).toBe(201);
    const { runnerId, credential } = (await first.json()) as { runnerId: string; credential: string };
    const again = await post({ token, name: "again" });
    expect(again.status).toBe(410);
    expect(((await again.json()) as { error: string }).error).toMatch(/already used/);
    expect((await post({ token: "trt_neverissuedneverissued", name: "x" })).status).toBe(401);
    expect((await post({ token, name: "" })).status).toBe(400);
    const expired = await createRegistrationToken(getDb(), { ownerId: owner, ttlMs: -1 });
    expect((await post({ token: expired.token, name: "late" })).status).toBe(410);

    const sim = await SimRunner.start(server.url, credential);
    open.push(sim);
    const revokedAt = Date.now();
    await revokeRunner(getDb(), { ownerId: owner, runnerId });
    expect(await sim.next("error", (e) => e.reason === "revoked")).toBeTruthy();
    expect((await sim.closed).code).toBe(CLOSE_CODES.revoked);
    expect(Date.now() - revokedAt).toBeLessThan(3_000);
    await expect(SimRunner.connect(server.url, credential)).rejects.toEqual(new UpgradeRefused(401));
  });

  it("cancels a running attempt on its runner, and one cancelled while its runner was away at reconnect", async () => {
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner);
    const [first = "", second = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 2 });
    const { sim, credential } = await runner(owner, "cancellable");
    sim.send({ type: "ready", slots: 2 });
    await sim.next("assign", (a) => a.runId === first);
    await sim.next("assign", (a) => a.runId === second);
    sim.send({ type: "accepted", runId: first, attempt: 1 });
    sim.send({ type: "accepted", runId: second, attempt: 1 });
    sim.send({ type: "progress", runId: first, attempt: 1, seq: 1, phase: "pretraining", step: 1, metrics: {} });
    await sim.next("ack");
    await cancelRun(getDb(), { runId: first, reason: "wrong learning rate" });
    expect(await sim.next("cancel", (c) => c.runId === first)).toMatchObject({ attempt: 1, reason: "wrong learning rate" });

    // Disconnected: the cancel is recorded, and the runner hears it when it comes back.
    sim.terminate();
    await sim.closed;
    await cancelRun(getDb(), { runId: second, reason: "not needed any more" });
    const back = await SimRunner.start(server.url, credential, { activeAttempts: [{ runId: second, attempt: 1 }] });
    open.push(back);
    expect(await back.next("cancel", (c) => c.runId === second)).toMatchObject({ reason: expect.stringContaining("cancelled") });
    const [run] = await getDb().select().from(runs).where(eq(runs.id, second));
    expect(run?.state).toBe("cancelled");
    const [last] = await getDb().select().from(runStateTransitions).where(and(eq(runStateTransitions.runId, second), eq(runStateTransitions.toState, "cancelled")));
    expect(last?.reason).toBe("not needed any more");
  });

  it("keeps the lease of an attempt across a reconnect and acks the progress it already has", async () => {
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { sim, credential } = await runner(owner, "reconnecting");
    sim.send({ type: "ready", slots: 1 });
    await sim.next("assign");
    sim.send({ type: "accepted", runId, attempt: 1 });
    for (let seq = 1; seq <= 3; seq++) sim.send({ type: "progress", runId, attempt: 1, seq, phase: "pretraining", step: seq, metrics: { loss: seq } });
    await sim.next("ack", (a) => a.seq === 3);
    sim.terminate();
    const back = await SimRunner.start(server.url, credential, { activeAttempts: [{ runId, attempt: 1 }] });
    open.push(back);
    expect(await back.next("ack")).toMatchObject({ runId, attempt: 1, seq: 3 });
    // A re-sent event is dropped, the next one stored.
    back.send({ type: "progress", runId, attempt: 1, seq: 3, phase: "pretraining", step: 3, metrics: { loss: 99 } });
    back.send({ type: "progress", runId, attempt: 1, seq: 4, phase: "pretraining", step: 4, metrics: { loss: 4 } });
    expect(await back.next("ack", (a) => a.seq === 4)).toBeTruthy();
    const [attempt] = await getDb().select().from(runAttempts).where(eq(runAttempts.runId, runId));
    expect(attempt).toMatchObject({ lastSeq: 4, outcome: "running" });
  });

  it("takes checkpoint uploads with the attempt token, checks size and sha256, and serves them once graded", async () => {
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { sim } = await runner(owner, "uploader");
    sim.send({ type: "ready", slots: 1 });
    const assign = await sim.next("assign");
    const body = Buffer.from("safetensors bytes ".repeat(1000));
    const sha = createHash("sha256").update(body).digest("hex");
    const url = `${server.url}/api/runs/${runId}/attempts/1/artifacts/final`;
    const put = (headers: Record<string, string>, data: Buffer = body) => fetch(url, { method: "PUT", headers, body: new Uint8Array(data) });
    expect((await put({ authorization: "Bearer tra_wrongwrongwrongwrong", "x-content-sha256": sha })).status).toBe(401);
    expect((await put({ authorization: `Bearer ${assign.attemptToken}`, "x-content-sha256": "0".repeat(64) })).status).toBe(422);
    expect((await put({ authorization: `Bearer ${assign.attemptToken}` })).status).toBe(400);
    const stored = await put({ authorization: `Bearer ${assign.attemptToken}`, "x-content-sha256": sha });
    expect(stored.status).toBe(201);
    expect(await stored.json()).toEqual({ sha256: sha, sizeBytes: body.length });
    // Not public before the run is graded.
    expect((await fetch(url)).status).toBe(403);
    await transitionRun(getDb(), { runId, attempt: 1, to: "graded", reason: "test" });
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(body)).toBe(true);
    // The attempt is over: no more uploads with its token.
    expect((await put({ authorization: `Bearer ${assign.attemptToken}`, "x-content-sha256": sha })).status).toBe(409);
  });
});
