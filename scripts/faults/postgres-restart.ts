// Fault script (nightly, by hand: `npm run faults:postgres-restart`; needs Debian's
// postgresql package and root, like .ci/run): a private PostgreSQL cluster serves a real
// server while simulated runners work through a queue; half-way PostgreSQL is restarted
// (`pg_ctl restart -m fast`: every connection is cut). Verdict: the server reconnects on
// its own and no run is lost — every queued run ends graded, each exactly once.
//
//   FAULT_RUNNERS=20 FAULT_RUNS=120 FAULT_SECONDS=240
import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { runAttempts, runs } from "@transcend/db/schema";
import { startTranscendServer } from "../../apps/web/src/server/app-server";
import { SimRunner, type AssignFrame } from "../../apps/web/src/server/gateway/sim-runner";
import { configureRateLimits } from "../../apps/web/src/server/rate-limit";
import { createGradableVariantAndRecipe, createRunner, createUser, queueRuns } from "../../apps/web/src/server/test-fleet";

const RUNNERS = Number(process.env.FAULT_RUNNERS ?? 20);
const RUNS = Number(process.env.FAULT_RUNS ?? 120);
const SECONDS = Number(process.env.FAULT_SECONDS ?? 240);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pgBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = readdirSync(root).sort((a, b) => Number(a) - Number(b));
  const latest = versions.at(-1);
  if (!latest) throw new Error("no PostgreSQL under /usr/lib/postgresql: apt-get install postgresql");
  return path.join(root, latest, "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

function asPostgres(command: string): void {
  execFileSync("su", ["postgres", "-s", "/bin/sh", "-c", command], { stdio: "ignore" });
}

async function main(): Promise<void> {
  const bin = pgBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), "transcend-fault-pg-"));
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  chownSync(dir, uid, -1);
  const port = await freePort();
  const data = path.join(dir, "data");
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  asPostgres(`'${bin}/initdb' --auth=trust -U postgres -D '${data}'`);
  asPostgres(`'${bin}/pg_ctl' -w -D '${data}' -l '${dir}/log' -o "${options}" start`);
  const stopPg = () => {
    try {
      asPostgres(`'${bin}/pg_ctl' -D '${data}' -m immediate stop`);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    configureRateLimits({ runnerHandshake: null });
    const log: string[] = [];
    const server = await startTranscendServer({
      port: 0,
      host: "127.0.0.1",
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      seed: false,
      log: (line) => log.push(line),
      fleet: { heartbeatIntervalMs: 1_000, sweepIntervalMs: 1_000, claimPollMs: 500, queue: { leaseMs: 6_000 } },
    });
    const db = server.context.db;
    const owner = await createUser(db, "fault-owner");
    const { variantId, recipeId, evalSplits } = await createGradableVariantAndRecipe(db, owner);
    const runIds = await queueRuns(db, { submitterId: owner, variantId, recipeId, count: RUNS });
    const credentials: string[] = [];
    for (let i = 0; i < RUNNERS; i++) credentials.push((await createRunner(db, owner, `sim-${i}`)).credential);

    const deadline = Date.now() + SECONDS * 1000;
    let graded = 0;
    let restartedAt = 0;
    let cutAttempts = 0;
    const isDone = async () => {
      try {
        const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(runs).where(and(inArray(runs.id, runIds), eq(runs.state, "graded")));
        graded = Number(row?.n ?? 0);
      } catch {
        // PostgreSQL is restarting
      }
      return graded >= RUNS;
    };

    async function runnerLoop(credential: string): Promise<void> {
      while (Date.now() < deadline && !(await isDone())) {
        let sim: SimRunner;
        try {
          sim = await SimRunner.start(server.url, credential);
        } catch {
          await sleep(1_000 + Math.random() * 1_000);
          continue;
        }
        let current: { runId: string; attempt: number }[] = [];
        const stop = sim.heartbeat(() => current, 1_000);
        try {
          while (Date.now() < deadline) {
            sim.send({ type: "ready", slots: 1 });
            let assign: AssignFrame;
            try {
              assign = await sim.next("assign", () => true, 3_000);
            } catch {
              if (sim.socket.readyState !== sim.socket.OPEN || (await isDone())) break;
              continue;
            }
            current = [{ runId: assign.runId, attempt: assign.attempt }];
            await sim.execute(assign, { splits: evalSplits });
            current = [];
          }
        } catch {
          cutAttempts += 1; // cut by the outage: the runner reconnects, the lease or a retry decides
        } finally {
          stop();
          sim.terminate();
        }
        await sleep(500 + Math.random() * 1_000);
      }
    }

    const restart = (async () => {
      while (graded < RUNS / 2 && Date.now() < deadline) {
        await isDone();
        await sleep(500);
      }
      restartedAt = graded;
      asPostgres(`'${bin}/pg_ctl' -w -D '${data}' -m fast -o "${options}" restart`);
    })();
    const started = Date.now();
    await Promise.all([...credentials.map((credential) => runnerLoop(credential)), restart]);
    await isDone();

    const states = await db.select({ state: runs.state, n: sql<number>`count(*)::int` }).from(runs).where(inArray(runs.id, runIds)).groupBy(runs.state);
    const byState = Object.fromEntries(states.map((row) => [row.state, Number(row.n)]));
    const succeeded = await db
      .select({ runId: runAttempts.runId, n: sql<number>`count(*)::int` })
      .from(runAttempts)
      .where(and(inArray(runAttempts.runId, runIds), eq(runAttempts.outcome, "succeeded")))
      .groupBy(runAttempts.runId);
    const notOnce = succeeded.filter((row) => Number(row.n) !== 1).length;
    const ok = graded === RUNS && notOnce === 0;
    console.log(
      `${ok ? "PASS" : "FAIL"} postgres-restart: ${RUNNERS} runners, ${RUNS} runs, restarted after ${restartedAt} graded; ` +
        `${graded}/${RUNS} graded in ${Math.round((Date.now() - started) / 1000)} s, ${notOnce} finished more than once, ` +
        `states ${JSON.stringify(byState)}, ${cutAttempts} runner loops cut, ${log.filter((line) => line.includes("failed")).length} failure lines logged`,
    );
    await server.close();
    process.exitCode = ok ? 0 : 1;
  } finally {
    stopPg();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.log(`FAIL postgres-restart: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
