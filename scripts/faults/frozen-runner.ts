// Fault script (nightly, by hand: `npm run faults:frozen-runner`): a runner process is
// frozen with SIGSTOP while it holds a run, past its lease; another runner is given the
// run and finishes it; then the frozen one is resumed with SIGCONT and goes on sending
// progress and `finished` for its old attempt as if nothing happened. Verdict: those late
// messages are refused as stale and change nothing — the run stays graded by the second
// runner's attempt, and no metric of the first attempt is stored after the freeze.
//
// The frozen runner is a separate process (this same file with --child) so that SIGSTOP
// freezes a whole runner, timers and socket included, as a stopped VM or a swapped-out
// laptop would.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { and, eq, sql } from "drizzle-orm";
import { metrics, runAttempts, runs } from "@transcend/db/schema";
import { startTranscendServer } from "../../apps/web/src/server/app-server";
import { SimRunner } from "../../apps/web/src/server/gateway/sim-runner";
import { createGradableVariantAndRecipe, createRunner, createUser, queueRuns } from "../../apps/web/src/server/test-fleet";

const LEASE_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The runner that gets frozen: claims a run, then reports progress every 200 ms, forever. */
async function child(url: string, credential: string): Promise<void> {
  const sim = await SimRunner.start(url, credential, { name: "frozen" });
  sim.send({ type: "ready", slots: 1 });
  const assign = await sim.next("assign");
  const ref = { runId: assign.runId, attempt: assign.attempt };
  sim.send({ type: "accepted", ...ref });
  sim.heartbeat(() => [ref], 300);
  let seq = 0;
  setInterval(() => {
    seq += 1;
    sim.send({ type: "progress", ...ref, seq, phase: "pretraining", step: seq, metrics: { loss: 1 / seq } });
    if (seq % 10 === 0) console.log(`SENT ${seq}`);
  }, 200);
  console.log(`ASSIGNED ${ref.runId} ${ref.attempt}`);
  process.stdin.on("data", (data: Buffer) => {
    if (!data.toString().includes("FINISH")) return;
    // Resumed long after its lease: claim the run is done.
    sim.send({ type: "finished", ...ref, engineVersion: "frozen", checkpoints: {}, selfReported: {} });
    setTimeout(() => {
      const refusals = sim.frames.filter((f) => (f.type === "error" && f.reason === "stale_attempt") || f.type === "cancel").length;
      console.log(`REFUSALS ${refusals}`);
      process.exit(0);
    }, 1_500);
  });
}

async function parent(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "transcend-fault-"));
  const server = await startTranscendServer({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    seed: false,
    log: () => {},
    // Pings far apart: the freeze outlasts the lease, not the socket (the late frames must arrive).
    fleet: { heartbeatIntervalMs: 300, sweepIntervalMs: 300, claimPollMs: 200, pingIntervalMs: 120_000, queue: { leaseMs: LEASE_MS } },
  });
  const db = server.context.db;
  const owner = await createUser(db, "fault-owner");
  const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(db, owner);
  const [runId = ""] = await queueRuns(db, { submitterId: owner, variantId, recipeId, count: 1 });
  const frozen = await createRunner(db, owner, "frozen");
  const rescuer = await createRunner(db, owner, "rescuer");

  const self = fileURLToPath(import.meta.url);
  const worker = spawn(process.execPath, ["--import", "tsx", self, "--child", server.url, frozen.credential], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: worker.stdout });
  const waitFor = (prefix: string) =>
    new Promise<string>((resolve) => {
      const onLine = (line: string) => {
        if (!line.startsWith(prefix)) return;
        lines.off("line", onLine);
        resolve(line);
      };
      lines.on("line", onLine);
    });
  await waitFor("ASSIGNED");
  await waitFor("SENT 10");
  const pid = worker.pid ?? 0;
  process.kill(pid, "SIGSTOP");
  const frozenAt = Date.now();

  // Past the lease, the sweeper re-queues the run; another runner takes and finishes it.
  const sim = await SimRunner.start(server.url, rescuer.credential, { name: "rescuer" });
  sim.send({ type: "ready", slots: 1 });
  const assign = await sim.next("assign", (frame) => frame.runId === runId, 60_000);
  // From here attempt 1 has lost its lease: nothing of it may be stored any more (counted
  // now rather than at SIGSTOP, since frames sent just before the freeze may still be in flight).
  const metricsAtFreeze = await metricCount(db, runId, 1);
  const stop = sim.heartbeat(() => [{ runId, attempt: assign.attempt }], 300);
  await sim.execute(assign, { splits: evalSplits });
  for (let i = 0; i < 100 && (await state(db, runId)) !== "graded"; i++) await sleep(200);
  stop();
  const frozenForMs = Date.now() - frozenAt;

  process.kill(pid, "SIGCONT");
  await sleep(2_000); // its progress timer fires on: late frames for attempt 1
  worker.stdin.write("FINISH\n");
  const refusalLine = await waitFor("REFUSALS");
  const refusals = Number(refusalLine.split(" ")[1]);

  const finalState = await state(db, runId);
  const attempts = await db.select({ attempt: runAttempts.attempt, outcome: runAttempts.outcome, engine: runAttempts.engineVersion }).from(runAttempts).where(eq(runAttempts.runId, runId));
  const first = attempts.find((a) => a.attempt === 1);
  const second = attempts.find((a) => a.attempt === assign.attempt);
  const metricsAfter = await metricCount(db, runId, 1);
  const ok =
    finalState === "graded" && assign.attempt === 2 && first?.outcome !== "succeeded" && second?.outcome === "succeeded" && second.engine === "sim" && metricsAfter === metricsAtFreeze && refusals > 0;
  console.log(
    `${ok ? "PASS" : "FAIL"} frozen-runner: frozen ${(frozenForMs / 1000).toFixed(1)} s (lease ${LEASE_MS / 1000} s); run ${finalState} by attempt ${assign.attempt} ` +
      `(${second?.outcome ?? "?"}), attempt 1 ${first?.outcome ?? "?"}; after SIGCONT ${refusals} refusals, attempt-1 metrics ${metricsAtFreeze} → ${metricsAfter}`,
  );
  worker.kill("SIGKILL");
  await sim.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

type Db = Awaited<ReturnType<typeof startTranscendServer>>["context"]["db"];

async function state(db: Db, runId: string): Promise<string | undefined> {
  return (await db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId)))[0]?.state;
}

async function metricCount(db: Db, runId: string, attempt: number): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(metrics).where(and(eq(metrics.runId, runId), eq(metrics.attempt, attempt)));
  return Number(row?.n ?? 0);
}

const childAt = process.argv.indexOf("--child");
const main = childAt >= 0 ? child(process.argv[childAt + 1] ?? "", process.argv[childAt + 2] ?? "") : parent();
main.catch((error: unknown) => {
  console.log(`FAIL frozen-runner: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
