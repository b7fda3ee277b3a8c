// The server half of `npm run bench:gateway`, in a process of its own so its memory is
// measured without the simulated runners'. Driven by the benchmark over IPC.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDatabase } from "@transcend/db";
import { startTranscendServer } from "../app-server";
import { runners } from "@transcend/db/schema";
import { announceQueuedRuns } from "../services/queue";
import { hashSecret, newSecret } from "../services/secrets";
import { createRunner, createUser, createVariantAndRecipe, queueRuns } from "../test-fleet";

export type BenchRequest =
  | { type: "setup"; runners: number; submitters: number }
  | { type: "queue"; count: number }
  | { type: "memory" }
  | { type: "stop" };

export type BenchReply =
  | { type: "started"; url: string; database: string }
  | { type: "setup"; credentials: string[] }
  | { type: "queued"; at: number }
  | { type: "memory"; rss: number; heapUsed: number }
  | { type: "stopped" };

async function main(): Promise<void> {
  const heartbeatIntervalMs = Number(process.env.BENCH_HEARTBEAT_MS ?? 10_000);
  const dataDir = process.env.DATABASE_URL ? undefined : mkdtempSync(path.join(os.tmpdir(), "transcend-bench-"));
  const database = await createDatabase({ url: process.env.DATABASE_URL, dataDir, maxConnections: 10 });
  const server = await startTranscendServer({ port: 0, host: "127.0.0.1", database, seed: false, log: () => {}, fleet: { heartbeatIntervalMs } });
  const db = database.db;
  let submitters: string[] = [];
  let spec: { variantId: string; recipeId: string } | undefined;
  const reply = (message: BenchReply) => process.send?.(message);

  process.on("message", (request: BenchRequest) => {
    void (async () => {
      switch (request.type) {
        case "setup": {
          submitters = [];
          for (let i = 0; i < request.submitters; i++) submitters.push(await createUser(db, "bench-submitter"));
          const owner = await createUser(db, "bench-owner");
          spec = await createVariantAndRecipe(db, owner);
          // One runner goes through registration; the rest are inserted at once (setup, not what is measured).
          const credentials: string[] = [(await createRunner(db, owner, "bench-0")).credential];
          const more = Array.from({ length: request.runners - 1 }, () => newSecret("trr_"));
          for (let start = 0; start < more.length; start += 500) {
            const batch = more.slice(start, start + 500);
            await db.insert(runners).values(batch.map((credential, i) => ({ ownerId: owner, name: `bench-${start + i + 1}`, credentialHash: hashSecret(credential) })));
          }
          credentials.push(...more);
          reply({ type: "setup", credentials });
          return;
        }
        case "queue": {
          if (!spec) throw new Error("setup first");
          const perSubmitter = Math.ceil(request.count / submitters.length);
          let left = request.count;
          for (const submitterId of submitters) {
            const count = Math.min(perSubmitter, left);
            if (count <= 0) break;
            await queueRuns(db, { submitterId, ...spec, count, createdAt: () => new Date() });
            left -= count;
          }
          // Latency counts from when the last run is in the queue, not from the inserts.
          const at = Date.now();
          await announceQueuedRuns(db);
          reply({ type: "queued", at });
          return;
        }
        case "memory": {
          const usage = process.memoryUsage();
          reply({ type: "memory", rss: usage.rss, heapUsed: usage.heapUsed });
          return;
        }
        case "stop":
          await server.close();
          await database.close();
          if (dataDir) rmSync(dataDir, { recursive: true, force: true });
          reply({ type: "stopped" });
          process.exit(0);
      }
    })().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
  reply({ type: "started", url: server.url, database: database.kind });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
