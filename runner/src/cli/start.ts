// `transcend-runner start --server URL`: the daemon. Connects to the server's runner
// gateway, says hello, and stays connected (reconnecting with backoff) until Ctrl-C.
import type { Command } from "commander";
import { detectCapabilities, runnerVersion } from "../connection/capabilities";
import { ConnectionRefusedError, RunnerConnection } from "../connection/runner-connection";
import { runnerSocketUrl } from "../connection/server-url";
import { UserError } from "../errors";

interface StartOptions {
  server: string;
  name?: string;
}

const MAX_NAME_LENGTH = 100;

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("connect to a Transcend server and run the work it assigns (Ctrl-C stops)")
    .requiredOption("--server <url>", "the server's address, e.g. http://localhost:3000")
    .option("--name <name>", "a name for this runner, shown on the server")
    .action(async (options: StartOptions) => {
      await startRunner(options);
    });
}

async function startRunner(options: StartOptions): Promise<void> {
  const url = runnerSocketUrl(options.server);
  const name = options.name?.trim();
  if (name !== undefined && (name.length === 0 || name.length > MAX_NAME_LENGTH)) {
    throw new UserError(`--name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  const capabilities = await detectCapabilities();
  const log = (line: string) => console.log(`transcend-runner: ${line}`);
  log(`${capabilities.backend} backend on ${capabilities.device} (${capabilities.cores} cores); connecting to ${url.href}`);

  const connection = new RunnerConnection({
    url,
    hello: { runnerVersion: runnerVersion(), name, capabilities },
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
      throw new UserError(`the server refused this runner (${error.reason}): ${error.message}`);
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
