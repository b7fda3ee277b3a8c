// The real CLI (`runner/bin/transcend-runner.js`) as a person runs it: register, start
// with the stored credential, Ctrl-C drains, a second Ctrl-C stops now. Against the
// daemon's loopback stand-in of the server; the real gateway runs this CLI in apps/web.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveCredential } from "../config";
import {
  TEST_CREDENTIAL,
  TEST_REGISTRATION_TOKEN,
  TEST_RUNNER_ID,
  type TestGateway,
  processExists,
  quickRecipe,
  startTestGateway,
} from "../daemon/test-gateway";

const runnerBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/transcend-runner.js");
const RUN = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
const ref = { runId: RUN, attempt: 1 };

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "transcend-start-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Cli {
  child: ChildProcessWithoutNullStreams;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}
const started: Cli[] = [];
/** The machine running the tests may be busy: give every condition time, check it often. */
const eventually = <T>(condition: () => T | Promise<T>) => expect.poll(condition, { timeout: 20_000, interval: 50 });

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cli of started.splice(0)) if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function env(): NodeJS.ProcessEnv {
  // Checkpoints and origins go to the test's directory, never the real cache.
  return { ...process.env, XDG_CACHE_HOME: path.join(dir, "cache"), XDG_CONFIG_HOME: path.join(dir, "xdg-unused") };
}

function startCli(args: string[]): Cli {
  const child = spawn(process.execPath, [runnerBin, "start", "--backend", "wasm", ...args], { stdio: ["pipe", "pipe", "pipe"], env: env() });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const cli = { child, output: () => ({ stdout, stderr }), exited };
  started.push(cli);
  return cli;
}

async function gateway(): Promise<TestGateway> {
  const g = await startTestGateway();
  cleanups.push(() => g.stop());
  return g;
}

async function configWithCredential(g: TestGateway, name: string): Promise<string> {
  const config = path.join(dir, name);
  await saveCredential(config, { server: g.server, runnerId: TEST_RUNNER_ID, name, credential: TEST_CREDENTIAL });
  return config;
}

/** The job process's pid, from the daemon's "job pid N" line. */
function jobPid(cli: Cli): number {
  const match = /job pid (\d+)/.exec(cli.output().stdout);
  if (!match?.[1]) throw new Error(`no job pid in: ${cli.output().stdout}`);
  return Number(match[1]);
}

describe("transcend-runner register + start", () => {
  it("register stores the credential (0600); start sends it and is welcomed with a matmul proof in the hello", async () => {
    const g = await gateway();
    const config = path.join(dir, "registered");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [runnerBin, "register", "--server", g.server, "--token", TEST_REGISTRATION_TOKEN, "--name", "cli-box", "--config", config],
      { env: env() },
    );
    expect(stdout).toContain(`registered "cli-box" (${TEST_RUNNER_ID})`);
    expect((await stat(path.join(config, "credentials.json"))).mode & 0o777).toBe(0o600);

    const cli = startCli(["--config", config]);
    await expect.poll(() => g.ofType("ready").length, { timeout: 90_000 }).toBe(1);
    expect(g.ofType("hello")[0]).toMatchObject({
      name: "cli-box",
      capabilities: { backend: "wasm", matmul: { gflops: expect.any(Number), path: expect.any(String) } },
    });
    expect(cli.output().stdout).toContain("waiting for runs");
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    await eventually(() => g.closes).toEqual([1000]);
  }, 90_000);

  it("a refused credential (401 at the upgrade) is fatal with one clear line", async () => {
    const g = await gateway();
    const config = path.join(dir, "wrong");
    await saveCredential(config, { server: g.server, runnerId: TEST_RUNNER_ID, name: "wrong", credential: "rc_not_the_right_one_0000000000" });
    const cli = startCli(["--config", config]);
    expect(await cli.exited).toBe(1);
    expect(cli.output().stderr.trim().split("\n")).toEqual([
      "transcend-runner: this runner's credential was refused: register it again (transcend-runner register)",
    ]);
    expect(g.ofType("hello")).toEqual([]);
  }, 180_000);

  it("never sends the stored credential to another server than the one it was registered with", async () => {
    const g = await gateway();
    const cli = startCli(["--config", await configWithCredential(g, "elsewhere"), "--server", "http://127.0.0.1:9"]);
    expect(await cli.exited).toBe(1);
    expect(cli.output().stderr.trim()).toBe(
      `transcend-runner: this runner is registered with ${g.server}/, not http://127.0.0.1:9/: register it there too, with another --config`,
    );
  }, 180_000);

  it("the first SIGINT drains: the running job finishes and reports, then the runner exits 0 with a clean close", async () => {
    const g = await gateway();
    const cli = startCli(["--config", await configWithCredential(g, "drain")]);
    await expect.poll(() => g.ofType("ready").length, { timeout: 90_000 }).toBe(1);
    g.assign(ref);
    await expect.poll(() => g.ofType("progress").length, { timeout: 90_000 }).toBeGreaterThan(0);
    const pid = jobPid(cli);
    cli.child.kill("SIGINT");
    cli.child.kill("SIGINT"); // the same Ctrl-C, forwarded by npm: still only a drain
    await eventually(() => cli.output().stdout).toMatch(/state: busy → draining/);
    // The job was not interrupted by the Ctrl-C: it runs in its own process group.
    expect(processExists(pid)).toBe(true);
    expect(await cli.exited).toBe(0);
    expect(g.ofType("finished")).toHaveLength(1);
    expect(g.ofType("failed")).toEqual([]);
    expect(processExists(pid)).toBe(false);
    await eventually(() => g.closes).toEqual([1000]);
  }, 180_000);

  it("a second SIGINT stops now: the job is killed, reported retryable, the socket closed with 1000", async () => {
    const g = await gateway();
    const cli = startCli(["--config", await configWithCredential(g, "stop-now")]);
    await expect.poll(() => g.ofType("ready").length, { timeout: 90_000 }).toBe(1);
    // A job that cannot finish before the second signal: long pretraining, and a seed of its
    // own so the origin the drain test cached is not reused (that job took 0.7 s in CI).
    g.assign(ref, { recipe: { ...quickRecipe, pretraining: { ...quickRecipe.pretraining, steps: 100_000 } }, seed: 7 });
    await expect.poll(() => g.ofType("progress").length, { timeout: 90_000 }).toBeGreaterThan(0);
    const pid = jobPid(cli);
    cli.child.kill("SIGINT");
    await eventually(() => cli.output().stdout).toMatch(/draining/);
    // Two signals within a second are one Ctrl-C seen twice (npm forwards it): press again later.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const secondAt = Date.now();
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    expect(Date.now() - secondAt).toBeLessThan(5_000);
    expect(processExists(pid)).toBe(false);
    expect(g.ofType("finished")).toEqual([]);
    expect(g.ofType("failed")).toEqual([{ type: "failed", ...ref, retryable: true, error: expect.stringContaining("the runner stopped before the job finished") }]);
    await eventually(() => g.closes).toEqual([1000]);
  }, 120_000);
});
