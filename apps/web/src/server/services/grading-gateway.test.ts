// Fake runners through the real gateway, over real sockets: one that claims perfect
// accuracy without evaluating, one that replays another run's (correct) completions, one
// that answers items it was never sent. None of their numbers is published: the server
// grades nothing for them, the run fails, and the leaderboard and results show nothing.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { evaluationResults, runResults, runs, taskVariants } from "@transcend/db/schema";
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { SimRunner, type AssignFrame } from "../gateway/sim-runner";
import { cancelOpenRuns, createGradableVariantAndRecipe, createRunner, createUser, queueRuns } from "../test-fleet";
import { referenceCompletions, type CompletionEntry } from "./grading";
import { variantLeaderboard } from "./leaderboard";
import { runResultsView } from "./run-results";
import { GET as downloadItems } from "../../app/api/runs/[runId]/items/route";

const fleet = {
  heartbeatIntervalMs: 200,
  sweepIntervalMs: 150,
  claimPollMs: 150,
  queue: { leaseMs: 5_000, maxAttempts: 1, backoffBaseMs: 100, backoffMaxMs: 300 },
};

type Model = "base" | "grpo";

describeEachDatabase("fake runners through the gateway", (getDb, { getDatabase }) => {
  let server: TranscendServer;
  let owner = "";
  let other = "";
  let artifactsDir = "";
  const open: SimRunner[] = [];

  beforeAll(async () => {
    artifactsDir = mkdtempSync(path.join(os.tmpdir(), "transcend-grading-"));
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

  async function claim(ownerId: string, name: string): Promise<{ sim: SimRunner; assign: AssignFrame; stop: () => void }> {
    const { credential } = await createRunner(getDb(), ownerId, name);
    const sim = await SimRunner.start(server.url, credential, { name });
    open.push(sim);
    sim.send({ type: "ready", slots: 1 });
    const assign = await sim.next("assign");
    const stop = sim.heartbeat(() => [{ runId: assign.runId, attempt: assign.attempt }], fleet.heartbeatIntervalMs);
    sim.send({ type: "accepted", runId: assign.runId, attempt: assign.attempt });
    return { sim, assign, stop };
  }

  /** Reports the phases as an honest runner would (progress moves the run's state). */
  async function progress(sim: SimRunner, assign: AssignFrame, phases: readonly ("pretraining" | "evaluating_base" | "grpo" | "evaluating_final")[], from = 0): Promise<number> {
    let seq = from;
    for (const phase of phases) {
      seq += 1;
      sim.send({ type: "progress", runId: assign.runId, attempt: assign.attempt, seq, phase, step: seq, metrics: { loss: 1 / seq } });
    }
    await sim.next("ack", (ack) => ack.runId === assign.runId && ack.seq === seq);
    return seq;
  }

  async function requestSet(sim: SimRunner, assign: AssignFrame, model: Model, split: string) {
    sim.send({ type: "evaluation-request", runId: assign.runId, attempt: assign.attempt, model, split });
    const items: { id: string; prompt: string[] }[] = [];
    let samplesPerItem = 0;
    for (;;) {
      const chunk = await sim.next("evaluation-set", (f) => f.runId === assign.runId && f.model === model && f.split === split);
      items.push(...chunk.items);
      samplesPerItem = chunk.samplesPerItem;
      if (items.length >= chunk.total) return { items, samplesPerItem };
    }
  }

  const sendCompletions = (sim: SimRunner, assign: AssignFrame, model: Model, split: string, entries: CompletionEntry[]) => {
    for (let start = 0; start < entries.length; start += 500) {
      sim.send({ type: "completions", runId: assign.runId, attempt: assign.attempt, model, split, entries: entries.slice(start, start + 500) });
    }
  };

  const stateOf = async (runId: string) => (await getDb().select({ state: runs.state }).from(runs).where(eq(runs.id, runId)))[0]?.state;

  async function expectNothingPublished(runId: string, variantId: string): Promise<void> {
    await expect.poll(() => stateOf(runId), { timeout: 10_000 }).toBe("failed");
    expect(await getDb().select().from(evaluationResults).where(eq(evaluationResults.runId, runId))).toEqual([]);
    expect(await getDb().select().from(runResults).where(eq(runResults.runId, runId))).toEqual([]);
    expect(await runResultsView(getDb(), runId)).toEqual({ graded: false });
    const [variant] = await getDb().select({ slug: taskVariants.slug }).from(taskVariants).where(eq(taskVariants.id, variantId));
    const board = await variantLeaderboard(getDb(), { slug: variant?.slug ?? "" });
    expect(board?.rows.flatMap((row) => row.runs.map((run) => run.runId))).not.toContain(runId);
  }

  it("a runner that claims perfect accuracy without evaluating publishes nothing", async () => {
    const { variantId, recipeId } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { sim, assign, stop } = await claim(owner, "braggart");
    expect(assign.runId).toBe(runId);
    await progress(sim, assign, ["pretraining", "evaluating_base", "grpo", "evaluating_final"]);
    sim.send({
      type: "finished",
      runId,
      attempt: assign.attempt,
      engineVersion: "fake",
      checkpoints: {},
      selfReported: { "id/greedyAccuracy": 1, "ood/greedyAccuracy": 1, "ood/pass@1": 1, oodGain: 1 },
    });
    await expectNothingPublished(runId, variantId);
    stop();
  }, 60_000);

  it("a runner that replays another run's correct completions publishes nothing", async () => {
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const [honestRunId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });

    // An honest runner answers run A correctly (the test asks the server for its reference answers).
    const honest = await claim(owner, "honest");
    const recorded = new Map<string, CompletionEntry[]>();
    let seq = await progress(honest.sim, honest.assign, ["pretraining", "evaluating_base"]);
    for (const model of ["base", "grpo"] as const) {
      if (model === "grpo") seq = await progress(honest.sim, honest.assign, ["grpo", "evaluating_final"], seq);
      for (const split of evalSplits) {
        const ref = { runId: honestRunId, attempt: honest.assign.attempt, model, split };
        const answers = await referenceCompletions(getDb(), ref);
        const { items, samplesPerItem } = await requestSet(honest.sim, honest.assign, model, split);
        const entries = items.flatMap((item) =>
          Array.from({ length: samplesPerItem + 1 }, (_, sample) => ({ itemId: item.id, sample, tokens: answers.get(item.id) ?? [] })),
        );
        recorded.set(`${model}/${split}`, entries);
        sendCompletions(honest.sim, honest.assign, model, split, entries);
        await honest.sim.next("graded", (f) => f.runId === honestRunId && f.model === model && f.split === split);
      }
    }
    honest.sim.send({ type: "finished", runId: honestRunId, attempt: honest.assign.attempt, engineVersion: "sim", checkpoints: {}, selfReported: {} });
    await expect.poll(() => stateOf(honestRunId), { timeout: 10_000 }).toBe("graded");
    honest.stop();
    // The honest run's items download (the route handler, with the running server's context).
    const download = await downloadItems(new Request("http://localhost/"), { params: Promise.resolve({ runId: honestRunId }) });
    expect(download.status).toBe(200);
    const lines = (await download.text()).trim().split("\n").map((line) => JSON.parse(line) as { split: string; base: { greedyCorrect: boolean } });
    expect(lines).toHaveLength(3 * evalSplits.length);
    expect(lines.every((line) => line.base.greedyCorrect)).toBe(true);

    // Run B on another owner's runner, answered with run A's completions verbatim.
    const [replayRunId = ""] = await queueRuns(getDb(), { submitterId: other, variantId, recipeId, count: 1 });
    const replayer = await claim(other, "replayer");
    expect(replayer.assign.runId).toBe(replayRunId);
    seq = await progress(replayer.sim, replayer.assign, ["pretraining", "evaluating_base"]);
    for (const model of ["base", "grpo"] as const) {
      if (model === "grpo") seq = await progress(replayer.sim, replayer.assign, ["grpo", "evaluating_final"], seq);
      for (const split of evalSplits) {
        await requestSet(replayer.sim, replayer.assign, model, split);
        sendCompletions(replayer.sim, replayer.assign, model, split, recorded.get(`${model}/${split}`) ?? []);
      }
    }
    // Give the gateway time to grade what it would grade, then finish.
    await progress(replayer.sim, replayer.assign, ["evaluating_final"], seq);
    expect(replayer.sim.frames.some((frame) => frame.type === "graded")).toBe(false);
    replayer.sim.send({ type: "finished", runId: replayRunId, attempt: replayer.assign.attempt, engineVersion: "fake", checkpoints: {}, selfReported: { accuracy: 1 } });
    await expectNothingPublished(replayRunId, variantId);
    replayer.stop();
    const refused = await downloadItems(new Request("http://localhost/"), { params: Promise.resolve({ runId: replayRunId }) });
    expect(refused.status).toBe(404);
  }, 90_000);

  it("a runner that answers items it was never sent publishes nothing", async () => {
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(getDb(), owner);
    const [runId = ""] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const { sim, assign, stop } = await claim(owner, "inventor");
    let seq = await progress(sim, assign, ["pretraining", "evaluating_base"]);
    for (const model of ["base", "grpo"] as const) {
      if (model === "grpo") seq = await progress(sim, assign, ["grpo", "evaluating_final"], seq);
      for (const split of evalSplits) {
        const { samplesPerItem } = await requestSet(sim, assign, model, split);
        const invented = Array.from({ length: 10 }, (_, index) =>
          Array.from({ length: samplesPerItem + 1 }, (_, sample) => ({ itemId: `invented-${index}`, sample, tokens: ["<answer>", "a", "<eos>"] })),
        ).flat();
        sendCompletions(sim, assign, model, split, invented);
      }
    }
    await progress(sim, assign, ["evaluating_final"], seq);
    expect(sim.frames.some((frame) => frame.type === "graded")).toBe(false);
    sim.send({ type: "finished", runId, attempt: assign.attempt, engineVersion: "fake", checkpoints: {}, selfReported: { accuracy: 1 } });
    await expectNothingPublished(runId, variantId);
    stop();
  }, 60_000);
});
