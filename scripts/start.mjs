#!/usr/bin/env node
// `npm start` (and `npm run dev` = `--dev`): builds the web app if needed, starts the
// server on the embedded database (./.data) and one local runner connected to it.
// Ctrl-C stops both cleanly. `--no-runner` or TRANSCEND_LOCAL_RUNNER=0: no local runner.
/* global fetch */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const webDir = path.join(repoRoot, "apps", "web");
const runnerBin = path.join(repoRoot, "runner", "bin", "transcend-runner.js");

const args = process.argv.slice(2);
const dev = args.includes("--dev");
const localRunner = !args.includes("--no-runner") && process.env.TRANSCEND_LOCAL_RUNNER !== "0";
const unknown = args.filter((arg) => arg !== "--dev" && arg !== "--no-runner");
if (unknown.length > 0) {
  console.error(`transcend: unknown option ${unknown.join(" ")} (use --dev or --no-runner)`);
  process.exit(2);
}

/** Time the server may take to open its database and answer /api/health before we give up. */
const SERVER_READY_TIMEOUT_MS = 180_000;
/** After a stop request, how long a child may take to close cleanly before it is killed. */
const STOP_GRACE_MS = 15_000;

const port = process.env.PORT && process.env.PORT !== "" ? process.env.PORT : "3000";
const host = process.env.HOST;
const localHost = !host || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
const serverUrl = `http://${localHost}:${port}`;

if (!dev) {
  const { ensureWebBuild } = await import(path.join(webDir, "scripts", "ensure-build.mjs"));
  const status = ensureWebBuild();
  if (status !== 0) process.exit(status);
}

// Children get their own process group (detached): the terminal's Ctrl-C reaches only
// this script, which then asks each child once to stop. Otherwise each would get the
// terminal's SIGINT *and* ours, and read the second as "stop immediately".
const children = new Map(); // name → ChildProcess

function startChild(name, command, commandArgs, options) {
  const child = spawn(command, commandArgs, { stdio: "inherit", detached: true, ...options });
  children.set(name, child);
  child.on("exit", (code, signal) => {
    children.delete(name);
    onChildExit(name, code, signal);
  });
  return child;
}

let stopping = false;
let exitCode = 0;

function onChildExit(name, code, signal) {
  if (stopping) {
    if (children.size === 0) process.exit(exitCode);
    return;
  }
  if (name === "server") {
    // The server printed why (port in use, bad DATABASE_URL…); take the runner down too.
    exitCode = code ?? 1;
    stop();
  } else {
    console.error(`transcend: the local runner exited (${signal ?? `code ${code}`}); the server keeps running.`);
  }
}

function stop() {
  if (stopping) {
    // Second Ctrl-C: do not wait for clean closes.
    for (const child of children.values()) child.kill("SIGKILL");
    process.exit(130);
  }
  stopping = true;
  if (children.size === 0) process.exit(exitCode);
  // The runner first, so it disconnects instead of seeing the server vanish and retrying.
  const runner = children.get("runner");
  const server = children.get("server");
  const stopServer = () => server?.kill("SIGTERM");
  if (runner) {
    runner.once("exit", stopServer);
    runner.kill("SIGTERM");
  } else {
    stopServer();
  }
  setTimeout(() => {
    for (const child of children.values()) child.kill("SIGKILL");
    process.exit(exitCode || 1);
  }, STOP_GRACE_MS).unref();
}

process.on("SIGINT", stop);
process.on("SIGTERM", stop);

const dataDir = process.env.TRANSCEND_DATA_DIR ?? path.join(repoRoot, ".data");
// The local runner registers like any other (DESIGN.md §2.1): the server writes a one-time
// token here at start, we exchange it for a credential kept in the runner's own config dir.
const localRunnerDir = path.join(dataDir, "local-runner");
const localTokenFile = path.join(localRunnerDir, "registration-token");
rmSync(localTokenFile, { force: true });

startChild("server", process.execPath, ["--import", "tsx", "server.ts", ...(dev ? ["--dev"] : [])], {
  cwd: webDir,
  env: {
    ...process.env,
    TRANSCEND_DATA_DIR: dataDir,
    ...(localRunner ? { TRANSCEND_LOCAL_RUNNER_TOKEN_FILE: localTokenFile } : {}),
  },
});

/** Exchanges the token the server wrote for a runner credential; false when that failed (already printed). */
function registerLocalRunner() {
  let token;
  try {
    token = readFileSync(localTokenFile, "utf8").trim();
  } catch {
    console.error(`transcend: the server did not write a registration token for the local runner (${localTokenFile})`);
    return false;
  }
  const result = spawnSync(
    process.execPath,
    [runnerBin, "register", "--server", serverUrl, "--token", token, "--name", "local", "--config", localRunnerDir],
    { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] },
  );
  rmSync(localTokenFile, { force: true });
  return result.status === 0;
}

/** Ready = the database answers (health 200) and Next serves pages (no more 503 "starting"). */
async function waitForServer() {
  const deadline = Date.now() + SERVER_READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    try {
      const health = await fetch(`${serverUrl}/api/health`);
      if (health.ok && (await fetch(serverUrl, { redirect: "manual" })).status !== 503) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

if (await waitForServer()) {
  if (localRunner && registerLocalRunner()) {
    startChild("runner", process.execPath, [runnerBin, "start", "--server", serverUrl, "--config", localRunnerDir], { cwd: repoRoot });
  }
  const runnerNote = localRunner ? "and the local runner" : "(no local runner)";
  console.log(`\nTranscend: open ${serverUrl}  — Ctrl-C stops the server ${runnerNote}.\n`);
} else if (!stopping) {
  console.error(`transcend: the server did not answer ${serverUrl}/api/health within ${SERVER_READY_TIMEOUT_MS / 1000} s`);
  exitCode = 1;
  stop();
}
