// The Transcend server: one Node process, one port, serving Next (pages, tRPC) and the
// runners' WebSocket at /api/runner. Run with `tsx server.ts` (`--dev` for hot reload).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { startTranscendServer, type TranscendServer } from "./src/server/app-server";
import { issueLocalRunnerToken } from "./src/server/local-runner";
import { readServerEnv } from "./src/server/env";
import { StartupError } from "./src/server/startup-error";

const appDir = path.dirname(fileURLToPath(import.meta.url));
/** PGlite's files live at the repository root by default, wherever the server is started from. */
const defaultDataDir = path.resolve(appDir, "../../.data");

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  const env = readServerEnv();
  const dataDir = env.databaseUrl ? undefined : (env.dataDir ?? defaultDataDir);
  if (!dev && !existsSync(path.join(appDir, ".next", "BUILD_ID"))) {
    throw new StartupError("the web app is not built; run `npm run build` first (or `npm start`, which builds it)");
  }

  // Checkpoints live beside PGlite's files, or under the data dir even with PostgreSQL
  // (several instances need it on shared storage).
  const artifactsDir = path.join(env.dataDir ?? defaultDataDir, "artifacts");
  const server = await startTranscendServer({ port: env.port, host: env.host, databaseUrl: env.databaseUrl, dataDir, artifactsDir });
  stopOnSignals(server);
  if (env.localRunnerTokenFile) await issueLocalRunnerToken(server.context.db, env.localRunnerTokenFile);

  const app = next({ dev, dir: appDir, hostname: env.host, port: server.port });
  await app.prepare();
  server.setPageHandlers({ handleRequest: app.getRequestHandler(), handleUpgrade: app.getUpgradeHandler() });

  const database = server.context.databaseKind === "pglite" ? `PGlite in ${dataDir}` : "PostgreSQL (DATABASE_URL)";
  console.log(`Transcend ${server.context.version} is running at ${server.url} (${dev ? "development" : "production"}, ${database})`);
}

function stopOnSignals(server: TranscendServer): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now": skip the graceful close.
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping Transcend…`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`transcend: error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) {
    console.error(`transcend: ${error.message}`);
    process.exit(1);
  }
  // Anything else is a bug: keep the stack.
  console.error(error);
  process.exit(1);
});
