// The runner gateway under abuse, over real loopback sockets against the real server:
// 2,000 headers on the upgrade, a frame over the limit, a flood of 1-byte fragments, a
// flood past the frame budget, a client that never reads, and 10,000 random and mutated
// protocol frames. Afterwards the server still answers, its heap has not run away, it
// logged no handler failure, and an honest runner claims, heartbeats and finishes a run.
import fc from "fast-check";
import { eq } from "drizzle-orm";
import { runs } from "@transcend/db/schema";
import { CLOSE_CODES, MAX_FRAME_BYTES, recipePresets } from "@transcend/protocol";
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { SimRunner } from "../gateway/sim-runner";
import { configureRateLimits } from "../rate-limit";
import { cancelRun } from "../services/queue";
import { createGradableVariantAndRecipe, createRunner, createUser, queueRuns } from "../test-fleet";
import { OPCODE, clientFrame, closed, rawRequest, rawUpgrade, upgradeRequest } from "./abuse-client";

const FUZZ_FRAMES = 10_000;
/** At most this many fuzz frames per connection: below the gateway's pending-frame cap, so only bad frames close it. */
const FRAMES_PER_CONNECTION = 200;

describeEachDatabase("runner gateway abuse", (getDb, { getDatabase }) => {
  let server: TranscendServer;
  /** A second gateway on the same database with small budgets, to hit them in a test's time. */
  let strict: TranscendServer;
  let owner: string;
  let credential: string;
  const serverLog: string[] = [];

  beforeAll(async () => {
    // Hundreds of connections from one address are the point here, not the handshake limit.
    configureRateLimits({ runnerHandshake: null });
    const fleet = { heartbeatIntervalMs: 500, sweepIntervalMs: 500, claimPollMs: 200, pingIntervalMs: 1_000, queue: { leaseMs: 3_000 } };
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), seed: false, log: (line) => serverLog.push(line), fleet });
    strict = await startTranscendServer({
      port: 0,
      host: "127.0.0.1",
      database: getDatabase(),
      seed: false,
      log: () => {},
      fleet: { ...fleet, frameLimits: { messagesPerSecond: 20, messageBurst: 50 }, maxBufferedBytes: 256 * 1024 },
    });
    owner = await createUser(getDb(), "abuse-owner");
    ({ credential } = await createRunner(getDb(), owner, "abuser"));
  });

  afterAll(async () => {
    await strict?.close();
    await server?.close();
    configureRateLimits();
  });

  async function healthy(target: TranscendServer): Promise<number> {
    const response = await fetch(`${target.url}/api/health`);
    return response.status;
  }

  it("answers 2,000 headers on the upgrade with a refusal, not a socket", async () => {
    const many = Array.from({ length: 2_000 }, (_, i) => `X-Filler-${i}: ${"v".repeat(8)}`);
    const big = await rawRequest(server.port, upgradeRequest({ Authorization: `Bearer ${credential}` }, many));
    expect(big.status).toBe(431);
    // Short ones that fit the 16 KiB header limit: Node keeps the first 2,000; no credential survives the cut.
    const short = Array.from({ length: 2_000 }, (_, i) => `h${i}: v`);
    const shortAnswer = await rawRequest(server.port, upgradeRequest({}, short));
    expect([401, 431]).toContain(shortAnswer.status);
    expect(await healthy(server)).toBe(200);
  });

  it("closes a frame over the limit with 1009 and a 1-byte fragment flood before it outgrows the frame limit", async () => {
    const oversized = await SimRunner.start(server.url, credential);
    oversized.sendRaw("x".repeat(MAX_FRAME_BYTES + 1));
    expect((await oversized.closed).code).toBe(CLOSE_CODES.frameTooLarge);

    const socket = await rawUpgrade(server.port, credential);
    const heapBefore = process.memoryUsage().heapUsed;
    const isClosed = closed(socket);
    socket.write(clientFrame(OPCODE.text, Buffer.from("{"), false));
    const fragment = clientFrame(OPCODE.continuation, Buffer.from(" "), false);
    // 4× the frame limit in 1-byte fragments, written in batches as the socket drains.
    const batch = Buffer.concat(Array.from({ length: 4_096 }, () => fragment));
    for (let sent = 0; sent < 4 * MAX_FRAME_BYTES && !socket.destroyed; sent += 4_096) {
      if (!socket.write(batch)) await new Promise((resolve) => socket.once("drain", resolve).once("close", resolve));
    }
    expect(await isClosed).toBe(true);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(await healthy(server)).toBe(200);
  });

  it("closes a runner flooding past its frame budget with 1013", async () => {
    const flooder = await SimRunner.start(strict.url, credential);
    for (let i = 0; i < 200; i++) flooder.send({ type: "heartbeat", attempts: [] });
    const close = await flooder.closed;
    expect(close).toEqual({ code: CLOSE_CODES.rateLimited, reason: "rate_limited" });
  });

  it("drops a runner that never reads what it asked for", async () => {
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner, {
      evaluation: { ...recipePresets.tiny.evaluation, itemsPerSplit: 2_000, samplesPerItem: 2, kValues: [1, 2] },
    });
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { credential: readerCredential } = await createRunner(getDb(), owner, "never-reads");
    const reader = await SimRunner.start(strict.url, readerCredential);
    reader.send({ type: "ready", slots: 1 });
    const assign = await reader.next("assign", (frame) => frame.runId === runId);
    const ref = { runId: assign.runId, attempt: assign.attempt };
    reader.send({ type: "accepted", ...ref });
    reader.socket.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    // Each request is answered with the whole evaluation set; none of it is read.
    for (let i = 0; i < 40 && reader.socket.readyState === reader.socket.OPEN; i++) {
      reader.send({ type: "evaluation-request", ...ref, model: "base", split: "id" });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    reader.socket.resume();
    const close = await reader.closed;
    expect(close.code).toBe(1006); // terminated: no close frame could reach a peer that does not read
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(128 * 1024 * 1024);
    expect(await healthy(strict)).toBe(200);
    // Its big run would otherwise be the next one any runner is given.
    await cancelRun(getDb(), { runId, reason: "abuse test over" });
  }, 60_000);

  it("survives 10,000 random and mutated protocol frames, then serves an honest runner", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const frames = fc.sample(frameArbitrary(), { numRuns: FUZZ_FRAMES, seed: 20261202 });
    let sent = 0;
    let connections = 0;
    while (sent < frames.length) {
      const sim = await SimRunner.start(server.url, credential);
      connections += 1;
      for (let i = 0; i < FRAMES_PER_CONNECTION && sent < frames.length && sim.socket.readyState === sim.socket.OPEN; i++) {
        sim.sendRaw(frames[sent] ?? "");
        sent += 1;
      }
      // An open connection is closed by us; one the server closed has said why.
      const close = sim.socket.readyState === sim.socket.OPEN ? await sim.close() : await sim.closed;
      expect([1000, 1005, 1006, CLOSE_CODES.invalidFrame, CLOSE_CODES.frameTooLarge, CLOSE_CODES.replaced, CLOSE_CODES.helloExpected]).toContain(close.code);
    }
    expect(sent).toBe(FUZZ_FRAMES);
    if (process.env.ABUSE_DEBUG) console.error(`${sent} frames over ${connections} connections in ${Date.now() - started} ms`);
    expect(connections).toBeLessThan(FUZZ_FRAMES);
    expect(await healthy(server)).toBe(200);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
    // Frames that reach a handler are refused by name; none may fail the handler itself.
    expect(serverLog.filter((line) => line.startsWith("handling ")).slice(0, 5)).toEqual([]);

    // An honest runner: claim, heartbeats, the whole attempt, graded.
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { credential: honestCredential } = await createRunner(getDb(), owner, "honest");
    const honest = await SimRunner.start(server.url, honestCredential);
    honest.send({ type: "ready", slots: 1 });
    const assign = await honest.next("assign", (frame) => frame.runId === runId);
    const stop = honest.heartbeat(() => [{ runId: assign.runId, attempt: assign.attempt }], 200);
    await honest.execute(assign, { splits: evalSplits });
    await honest.next("ack", (ack) => ack.runId === runId);
    stop();
    await expect
      .poll(async () => (await getDb().select({ state: runs.state }).from(runs).where(eq(runs.id, runId)))[0]?.state, { timeout: 15_000 })
      .toBe("graded");
    await honest.close();
  }, 180_000);
});

