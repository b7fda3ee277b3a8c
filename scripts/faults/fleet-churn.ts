// Fault script (nightly, by hand: `npm run faults:fleet-churn`): 200 simulated runners for
// 3 minutes against a real server, 5% of attempts cut by a random disconnect mid-run. The
// runner that vanished loses its lease; the sweeper re-queues the run; another runner
// finishes it. Verdict: every run that ended is graded exactly once — one succeeded
// attempt, one result row per (model, split) — and none is stuck.
//
//   FAULT_RUNNERS=200 FAULT_SECONDS=180 FAULT_DISCONNECT=0.05 DATABASE_URL=… (PGlite in a temp dir without it)
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { evaluationResults, runAttempts, runs } from "@transcend/db/schema";
import { startTranscendServer } from "../../apps/web/src/server/app-server";
import { SimRunner, type AssignFrame } from "../../apps/web/src/server/gateway/sim-runner";
import { configureRateLimits } from "../../apps/web/src/server/rate-limit";
import { createGradableVariantAndRecipe, createRunner, createUser, queueRuns } from "../../apps/web/src/server/test-fleet";

const RUNNERS = Number(process.env.FAULT_RUNNERS ?? 200);
const SECONDS = Number(process.env.FAULT_SECONDS ?? 180);
const DISCONNECT = Number(process.env.FAULT_DISCONNECT ?? 0.05);
const RUNS = Number(process.env.FAULT_RUNS ?? RUNNERS * 3);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dataDir = process.env.DATABASE_URL ? undefined : mkdtempSync(path.join(os.tmpdir(), "transcend-fault-"));
  // 200 runners on one address is the point here, not the handshake limit.
  configureRateLimits({ runnerHandshake: null });
  const server = await startTranscendServer({
    port: 0,
    host: "127.0.0.1",
    databaseUrl: process.env.DATABASE_URL,
    dataDir,
    seed: false,
    log: () => {},
    fleet: { heartbeatIntervalMs: 2_000, sweepIntervalMs: 1_000, claimPollMs: 500, queue: { leaseMs: 10_000 } },
  });
  const db = server.context.db;
  const owner = await createUser(db, "fault-owner");
  const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(db, owner);
  const runIds = await queueRuns(db, { submitterId: owner, variantId, recipeId, count: RUNS });
  const credentials: string[] = [];
  for (let i = 0; i < RUNNERS; i++) credentials.push((await createRunner(db, owner, `sim-${i}`)).credential);

  const deadline = Date.now() + SECONDS * 1000;
  let disconnects = 0;
  let executions = 0;
  let connectFailures = 0;

  async function runnerLoop(credential: string, index: number): Promise<void> {
    while (Date.now() < deadline) {
      let sim: SimRunner;
      try {
        sim = await SimRunner.start(server.url, credential, { name: `sim-${index}` });
      } catch {
        connectFailures += 1;
        await sleep(500 + Math.random() * 1000);
        continue;
      }
      let current: { runId: string; attempt: number }[] = [];
      const stop = sim.heartbeat(() => current, 2_000);
      try {
        while (Date.now() < deadline) {
          sim.send({ type: "ready", slots: 1 });
          let assign: AssignFrame;
          try {
            assign = await sim.next("assign", () => true, 3_000);
          } catch {
            if (sim.socket.readyState !== sim.socket.OPEN) break;
            continue;
          }
          current = [{ runId: assign.runId, attempt: assign.attempt }];
          if (Math.random() < DISCONNECT) {
            // Vanish mid-run: no close frame, no finished; the lease must run out.
            disconnects += 1;
            await sleep(Math.random() * 500);
            sim.terminate();
            break;
          }
          await sim.execute(assign, { splits: evalSplits });
          executions += 1;
          current = [];
        }
      } catch {
        // A refused or cut attempt: the server decides what happens to the run.
      } finally {
        stop();
        sim.terminate();
      }
      await sleep(200 + Math.random() * 800);
    }
  }

  const started = Date.now();
  await Promise.all(credentials.map((credential, index) => runnerLoop(credential, index)));
  // Let the last leases expire and the sweeper settle before judging.
  await sleep(12_000);

  const states = await db.select({ state: runs.state, n: sql<number>`count(*)::int` }).from(runs).where(inArray(runs.id, runIds)).groupBy(runs.state);
  const byState = Object.fromEntries(states.map((row) => [row.state, Number(row.n)]));
  const graded = await db.select({ id: runs.id }).from(runs).where(and(inArray(runs.id, runIds), eq(runs.state, "graded")));
  const gradedIds = graded.map((row) => row.id);
  const succeeded = gradedIds.length
    ? await db
        .select({ runId: runAttempts.runId, attempt: runAttempts.attempt })
        .from(runAttempts)
        .where(and(inArray(runAttempts.runId, gradedIds), eq(runAttempts.outcome, "succeeded")))
    : [];
  // Results are kept per attempt (an attempt cut mid-evaluation keeps its partial rows);
  // the graded attempt must have exactly one per model and split.
  const results = gradedIds.length
    ? await db
        .select({ runId: evaluationResults.runId, attempt: evaluationResults.attempt, n: sql<number>`count(*)::int` })
        .from(evaluationResults)
        .where(inArray(evaluationResults.runId, gradedIds))
        .groupBy(evaluationResults.runId, evaluationResults.attempt)
    : [];
  const expectedResults = 2 * evalSplits.length;
  const succeededPerRun = new Map<string, number[]>();
  for (const row of succeeded) succeededPerRun.set(row.runId, [...(succeededPerRun.get(row.runId) ?? []), row.attempt]);
  const notOnce = gradedIds.filter((id) => (succeededPerRun.get(id) ?? []).length !== 1).length;
  const wrongResults = gradedIds.filter((id) => {
    const attempt = succeededPerRun.get(id)?.[0];
    const row = results.find((r) => r.runId === id && r.attempt === attempt);
    return Number(row?.n ?? 0) !== expectedResults;
  }).length;
  const failures = await db
    .select({ error: runAttempts.error, n: sql<number>`count(*)::int` })
    .from(runAttempts)
    .where(and(inArray(runAttempts.runId, runIds), sql`${runAttempts.outcome} <> 'succeeded'`))
    .groupBy(runAttempts.error)
    .orderBy(sql`count(*) desc`)
    .limit(1);
  const stuck = (byState.assigned ?? 0) + (byState.pretraining ?? 0) + (byState.evaluating_base ?? 0) + (byState.grpo ?? 0) + (byState.evaluating_final ?? 0);
  const failed = byState.failed ?? 0;
  const ok = gradedIds.length > 0 && notOnce === 0 && wrongResults === 0 && stuck === 0;
  const verdict = ok ? "PASS" : "FAIL";
  console.log(
    `${verdict} fleet-churn: ${RUNNERS} runners, ${Math.round((Date.now() - started) / 1000)} s, ${disconnects} random disconnects; ` +
      `${gradedIds.length}/${RUNS} runs graded (${executions} executions), ${notOnce} not exactly once, ${wrongResults} with wrong result rows, ` +
      `${stuck} stuck mid-run, ${failed} failed, ${byState.queued ?? 0} still queued, ${connectFailures} refused connects; ` +
      `commonest end of a lost attempt: ${JSON.stringify(failures[0]?.error ?? null)?.slice(0, 120)} (×${failures[0]?.n ?? 0})`,
  );
  await server.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.log(`FAIL fleet-churn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
