// The whole fleet: the real `transcend-runner start` daemons (each job in a child process,
// real training steps on a recipe cut down to seconds) against the real server, over real
// sockets, on a real database. What a runner owner and a submitter would see when things
// go wrong: a runner killed mid-run, the server restarted mid-run, a cancel while running
// and while the runner is away.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { asc, eq } from "drizzle-orm";
import { createRecipe, createTaskVariant, type Database } from "@transcend/db";
import { testDatabaseTargets } from "@transcend/db/testing";
import { runAttempts, runStateTransitions, runs } from "@transcend/db/schema";
import { findPreset } from "@transcend/tasks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTranscendServer, type StartServerOptions, type TranscendServer } from "./app-server";
import { cancelRun } from "./services/queue";
import { createRegistrationToken } from "./services/runners";
import { createUser, queueRuns } from "./test-fleet";

const runnerBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../runner/bin/transcend-runner.js");

/** The tiny preset cut down so a whole job (pretrain, evaluate, GRPO, evaluate) takes seconds. */
const quickRecipe = {
  name: "fleet-test",
  model: { layers: 1, dModel: 16, heads: 2, contextLength: 64 },
  pretraining: { steps: 60, batchSize: 8, learningRate: 3e-3, warmupSteps: 5 },
  grpo: { steps: 2, promptsPerStep: 2, groupSize: 2, maxNewTokens: 24, learningRate: 1e-3 },
  evaluation: { itemsPerSplit: 4, samplesPerItem: 2, kValues: [1, 2], maxNewTokens: 24 },
  seeds: [1],
};

const fleet: StartServerOptions["fleet"] = {
  heartbeatIntervalMs: 500,
  sweepIntervalMs: 300,
  claimPollMs: 300,
  queue: { leaseMs: 3_000, maxAttempts: 3, backoffBaseMs: 200, backoffMaxMs: 500 },
};