/** Runner frames: well-formed ones about runs that are not the sender's, and mutations of them. */
function frameArbitrary(): fc.Arbitrary<string> {
  const ref = { runId: fc.uuid(), attempt: fc.integer({ min: 0, max: 5 }) };
  const valid = fc.oneof(
    fc.record({ type: fc.constant("heartbeat"), attempts: fc.array(fc.record(ref), { maxLength: 4 }) }),
    fc.record({ type: fc.constant("ready"), slots: fc.constant(0) }),
    fc.record({ type: fc.constant("accepted"), ...ref }),
    fc.record({
      type: fc.constant("progress"),
      ...ref,
      seq: fc.integer({ min: 0, max: 1e6 }),
      phase: fc.constantFrom("pretraining", "grpo", "evaluating_base"),
      step: fc.nat(),
      metrics: fc.dictionary(fc.string({ maxLength: 12 }), fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 4 }),
    }),
    fc.record({ type: fc.constant("log"), ...ref, offset: fc.nat(), text: fc.string({ maxLength: 200 }) }),
    fc.record({ type: fc.constant("evaluation-request"), ...ref, model: fc.constantFrom("base", "grpo"), split: fc.string({ maxLength: 12 }) }),
    fc.record({ type: fc.constant("failed"), ...ref, error: fc.string({ maxLength: 80 }), retryable: fc.boolean() }),
  );
  const mutated = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 8 })).map(([message, at, how, junk]) => {
    const text = JSON.stringify(message);
    const i = at % Math.max(1, text.length);
    if (how === 0) return text.slice(0, i); // truncated
    if (how === 1) return `${text.slice(0, i)}${junk}${text.slice(i + 1)}`; // a character replaced
    if (how === 2) return JSON.stringify({ ...message, attempt: junk, seq: -1, extra: "x".repeat(i % 1000) }); // wrong kinds
    return JSON.stringify({ ...message, type: junk }); // unknown type
  });
  // Most frames are well-formed but cheap to answer (nothing to look up), so 10,000 fit in
  // seconds; a quarter go to the database about runs that are not the sender's.
  const cheap = fc.oneof(fc.constant({ type: "ready", slots: 0 }), fc.constant({ type: "heartbeat", attempts: [] }));
  return fc.oneof(
    { arbitrary: cheap.map((message) => JSON.stringify(message)), weight: 65 },
    { arbitrary: valid.map((message) => JSON.stringify(message)), weight: 25 },
    { arbitrary: mutated, weight: 7 },
    { arbitrary: fc.oneof(fc.string({ maxLength: 64 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null")), weight: 3 },
  );
}
