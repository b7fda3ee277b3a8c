// The daemon against a loopback stand-in of the server (real sockets, the protocol
// package's encode/decode), with real job processes running real training steps on a
// recipe cut down to seconds.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from "@transcend/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IGNORE_SIGTERM_ENV } from "./ipc";
import { type DaemonState, MAX_PENDING_REFUSALS, RunnerDaemon, type RunnerDaemonOptions } from "./runner-daemon";
import { TEST_CREDENTIAL, type TestGateway, contiguous, processExists, startTestGateway } from "./test-gateway";

const RUN = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b";
const OTHER_RUN = "7a2b3c4d-5e6f-4a70-9b8c-1d2e3f4a5b6c";
const hello = {
  runnerVersion: "0.0.0-test",
  name: "daemon-test",
  capabilities: { backend: "wasm" as const, device: "test CPU", cores: 1, memoryBytes: 1024, matmul: { gflops: 1, path: "test" } },
};

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "transcend-daemon-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The machine running the tests may be busy: give every condition time, check it often. */
const eventually = <T>(condition: () => T | Promise<T>) => expect.poll(condition, { timeout: 20_000, interval: 50 });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startDaemon(gateway: TestGateway, overrides: Partial<RunnerDaemonOptions> = {}) {
  const lines: string[] = [];
  const states: DaemonState[] = [];
  const daemon = new RunnerDaemon({
    url: gateway.url,
    server: gateway.server,
    credential: TEST_CREDENTIAL,
    hello,
    workDir: path.join(dir, "work"),
    originCacheDir: false,
    backend: "wasm",
    delayMs: () => 100,
    log: (line) => lines.push(line),
    uploadRetryDelayMs: 50,
    ...overrides,
  });
  daemon.onStateChange((state) => states.push(state));
  const running = daemon.run();
  cleanups.push(async () => {
    await daemon.stopNow("test over");
    await running.catch(() => undefined);
  });
  return { daemon, running, lines, states };
}

async function gateway(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const g = await startTestGateway(options);
  cleanups.push(() => g.stop());
  return g;
}

const ref = { runId: RUN, attempt: 1 };