interface RunnerProcess {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

describe("the fleet with real runner daemons", () => {
  let database: Database;
  let ownerId = "";
  let otherId = "";
  let variantId = "";
  let recipeId = "";
  const dirs: string[] = [];
  const processes: RunnerProcess[] = [];
  const servers: TranscendServer[] = [];

  beforeAll(async () => {
    const pglite = testDatabaseTargets().find((target) => target.kind === "pglite");
    if (!pglite) throw new Error("PGlite test target missing");
    database = await pglite.open();
    ownerId = await createUser(database.db, "fleet-owner");
    otherId = await createUser(database.db, "fleet-other");
    const preset = findPreset("mod-arith-depth-partial");
    if (!preset) throw new Error("preset missing");
    variantId = (await createTaskVariant(database.db, { ownerId, spec: { ...preset, slug: "fleet-variant" } })).id;
    recipeId = (await createRecipe(database.db, { ownerId, spec: { ...quickRecipe, slug: "fleet-recipe" } })).id;
  });
  afterEach(async () => {
    for (const runner of processes.splice(0)) if (runner.child.exitCode === null && runner.child.signalCode === null) runner.child.kill("SIGKILL");
    await Promise.all(servers.splice(0).map((server) => server.close()));
    const open = await database.db.select({ id: runs.id, state: runs.state }).from(runs);
    for (const run of open) if (!["graded", "failed", "cancelled"].includes(run.state)) await cancelRun(database.db, { runId: run.id, reason: "test over" });
  });
  afterAll(async () => {
    await database?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  async function serve(port = 0): Promise<TranscendServer> {
    const server = await startTranscendServer({ port, host: "127.0.0.1", database, seed: false, log: () => {}, fleet, artifactsDir: tempDir("fleet-artifacts-") });
    servers.push(server);
    return server;
  }

  /** `transcend-runner register` then `start`, as a runner owner would. */
  async function startRunner(server: TranscendServer, owner: string, name: string): Promise<RunnerProcess> {
    const configDir = tempDir("fleet-runner-config-");
    const { token } = await createRegistrationToken(database.db, { ownerId: owner });
    await promisify(execFile)(process.execPath, [runnerBin, "register", "--server", server.url, "--token", token, "--name", name, "--config", configDir]);
    const child = spawn(
      process.execPath,
      [runnerBin, "start", "--config", configDir, "--backend", "wasm", "--cache", tempDir("fleet-runner-cache-"), "--cancel-grace", "2"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const runner = { child, output: () => output, exited };
    processes.push(runner);
    return runner;
  }

  const stateOf = async (runId: string) => (await database.db.select().from(runs).where(eq(runs.id, runId)))[0];
  const history = async (runId: string) =>
    database.db.select().from(runStateTransitions).where(eq(runStateTransitions.runId, runId)).orderBy(asc(runStateTransitions.id));
  const attempts = async (runId: string) => database.db.select().from(runAttempts).where(eq(runAttempts.runId, runId)).orderBy(asc(runAttempts.attempt));
  const jobPid = (runner: RunnerProcess): number | undefined => {
    const match = /job pid (\d+)/.exec(runner.output());
    return match ? Number(match[1]) : undefined;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it("a runner killed (SIGKILL) mid-run: its lease expires, the other runner finishes the run once", async () => {
    const server = await serve();
    const [runId = ""] = await queueRuns(database.db, { submitterId: ownerId, variantId, recipeId, count: 1 });
    const doomed = await startRunner(server, ownerId, "doomed");
    await expect.poll(async () => (await stateOf(runId))?.state, { timeout: 120_000, interval: 250 }).toBe("pretraining");
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const pid = jobPid(doomed);

    const survivor = await startRunner(server, otherId, "survivor");
    await expect.poll(async () => (await stateOf(runId))?.state, { timeout: 240_000, interval: 500 }).toBe("graded");
    expect((await attempts(runId)).map((a) => a.outcome)).toEqual(["lease_expired", "succeeded"]);
    expect((await history(runId)).map((t) => t.toState).filter((s) => s === "graded")).toHaveLength(1);
    expect((await stateOf(runId))?.attempt).toBe(2);
    // The orphaned job of the killed daemon does not outlive it for long.
    if (pid !== undefined) await expect.poll(() => alive(pid), { timeout: 30_000 }).toBe(false);
    expect(survivor.output()).toContain("finished");
  }, 400_000);

  it("the server restarted mid-run: the runner reconnects, keeps its lease and the run completes on the same attempt", async () => {
    let server = await serve();
    const port = server.port;
    const [runId = ""] = await queueRuns(database.db, { submitterId: ownerId, variantId, recipeId, count: 1 });
    await startRunner(server, ownerId, "steady");
    await expect.poll(async () => (await stateOf(runId))?.state, { timeout: 120_000, interval: 250 }).toBe("pretraining");
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    server = await serve(port);
    await expect.poll(async () => (await stateOf(runId))?.state, { timeout: 240_000, interval: 500 }).toBe("graded");
    const [attempt] = await attempts(runId);
    expect(await attempts(runId)).toHaveLength(1);
    expect(attempt?.outcome).toBe("succeeded");
    expect(attempt?.lastSeq).toBeGreaterThan(0);
    // Each phase entered once: nothing replayed after the reconnect moved the run twice.
    expect((await history(runId)).map((t) => t.toState)).toEqual(["queued", "assigned", "pretraining", "evaluating_base", "grpo", "evaluating_final", "graded"]);
  }, 400_000);

  it("cancel while running, and while the runner is disconnected: the job process is gone and the run is cancelled with the reason", async () => {
    let server = await serve();
    const port = server.port;
    const [first = "", second = ""] = await queueRuns(database.db, { submitterId: ownerId, variantId, recipeId, count: 2 });
    const runner = await startRunner(server, ownerId, "cancelled");
    await expect.poll(async () => (await stateOf(first))?.state, { timeout: 120_000, interval: 250 }).toBe("pretraining");
    const firstPid = jobPid(runner);
    expect(firstPid).toBeGreaterThan(0);
    await cancelRun(database.db, { runId: first, reason: "cancelled while running" });
    await expect.poll(() => alive(firstPid ?? 0), { timeout: 15_000 }).toBe(false);
    expect((await history(first)).at(-1)).toMatchObject({ toState: "cancelled", reason: "cancelled while running" });

    // The runner takes the second run; then the server goes away and the run is cancelled meanwhile.
    await expect.poll(async () => (await stateOf(second))?.state, { timeout: 120_000, interval: 250 }).toBe("pretraining");
    const secondPid = [...runner.output().matchAll(/job pid (\d+)/g)].map((m) => Number(m[1])).at(-1) ?? 0;
    expect(secondPid).not.toBe(firstPid);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await cancelRun(database.db, { runId: second, reason: "cancelled while the runner was away" });
    server = await serve(port);
    await expect.poll(() => alive(secondPid), { timeout: 60_000, interval: 250 }).toBe(false);
    expect(await stateOf(second)).toMatchObject({ state: "cancelled" });
    expect((await history(second)).at(-1)).toMatchObject({ toState: "cancelled", reason: "cancelled while the runner was away" });
    expect(runner.child.exitCode).toBeNull();
  }, 400_000);
});
