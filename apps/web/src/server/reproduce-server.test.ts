// `transcend-runner reproduce --server` against the real server and a real runner daemon:
// the study's run is submitted over tRPC with a personal access token, trained by the
// daemon, graded by the server, and its per-item outcomes come back into the report.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { createTaskVariant, type Database } from "@transcend/db";
import { testDatabaseTargets } from "@transcend/db/testing";
import { runs } from "@transcend/db/schema";
import { findPreset } from "@transcend/tasks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncomingMessage, ServerResponse } from "node:http";
import { GET as getRunItems } from "../app/api/runs/[runId]/items/route";
import { startTranscendServer, type TranscendServer } from "./app-server";
import { handleTrpcRequest } from "./trpc-handler";
import { createApiToken } from "./services/api-tokens";
import { runItemLines } from "./services/run-results";
import { createRegistrationToken } from "./services/runners";
import { createUser } from "./test-fleet";

const runnerBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../runner/bin/transcend-runner.js");
const PRESET = "mod-arith-depth-zero";

/**
 * What Next does for the two API routes the client calls (without building Next): the
 * real tRPC handler and the real items route, given the request as a fetch Request.
 */
async function apiRoutes(database: Database, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers.set(name, value);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : Buffer.concat(chunks);
  const incoming = new Request(url, { method: request.method, headers, body });
  const items = /^\/api\/runs\/([^/]+)\/items$/.exec(url.pathname);
  const answer = items
    ? await getRunItems(incoming, { params: Promise.resolve({ runId: items[1] ?? "" }) })
    : url.pathname.startsWith("/api/trpc/")
      ? await handleTrpcRequest(incoming, { db: database.db, publicOrigin: undefined })
      : new Response("not found", { status: 404 });
  response.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
  response.end(Buffer.from(await answer.arrayBuffer()));
}

describe("reproduce --server against the real server", () => {
  let database: Database;
  let server: TranscendServer | undefined;
  let daemon: ChildProcessWithoutNullStreams | undefined;
  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    const pglite = testDatabaseTargets().find((target) => target.kind === "pglite");
    if (!pglite) throw new Error("PGlite test target missing");
    database = await pglite.open();
  });
  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
    await server?.close();
    await database?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("submits the study's run, waits for the grade and writes a report from the server's per-item outcomes", async () => {
    const ownerId = await createUser(database.db, "reproducer");
    const preset = findPreset(PRESET);
    if (!preset) throw new Error("preset missing");
    await createTaskVariant(database.db, { ownerId, spec: { ...preset } });
    const { token } = await createApiToken(database.db, { userId: ownerId, name: "reproduce" });
    server = await startTranscendServer({
      port: 0,
      host: "127.0.0.1",
      database,
      seed: false,
      log: () => {},
      fleet: { heartbeatIntervalMs: 500, sweepIntervalMs: 300, claimPollMs: 300 },
      artifactsDir: tempDir("reproduce-artifacts-"),
    });
    server.setPageHandlers({ handleRequest: (request, response) => apiRoutes(database, request, response) });

    const configDir = tempDir("reproduce-runner-config-");
    const registration = await createRegistrationToken(database.db, { ownerId });
    await promisify(execFile)(process.execPath, [runnerBin, "register", "--server", server.url, "--token", registration.token, "--name", "study", "--config", configDir]);
    daemon = spawn(process.execPath, [runnerBin, "start", "--config", configDir, "--backend", "wasm", "--cache", tempDir("reproduce-runner-cache-")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    daemon.stdout.resume();
    daemon.stderr.resume();

    const out = tempDir("reproduce-out-");
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [runnerBin, "reproduce", "--server", server.url, "--scale", "ci", "--seeds", "1", "--presets", PRESET, "--out", out],
      { env: { ...process.env, TRANSCEND_TOKEN: token }, timeout: 110_000 },
    );
    expect(stderr).toMatch(new RegExp(`${PRESET} seed 1 · graded \\(run [0-9a-f-]+\\) · 1/1 done`));

    const mapping = JSON.parse(readFileSync(path.join(out, "server-runs.json"), "utf8")) as { runs: Record<string, string> };
    const runId = mapping.runs[`${PRESET}#1`] ?? "";
    expect((await database.db.select().from(runs).where(eq(runs.id, runId)))[0]?.state).toBe("graded");

    // Every greedy accuracy in results.json is the server's grading of the same items.
    const lines = ((await runItemLines(database.db, runId)) ?? []).map(
      (line) => JSON.parse(line) as { split: string; base: { greedyCorrect: boolean }; grpo: { greedyCorrect: boolean } },
    );
    expect(lines.length).toBeGreaterThan(0);
    const results = JSON.parse(readFileSync(path.join(out, "runs", PRESET, "1", "results.json"), "utf8")) as {
      evaluation: Record<string, { base: { items: number; greedyAccuracy: number }; final: { greedyAccuracy: number } }>;
    };
    expect(Object.keys(results.evaluation).sort()).toEqual([...new Set(lines.map((l) => l.split))].sort());
    for (const [split, r] of Object.entries(results.evaluation)) {
      const ofSplit = lines.filter((l) => l.split === split);
      expect(r.base.items).toBe(ofSplit.length);
      expect(r.base.greedyAccuracy).toBeCloseTo(ofSplit.filter((l) => l.base.greedyCorrect).length / ofSplit.length);
      expect(r.final.greedyAccuracy).toBeCloseTo(ofSplit.filter((l) => l.grpo.greedyCorrect).length / ofSplit.length);
    }
    expect(readFileSync(path.join(out, "report.md"), "utf8")).toContain(PRESET);

    // Again: nothing resubmitted, the graded run skipped.
    const again = await promisify(execFile)(
      process.execPath,
      [runnerBin, "reproduce", "--server", server.url, "--scale", "ci", "--seeds", "1", "--presets", PRESET, "--out", out],
      { env: { ...process.env, TRANSCEND_TOKEN: token }, timeout: 60_000 },
    );
    expect(again.stderr).toContain("graded earlier, skipped");
    expect(await database.db.select({ id: runs.id }).from(runs)).toHaveLength(1);
  }, 115_000);
});
