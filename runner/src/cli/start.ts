// `transcend-runner start`: the daemon. Connects to the server's runner gateway with the
// credential `register` stored, runs the jobs it is assigned (each in a child process),
// and reconnects with backoff until stopped. The first Ctrl-C (or SIGTERM, as systemd
// sends) drains: the current job finishes and reports; a second one stops now.
import path from "node:path";
import type { Command } from "commander";
import { isBackendName } from "../backend";
import { configDir, loadCredential } from "../config";
import { detectCapabilities, runnerVersion } from "../connection/capabilities";
import { ConnectionRefusedError } from "../connection/runner-connection";
import { runnerSocketUrl, serverHttpBase } from "../connection/server-url";
import { DEFAULT_CANCEL_GRACE_MS, RunnerDaemon } from "../daemon/runner-daemon";
import { UserError } from "../errors";
import { defaultCacheDir } from "../training";

interface StartOptions {
  server?: string;
  name?: string;
  config?: string;
  backend: string;
  cache: string | boolean;
  cancelGrace: string;
}

const MAX_NAME_LENGTH = 100;
const MAX_CANCEL_GRACE_SECONDS = 600;
/** Signals this close together are one keypress (npm forwards the SIGINT the runner already got). */
export const ONE_KEYPRESS_MS = 1_000;

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("connect to a Transcend server and run the work it assigns (Ctrl-C finishes the current job; twice stops now)")
    .option("--server <url>", "the server's address (default: the one this runner was registered with)")
    .option("--name <name>", "a name for this runner, shown on the server (default: the registered name)")
    .option("--config <dir>", "where `register` stored the credential (default: $XDG_CONFIG_HOME/transcend-runner)")
    .option("--backend <name>", "auto, tfjs-node-gpu, tfjs-node, wasm or cpu", "auto")
    .option("--cache <dir>", "origin checkpoint cache, shared by all runs (default: ~/.cache/transcend-runner)")
    .option("--no-cache", "always pretrain, never reuse or store an origin")
    .option("--cancel-grace <seconds>", "after a cancel, how long a job may take to stop before it is killed", String(DEFAULT_CANCEL_GRACE_MS / 1000))
    .action(async (options: StartOptions) => {
      await startRunner(options);
    });
}

async function startRunner(options: StartOptions): Promise<void> {
  const stored = await loadCredential(configDir(options.config));
  const server = options.server ?? stored?.server;
  if (server === undefined) throw new UserError("no server to connect to: register this runner first (transcend-runner register --server URL --token T --name N)");
  // The credential is a password for one server: never hand it to another.
  if (stored && serverHttpBase(server).href !== serverHttpBase(stored.server).href)
    throw new UserError(
      `this runner is registered with ${serverHttpBase(stored.server).href}, not ${serverHttpBase(server).href}: register it there too, with another --config`,
    );
  const url = runnerSocketUrl(server);
  const name = options.name?.trim() ?? stored?.name;
  if (name !== undefined && (name.length === 0 || name.length > MAX_NAME_LENGTH)) {
    throw new UserError(`--name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (!isBackendName(options.backend)) throw new UserError(`--backend must be auto, tfjs-node-gpu, tfjs-node, wasm or cpu, not "${options.backend}"`);
  const graceSeconds = Number(options.cancelGrace);
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_CANCEL_GRACE_SECONDS)
    throw new UserError(`--cancel-grace must be 0 to ${MAX_CANCEL_GRACE_SECONDS} seconds`);
  const cacheDir = options.cache === false ? false : typeof options.cache === "string" ? path.resolve(options.cache) : defaultCacheDir();

  const log = (line: string) => console.log(`transcend-runner: ${line}`);
  if (!stored) log(`no credential in ${configDir(options.config)}: connecting unregistered (register this runner if the server refuses it)`);
  const capabilities = await detectCapabilities(options.backend);
  const proof = capabilities.matmul ? `, matmul ${capabilities.matmul.gflops} GFLOP/s on ${capabilities.matmul.path}` : "";
  log(`${capabilities.backend} backend on ${capabilities.device} (${capabilities.cores} cores${proof}); connecting to ${url.href}`);

  const daemon = new RunnerDaemon({
    url,
    server,
    credential: stored?.credential,
    hello: { runnerVersion: runnerVersion(), name, capabilities },
    workDir: path.join(cacheDir === false ? defaultCacheDir() : cacheDir, "attempts"),
    originCacheDir: cacheDir,
    backend: options.backend,
    cancelGraceMs: graceSeconds * 1000,
    log,
  });

  let signals = 0;
  let lastSignalAt = Number.NEGATIVE_INFINITY;
  const onSignal = (signal: NodeJS.Signals) => {
    // Under `npx`/`npm run`, one Ctrl-C arrives twice: from the terminal and forwarded by npm.
    if (performance.now() - lastSignalAt < ONE_KEYPRESS_MS) return;
    lastSignalAt = performance.now();
    signals += 1;
    if (signals === 1) {
      log(`${signal}: finishing the current job, then stopping (${signal} again stops now)`);
      daemon.drain(`${signal} on the runner`);
    } else {
      log(`${signal} again: stopping now`);
      void daemon.stopNow(`${signal} twice on the runner`);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await daemon.run();
    log("stopped");
  } catch (error) {
    if (error instanceof ConnectionRefusedError) {
      if (error.reason === "unauthorized") throw new UserError(error.message);
      throw new UserError(`the server refused this runner (${error.reason}): ${error.message}`);
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
