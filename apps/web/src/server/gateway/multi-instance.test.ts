// Two server instances on one PostgreSQL (DESIGN.md §2.3): claims compete through
// SKIP LOCKED, signals cross instances through LISTEN/NOTIFY. PGlite serves one process,
// so this needs TEST_DATABASE_URL.
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { createDatabase, queryRows, type Database } from "@transcend/db";
import { dbEnv } from "@transcend/db/env";
import { runs } from "@transcend/db/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { cancelRun } from "../services/queue";
import { createRunner, createUser, createVariantAndRecipe, queueRuns } from "../test-fleet";
import { SimRunner } from "./sim-runner";

const serverUrl = dbEnv().testDatabaseUrl;
const RUNS = 2_000;
const CLAIMERS = 16;

describe.skipIf(serverUrl === undefined)("two server instances on one PostgreSQL (skipped: set TEST_DATABASE_URL to a PostgreSQL server to run)", () => {
  const name = `t_multi_${randomBytes(5).toString("hex")}`;
  let admin: Database;
  let databases: Database[] = [];
  let servers: TranscendServer[] = [];
  const runners: SimRunner[] = [];

  beforeAll(async () => {
    admin = await createDatabase({ url: serverUrl, maxConnections: 1 });
    await admin.db.execute(sql.raw(`create database ${name}`));
    const url = new URL(serverUrl ?? "");
    url.pathname = `/${name}`;
    // Each instance has its own pool, as two processes would.
    databases = [await createDatabase({ url: url.toString(), maxConnections: 8 }), await createDatabase({ url: url.toString(), maxConnections: 8 })];
    const fleet = { claimPollMs: 500, sweepIntervalMs: 60_000, queue: { leaseMs: 10 * 60_000 } };
    servers = await Promise.all(databases.map((database) => startTranscendServer({ port: 0, host: "127.0.0.1", database, seed: false, log: () => {}, fleet })));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(runners.map((runner) => runner.close()));
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all(databases.map((database) => database.close()));
    await admin?.db.execute(sql.raw(`drop database if exists ${name} with (force)`));
    await admin?.close();
  });

  it(`${CLAIMERS} runners on two instances compete for ${RUNS} runs: each is claimed exactly once; a cancel on B reaches a runner on A`, async () => {
    const [a, b] = servers;
    const [dbA, dbB] = databases;
    if (!a || !b || !dbA || !dbB) throw new Error("servers did not start");
    const submitters = [await createUser(dbA.db, "multi-a"), await createUser(dbA.db, "multi-b")];
    const { variantId, recipeId } = await createVariantAndRecipe(dbA.db, submitters[0] ?? "");
    for (const [i, submitterId] of submitters.entries()) {
      await queueRuns(dbA.db, { submitterId, variantId, recipeId, count: RUNS / 2, createdAt: (n) => new Date(Date.UTC(2024, 0, 1) + n * 2 + i) });
    }

    const assigned = new Map<string, string[]>();
    const onA = new Set<SimRunner>();
    for (let i = 0; i < CLAIMERS; i++) {
      const server: TranscendServer = i % 2 === 0 ? a : b;
      const { credential } = await createRunner(dbA.db, submitters[i % 2] ?? "", `claimer-${i}`);
      const runner = await SimRunner.start(server.url, credential, { name: `claimer-${i}` });
      runners.push(runner);
      if (server === a) onA.add(runner);
      // Take every run offered, and ask for one more each time.
      runner.socket.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as { type: string; runId?: string };
        if (frame.type !== "assign" || !frame.runId) return;
        assigned.set(frame.runId, [...(assigned.get(frame.runId) ?? []), `claimer-${i}`]);
        runner.send({ type: "ready", slots: 1 });
      });
    }
    for (const runner of runners) runner.send({ type: "ready", slots: 4 });

    await expect.poll(() => assigned.size, { timeout: 120_000, interval: 250 }).toBe(RUNS);
    // Give late duplicates, if any, a moment to show up.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const duplicated = [...assigned.entries()].filter(([, claimers]) => claimers.length > 1);
    expect(duplicated).toEqual([]);
    const [counts] = await queryRows<{ runs: number; attempts: number; queued: number; max_attempt: number }>(
      dbB.db,
      sql`select (select count(*)::int from runs) as runs, (select count(*)::int from run_attempts) as attempts,
                 (select count(*)::int from runs where state = 'queued') as queued, (select max(attempt)::int from runs) as max_attempt`,
    );
    expect(counts).toEqual({ runs: RUNS, attempts: RUNS, queued: 0, max_attempt: 1 });
    // Both instances did their share of the claiming.
    const perClaimer = new Map<string, number>();
    for (const [claimer] of [...assigned.values()]) if (claimer) perClaimer.set(claimer, (perClaimer.get(claimer) ?? 0) + 1);
    expect(perClaimer.size).toBe(CLAIMERS);

    // A cancel issued through instance B reaches the runner connected to instance A.
    const runnerOnA = [...onA][0];
    if (!runnerOnA) throw new Error("no runner on A");
    const assignOnA = await runnerOnA.next("assign");
    const cancel = runnerOnA.next("cancel", (c) => c.runId === assignOnA.runId, 10_000);
    await cancelRun(dbB.db, { runId: assignOnA.runId, reason: "cancelled on instance B" });
    expect(await cancel).toMatchObject({ runId: assignOnA.runId, attempt: 1, reason: "cancelled on instance B" });
    const [run] = await dbA.db.select({ state: runs.state }).from(runs).where(eq(runs.id, assignOnA.runId));
    expect(run?.state).toBe("cancelled");
  }, 240_000);
});