describe("the runner daemon", () => {
  it("runs an assigned job in a child process end to end: accepted, progress 1..N, evaluation sets, packed completions, uploads, finished", async () => {
    const g = await gateway();
    const { daemon, states, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    expect(g.ofType("hello")[0]).toMatchObject({ protocolVersion: PROTOCOL_VERSION, activeAttempts: [] });

    g.assign(ref);
    await eventually(() => g.ofType("accepted")).toEqual([{ type: "accepted", ...ref }]);
    const pid = daemon.jobs[0]?.pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 200 }).toBe(1);
    // The stand-in answered result-recorded at once, and the attempt is forgotten at once:
    // no settle wait (runners of protocol 1 held every result 5 s before letting go).
    await expect.poll(() => daemon.jobs.length, { timeout: 3_000, interval: 20 }).toBe(0);
    expect(g.results.get(`${RUN}#1`)?.type).toBe("finished");
    expect(lines).toContain(`run ${RUN} attempt 1: the server recorded its result (succeeded)`);

    // Progress: every seq from 1 exactly once, all four phases, GRPO metrics by name.
    const progress = g.ofType("progress");
    expect(progress.map((p) => p.seq)).toEqual(progress.map((_, i) => i + 1));
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(["pretraining", "evaluating_base", "grpo", "evaluating_final"]));
    expect(progress.find((p) => p.phase === "grpo" && p.step > 0)?.metrics).toMatchObject({
      reward: expect.any(Number),
      kl: expect.any(Number),
      entropy: expect.any(Number),
      completionLength: expect.any(Number),
      zeroVarianceFraction: expect.any(Number),
    });
    expect(progress.find((p) => p.phase === "pretraining" && p.step > 0)?.metrics).toMatchObject({ loss: expect.any(Number), lr: expect.any(Number) });

    // Evaluation: one request per evaluated split and model, answered in chunks of 2.
    expect(g.ofType("evaluation-request").map((r) => `${r.model}:${r.split}`)).toEqual(["base:id", "base:ood", "grpo:id", "grpo:ood"]);
    // Completions: greedy (sample 0) and 2 samples for each of 5 items, per split and model; every frame under the limit.
    const completionFrames = g.frames.filter((f) => f.message.type === "completions");
    for (const frame of completionFrames) expect(Buffer.byteLength(frame.raw)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const entries = g.ofType("completions").flatMap((c) => c.entries.map((e) => `${c.model}:${c.split}:${e.itemId}:${e.sample}`));
    expect(new Set(entries).size).toBe(4 * 5 * 3);

    // Checkpoints over HTTP with the attempt token and their sha256; finished names the same ones.
    const finished = g.ofType("finished")[0];
    expect(g.uploads.map((u) => u.url)).toEqual([`/api/runs/${RUN}/attempts/1/artifacts/origin`, `/api/runs/${RUN}/attempts/1/artifacts/final`]);
    for (const upload of g.uploads) {
      expect(upload.authorization).toBe(`Bearer at_${RUN}_1`);
      expect(upload.declaredSha256).toBe(upload.sha256);
    }
    expect(finished?.checkpoints).toEqual({ origin: g.uploads[0]?.sha256, final: g.uploads[1]?.sha256 });
    expect(finished?.selfReported).toMatchObject({ pretrainingSteps: 40, grpoSteps: 2 });
    expect(g.frames.findIndex((f) => f.message.type === "finished")).toBeGreaterThan(g.frames.findLastIndex((f) => f.message.type === "completions"));

    // Logs arrive by byte offset, contiguous.
    const log = [...(g.logs.get(`${RUN}#1`) ?? new Map<number, string>()).entries()].sort(([a], [b]) => a - b);
    let offset = 0;
    for (const [at, text] of log) {
      expect(at).toBe(offset);
      offset += Buffer.byteLength(text);
    }
    expect(log.map(([, text]) => text).join("")).toMatch(/pretraining: started[\s\S]*grpo step 2\/2[\s\S]*job: finished/);

    // Heartbeats listed the attempt while it ran; the job process is gone; ready again; the attempt is forgotten once settled.
    expect(g.ofType("heartbeat").some((h) => h.attempts.some((a) => a.runId === RUN))).toBe(true);
    expect(processExists(pid ?? 0)).toBe(false);
    await eventually(() => g.ofType("ready").length).toBe(2);
    await eventually(() => daemon.jobs.length).toBe(0);
    expect(states).toEqual(["idle", "busy", "idle"]);
    expect(lines).toContain("state: connecting → idle");
  }, 180_000);

  it("reuses the origin-checkpoint cache across runs on one runner", async () => {
    const g = await gateway();
    startDaemon(g, { originCacheDir: path.join(dir, "origins") });
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref, { seed: 5 });
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 200 }).toBe(1);
    // Another run of the same variant, recipe and seed: the pretrained origin comes from the cache.
    await eventually(() => g.ofType("ready").length).toBe(2);
    g.assign({ runId: OTHER_RUN, attempt: 1 }, { seed: 5 });
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 200 }).toBe(2);
    const [first, second] = g.ofType("finished");
    expect(first?.selfReported.originReused).toBe(0);
    expect(second?.selfReported.originReused).toBe(1);
    expect(second?.checkpoints.origin).toBe(first?.checkpoints.origin);
  }, 240_000);

  it("refuses an invalid recipe without starting anything (not retryable), and a second job while busy (retryable)", async () => {
    const g = await gateway();
    const { daemon } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref, { recipe: { model: { layers: 99 } } });
    await eventually(() => g.ofType("failed")).toEqual([
      { type: "failed", ...ref, retryable: false, error: expect.stringMatching(/^invalid recipe: model\.layers/) },
    ]);
    expect(daemon.jobs).toHaveLength(0);

    g.assign({ runId: OTHER_RUN, attempt: 1 });
    await eventually(() => g.ofType("accepted").length).toBe(1);
    g.assign({ runId: RUN, attempt: 2 });
    await eventually(() => g.ofType("failed").length).toBe(2);
    expect(g.ofType("failed")[1]).toMatchObject({ runId: RUN, attempt: 2, retryable: true, error: "this runner is already running a job" });
  }, 180_000);

  it("cancel: SIGTERM ends the job process, nothing is reported for the attempt, the runner is ready again", async () => {
    const g = await gateway();
    const { daemon } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("progress").length, { timeout: 90_000 }).toBeGreaterThan(0);
    const pid = daemon.jobs[0]?.pid ?? 0;
    expect(processExists(pid)).toBe(true);
    const cancelledAt = Date.now();
    g.send({ type: "cancel", ...ref, reason: "cancelled by its owner" });
    await expect.poll(() => processExists(pid), { timeout: 5_000, interval: 20 }).toBe(false);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    await eventually(() => g.ofType("ready").length).toBe(2);
    expect(g.ofType("failed")).toEqual([]);
    expect(g.ofType("finished")).toEqual([]);
    expect(daemon.jobs).toHaveLength(0);
  }, 180_000);

  it("cancel: a job that ignores SIGTERM is killed with SIGKILL after the grace period", async () => {
    const g = await gateway();
    const grace = 1_500;
    const { daemon } = startDaemon(g, { cancelGraceMs: grace, jobEnv: { [IGNORE_SIGTERM_ENV]: "1" } });
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("progress").length, { timeout: 90_000 }).toBeGreaterThan(0);
    const pid = daemon.jobs[0]?.pid ?? 0;
    const cancelledAt = Date.now();
    g.send({ type: "cancel", ...ref, reason: "cancelled by its owner" });
    await new Promise((resolve) => setTimeout(resolve, grace / 2));
    expect(processExists(pid)).toBe(true); // SIGTERM ignored
    await expect.poll(() => processExists(pid), { timeout: grace + 3_000, interval: 20 }).toBe(false);
    const took = Date.now() - cancelledAt;
    expect(took).toBeGreaterThanOrEqual(grace - 50);
    expect(took).toBeLessThan(grace + 3_000);
    expect(g.ofType("failed")).toEqual([]);
  }, 180_000);

  it("a stale_attempt error for a running attempt kills its job (the lease is gone)", async () => {
    const g = await gateway();
    const { daemon, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("progress").length, { timeout: 90_000 }).toBeGreaterThan(0);
    const pid = daemon.jobs[0]?.pid ?? 0;
    g.send({ type: "error", reason: "stale_attempt", message: "attempt 1 of this run was re-assigned", ...ref });
    await expect.poll(() => processExists(pid), { timeout: 15_000, interval: 20 }).toBe(false);
    expect(lines.some((line) => line.includes("stale_attempt: attempt 1 of this run was re-assigned"))).toBe(true);
    expect(g.ofType("failed")).toEqual([]);
  }, 180_000);

  it("reconnect mid-job: the job keeps running, the hello lists it, unacked progress is re-sent, no seq is lost or stored twice", async () => {
    let acking = false;
    const g = await gateway({ ack: () => acking });
    const { daemon, states } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("progress").length, { timeout: 90_000 }).toBeGreaterThanOrEqual(3);
    const pid = daemon.jobs[0]?.pid ?? 0;
    const beforeDrop = g.ofType("progress").length;
    acking = true; // the second connection acks
    g.dropConnection();
    await eventually(() => g.ofType("hello").length).toBe(2);
    expect(processExists(pid)).toBe(true);
    const hellos = g.ofType("hello");
    expect(hellos[1]?.activeAttempts).toEqual([ref]);
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 200 }).toBe(1);

    // Everything sent before the drop went again on the new connection, and the store has each seq once.
    const resent = g.frames.filter((f) => f.connection === 2 && f.message.type === "progress").map((f) => (f.message as { seq: number }).seq);
    expect(resent.slice(0, beforeDrop)).toEqual(Array.from({ length: beforeDrop }, (_, i) => i + 1));
    const store = g.stored.get(`${RUN}#1`) ?? new Map<number, unknown>();
    const highest = Math.max(...g.ofType("progress").map((p) => p.seq));
    expect(contiguous(store)).toBe(highest);
    expect(store.size).toBe(highest);
    // The job ran on: the daemon stayed busy through the outage.
    await eventually(() => states).toEqual(["idle", "busy", "idle"]);
  }, 180_000);

  it("a result whose connection drops before the answer is kept, re-sent on the next connection, and forgotten once recorded", async () => {
    // The first connection dies the moment the finished reaches it: the answer is lost.
    const g = await gateway({ results: (_message, connection) => (connection === 1 ? "drop" : "record") });
    const { daemon, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 200 }).toBe(2);
    const finished = g.frames.filter((f) => f.message.type === "finished");
    expect(finished.map((f) => f.connection)).toEqual([1, 2]);
    expect(finished[1]?.raw).toBe(finished[0]?.raw);
    // The hello still listed the attempt (its lease is needed until the result is recorded),
    // and the result went after everything re-sent on the new connection.
    expect(g.ofType("hello")[1]?.activeAttempts).toEqual([ref]);
    const second = g.frames.filter((f) => f.connection === 2 && "runId" in f.message);
    expect(second.at(-1)?.message.type).toBe("finished");
    await eventually(() => daemon.jobs.length).toBe(0);
    expect([...g.results.keys()]).toEqual([`${RUN}#1`]);
    expect(lines).toContain(`run ${RUN} attempt 1: the server recorded its result (succeeded)`);
    await eventually(() => daemon.state).toBe("idle");
  }, 180_000);

  it("a result refused as a stale attempt is dropped: nothing to retry, not re-sent after a reconnect", async () => {
    const g = await gateway({ results: () => "refuse" });
    const { daemon, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 200 }).toBe(1);
    await eventually(() => daemon.jobs.length).toBe(0);
    expect(lines.some((line) => line.startsWith(`run ${RUN} attempt 1: dropping its result (stale_attempt:`))).toBe(true);
    await eventually(() => g.ofType("ready").length).toBe(2);

    g.dropConnection();
    await eventually(() => g.ofType("ready").length).toBe(3);
    // The welcome's re-send would have come before this ready: nothing was owed.
    expect(g.ofType("hello")[1]?.activeAttempts).toEqual([]);
    expect(g.ofType("finished")).toHaveLength(1);
    expect(g.results.size).toBe(0);
  }, 180_000);

  it("a refusal whose connection drops before the answer is kept, listed in the hello, re-sent on the next connection and answered once", async () => {
    // The first connection dies the moment the refusal's failed reaches it: the answer is lost.
    const g = await gateway({ results: (_message, connection) => (connection === 1 ? "drop" : "record") });
    const { daemon, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref, { recipe: { model: { layers: 99 } } });
    await eventually(() => g.ofType("failed").length).toBe(2);
    const failed = g.frames.filter((f) => f.message.type === "failed");
    expect(failed.map((f) => f.connection)).toEqual([1, 2]);
    expect(failed[1]?.raw).toBe(failed[0]?.raw);
    expect(failed[0]?.message).toMatchObject({ retryable: false, error: expect.stringMatching(/^invalid recipe: model\.layers/) });
    // Its lease is needed until the server records the refusal, as a job's would be.
    expect(g.ofType("hello")[1]?.activeAttempts).toEqual([ref]);
    await eventually(() => daemon.pendingRefusals).toEqual([]);
    expect(lines).toContain(`run ${RUN} attempt 1: the server recorded its refusal`);
    expect(g.sent.filter((f) => f.message.type === "result-recorded")).toEqual([{ connection: 2, message: { type: "result-recorded", ...ref, outcome: "failed" } }]);
    expect([...g.results.keys()]).toEqual([`${RUN}#1`]);
    // Refused without a job process, and forgotten once recorded: the next connection hears nothing of it.
    expect(daemon.jobs).toHaveLength(0);
    expect(g.ofType("accepted")).toEqual([]);
    await eventually(() => g.ofType("ready").length).toBe(2);
    g.dropConnection();
    await eventually(() => g.ofType("ready").length).toBe(3);
    expect(g.ofType("hello")[2]?.activeAttempts).toEqual([]);
    expect(g.ofType("failed")).toHaveLength(2);
    expect(daemon.state).toBe("idle");
  }, 60_000);

  it("a refusal left unanswered is listed in every heartbeat and refused again on a repeated assign until recorded; one refused as stale is dropped", async () => {
    const g = await gateway({ heartbeatIntervalMs: 100, results: (message) => (message.runId === RUN ? "ignore" : "refuse") });
    const { daemon, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref, { variant: { family: "no-such-family" } });
    await eventually(() => g.ofType("failed").length).toBe(1);
    expect(g.ofType("failed")[0]).toMatchObject({ ...ref, retryable: false, error: expect.stringMatching(/^invalid task variant: /) });
    const refusedAt = g.frames.findIndex((f) => f.message.type === "failed");
    const heartbeatsSince = () => g.frames.slice(refusedAt).flatMap((f) => (f.message.type === "heartbeat" ? [f.message.attempts] : []));
    await eventually(() => heartbeatsSince().length).toBeGreaterThanOrEqual(3);
    expect(heartbeatsSince().every((attempts) => attempts.length === 1 && attempts[0]?.runId === RUN)).toBe(true);

    // The same attempt assigned again (now valid): refused it stays, the same frame again, no job.
    g.assign(ref);
    await eventually(() => g.ofType("failed").length).toBe(2);
    expect(g.frames.filter((f) => f.message.type === "failed").map((f) => f.raw)).toEqual([g.frames[refusedAt]?.raw, g.frames[refusedAt]?.raw]);
    expect(g.ofType("accepted")).toEqual([]);
    expect(daemon.jobs).toHaveLength(0);

    // Another attempt whose refusal the server calls stale: nothing to retry.
    const other = { runId: OTHER_RUN, attempt: 1 };
    g.assign(other, { recipe: { model: { layers: 99 } } });
    await eventually(() => lines.some((line) => line.startsWith(`run ${OTHER_RUN} attempt 1: dropping its refusal (stale_attempt:`))).toBe(true);
    expect(daemon.pendingRefusals).toEqual([ref]);

    g.send({ type: "result-recorded", ...ref, outcome: "failed" });
    await eventually(() => daemon.pendingRefusals).toEqual([]);
    await eventually(() => g.ofType("heartbeat").at(-1)?.attempts).toEqual([]);
    g.dropConnection();
    await eventually(() => g.ofType("ready").length).toBe(2);
    expect(g.ofType("hello")[1]?.activeAttempts).toEqual([]);
    expect(g.ofType("failed")).toHaveLength(3);
  }, 60_000);

  it("keeps at most MAX_PENDING_REFUSALS refusals, the oldest dropped first, so a hello lists every one it keeps", async () => {
    const g = await gateway({ results: () => "ignore" });
    const { daemon, lines } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    const refs = Array.from({ length: MAX_PENDING_REFUSALS + 2 }, (_, i) => ({ runId: RUN, attempt: i + 1 }));
    for (const refused of refs) g.assign(refused, { recipe: { model: { layers: 99 } } });
    await eventually(() => g.ofType("failed").length).toBe(refs.length);
    expect(daemon.pendingRefusals).toEqual(refs.slice(2));
    expect(lines.filter((line) => line.includes("no longer keeping its refusal")).map((line) => line.split(":")[0])).toEqual([
      `run ${RUN} attempt 1`,
      `run ${RUN} attempt 2`,
    ]);
    g.dropConnection();
    await eventually(() => g.ofType("failed").length).toBe(refs.length + MAX_PENDING_REFUSALS);
    expect(g.ofType("hello")[1]?.activeAttempts).toEqual(refs.slice(2));
  }, 60_000);

  it("drain: finishes the current job, takes no new one, and closes with 1000", async () => {
    const g = await gateway();
    const { daemon, running, states } = startDaemon(g);
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await eventually(() => g.ofType("accepted").length).toBe(1);
    g.send({ type: "drain", reason: "server maintenance" });
    await eventually(() => daemon.state).toBe("draining");
    g.assign({ runId: OTHER_RUN, attempt: 1 });
    await eventually(() => g.ofType("failed")).toEqual([
      { type: "failed", runId: OTHER_RUN, attempt: 1, retryable: true, error: "this runner is draining and takes no new runs" },
    ]);
    await running;
    expect(g.ofType("finished")).toHaveLength(1);
    expect(states).toEqual(["idle", "busy", "draining", "stopped"]);
    await eventually(() => g.closes).toEqual([1000]);
  }, 180_000);

  it("drain: a refusal whose answer is lost is re-sent after the reconnect, and the runner closes once it and the job's result are recorded", async () => {
    const other = { runId: OTHER_RUN, attempt: 1 };
    const g = await gateway({ results: (message, connection) => (message.runId === OTHER_RUN && connection === 1 ? "drop" : "record") });
    // A cap far above the test's timeout: closing must follow the answers, not the clock.
    const { daemon, running, states } = startDaemon(g, { drainDeliveryTimeoutMs: 600_000 });
    await eventually(() => g.ofType("ready").length).toBe(1);
    g.assign(ref);
    await eventually(() => g.ofType("accepted").length).toBe(1);
    g.send({ type: "drain", reason: "server maintenance" });
    await eventually(() => daemon.state).toBe("draining");
    g.assign(other);
    await eventually(() => g.frames.filter((f) => f.message.type === "failed").map((f) => f.connection)).toEqual([1, 2]);
    // The hello lists the running job first, then the refusal waiting for its answer.
    expect(g.ofType("hello")[1]?.activeAttempts).toEqual([ref, other]);
    await eventually(() => daemon.pendingRefusals).toEqual([]);
    await expect.poll(() => g.ofType("finished").length, { timeout: 120_000, interval: 50 }).toBe(1);
    const finishedAt = Date.now();
    await running;
    expect(Date.now() - finishedAt).toBeLessThan(10_000);
    expect([...g.results.keys()].sort()).toEqual([`${RUN}#1`, `${OTHER_RUN}#1`].sort());
    expect(states).toEqual(["idle", "busy", "draining", "stopped"]);
    await eventually(() => g.closes.at(-1)).toBe(1000);
  }, 180_000);
});
