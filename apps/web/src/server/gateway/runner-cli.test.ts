// The real runner CLI (`transcend-runner start`) against the real gateway over a real
// socket: what a person running a runner sees.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { testDatabaseTargets } from "@transcend/db/testing";
import type { Database } from "@transcend/db";
import { PROTOCOL_VERSION } from "@transcend/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/sockets";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { createRegistrationToken } from "../services/runners";
import { createUser } from "../test-fleet";

const runnerBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../../runner/bin/transcend-runner.js");

interface RunnerProcess {
  child: ChildProcessWithoutNullStreams;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

const started: RunnerProcess[] = [];

function startRunner(serverUrl: string, configDir: string): RunnerProcess {
  const child = spawn(process.execPath, [runnerBin, "start", "--server", serverUrl, "--name", "cli-test", "--config", configDir], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const runner = { child, output: () => ({ stdout, stderr }), exited };
  started.push(runner);
  return runner;
}

/** Resolves with the exit code, or fails the test if the runner is still running after `ms`. */
async function exitWithin(runner: RunnerProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`runner still running after ${ms} ms: ${JSON.stringify(runner.output())}`)), ms);
  });
  try {
    return await Promise.race([runner.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("transcend-runner start against the gateway", () => {
  let database: Database;
  let ownerId = "";
  const configDirs: string[] = [];

  beforeAll(async () => {
    const pglite = testDatabaseTargets().find((target) => target.kind === "pglite");
    if (!pglite) throw new Error("PGlite test target missing");
    database = await pglite.open();
    ownerId = await createUser(database.db, "cli-owner");
  });
  afterEach(() => {
    for (const runner of started.splice(0)) if (runner.child.exitCode === null) runner.child.kill("SIGKILL");
  });
  afterAll(async () => {
    await database.close();
    for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** `transcend-runner register` with a fresh one-time token, into a config directory of its own. */
  async function registerRunner(server: TranscendServer): Promise<string> {
    const configDir = mkdtempSync(path.join(os.tmpdir(), "transcend-runner-config-"));
    configDirs.push(configDir);
    const { token } = await createRegistrationToken(database.db, { ownerId });
    await promisify(execFile)(process.execPath, [runnerBin, "register", "--server", server.url, "--token", token, "--name", "cli-test", "--config", configDir]);
    return configDir;
  }

  async function serve(protocolVersion?: number): Promise<TranscendServer> {
    return startTranscendServer({ port: 0, host: "127.0.0.1", database, seed: false, protocolVersion, log: () => {} });
  }

  it("connects, is counted by /api/health, and stops cleanly on Ctrl-C", async () => {
    const server = await serve();
    try {
      const runner = startRunner(server.url, await registerRunner(server));
      await eventually(async () => {
        const health = (await (await fetch(`${server.url}/api/health`)).json()) as { runnersConnected: number };
        expect(health.runnersConnected).toBe(1);
      }, 60_000);
      // The runner logs after the welcome the server already counted: its stdout may lag.
      await eventually(() => expect(runner.output().stdout).toContain("waiting for runs"), 10_000);
      runner.child.kill("SIGINT");
      expect(await exitWithin(runner, 10_000)).toBe(0);
      await eventually(() => expect(server.context.gateway.runnersConnected).toBe(0));
    } finally {
      await server.close();
    }
  });

  it("exits 1 with the server's message when the server speaks another protocol version", async () => {
    // Plays a server of a later release: the runner under test is the outdated side.
    const server = await serve(PROTOCOL_VERSION + 1);
    try {
      const runner = startRunner(server.url, await registerRunner(server));
      expect(await exitWithin(runner, 60_000)).toBe(1);
      const { stderr } = runner.output();
      expect(stderr.trim().split("\n")).toEqual([
        `transcend-runner: the server refused this runner (protocol_mismatch): This server speaks runner protocol ${PROTOCOL_VERSION + 1} ` +
          `but the runner speaks ${PROTOCOL_VERSION}; update the runner (and the server) to the same Transcend release.`,
      ]);
      expect(server.context.gateway.runnersConnected).toBe(0);
    } finally {
      await server.close();
    }
  });
});
