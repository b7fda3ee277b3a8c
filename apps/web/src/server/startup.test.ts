// Bad input at start: one clear line and exit 1, never a stack trace.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTranscendServer } from "./app-server";
import { readServerEnv } from "./env";
import { StartupError } from "./startup-error";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Runs server.ts (development mode needs no build) and collects how it ended. */
function runServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "server.ts", "--dev"], {
      cwd: webDir,
      env: { ...process.env, DATABASE_URL: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("server start-up errors", () => {
  let blocker: Server;
  let busyPort: number;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "transcend-startup-"));
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    busyPort = address.port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("rejects an occupied port with a StartupError that says what to do", async () => {
    const attempt = startTranscendServer({ port: busyPort, host: "127.0.0.1", dataDir, log: () => {} });
    await expect(attempt).rejects.toThrow(StartupError);
    await expect(attempt).rejects.toThrow(`port ${busyPort} is already in use; stop the process using it or set PORT to a free port`);
  });

  it("prints one line and exits 1 when the port is occupied", async () => {
    const result = await runServer({ PORT: String(busyPort), HOST: "127.0.0.1", TRANSCEND_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([`transcend: port ${busyPort} is already in use; stop the process using it or set PORT to a free port`]);
  });

  it("prints one line and exits 1 on a malformed DATABASE_URL", async () => {
    const result = await runServer({ PORT: "0", HOST: "127.0.0.1", DATABASE_URL: "postgres://user:secret@:not-a-port/db" });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^transcend: .*DATABASE_URL/);
    // The password never reaches a log.
    expect(result.stderr).not.toContain("secret");
  });

  it("rejects a PORT that is not a port number", () => {
    expect(() => readServerEnv({ PORT: "http" })).toThrow('PORT must be a whole number from 0 to 65535, not "http"');
    expect(readServerEnv({}).port).toBe(3000);
  });
});
