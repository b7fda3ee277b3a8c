// `transcend-runner start --server URL`: the daemon. Connects to the server's runner
// gateway, says hello, and stays connected (reconnecting with backoff) until Ctrl-C.
import type { Command } from "commander";
import { detectCapabilities, runnerVersion } from "../connection/capabilities";
import { ConnectionRefusedError, RunnerConnection } from "../connection/runner-connection";
import { runnerSocketUrl } from "../connection/server-url";
import { configDir, loadCredential } from "../config";
import { UserError } from "../errors";

interface StartOptions {
  server?: string;
  name?: string;
  config?: string;
}

const MAX_NAME_LENGTH = 100;

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("connect to a Transcend server and run the work it assigns (Ctrl-C stops)")
    .option("--server <url>", "the server's address (default: the one this runner was registered with)")
    .option("--name <name>", "a name for this runner, shown on the server (default: the registered name)")
    .option("--config <dir>", "where `register` stored the credential (default: $XDG_CONFIG_HOME/transcend-runner)")
    .action(async (options: StartOptions) => {
      await startRunner(options);
    });
}

async function startRunner(options: StartOptions): Promise<void> {
  const stored = await loadCredential(configDir(options.config));
  const server = options.server ?? stored?.server;
  if (server === undefined) throw new UserError("no server to connect to: register this runner first (transcend-runner register --server URL --token T --name N)");
  const url = runnerSocketUrl(server);
  const name = options.name?.trim() ?? stored?.name;
  if (name !== undefined && (name.length === 0 || name.length > MAX_NAME_LENGTH)) {
    throw new UserError(`--name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  const capabilities = await detectCapabilities();
  const log = (line: string) => console.log(`transcend-runner: ${line}`);
  if (!stored) log(`no credential in ${configDir(options.config)}: connecting unregistered (register this runner if the server refuses it)`);
  log(`${capabilities.backend} backend on ${capabilities.device} (${capabilities.cores} cores); connecting to ${url.href}`);

  const connection = new RunnerConnection({
    url,
    hello: { runnerVersion: runnerVersion(), name, capabilities },
    credential: stored?.credential,
    log,
  });

  let signals = 0;
  const onSignal = () => {
    signals += 1;
    // The second Ctrl-C means "now", for a close handshake that hangs.
    if (signals > 1) process.exit(130);
    log("stopping (Ctrl-C again to quit at once)");
    connection.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await connection.run();
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
