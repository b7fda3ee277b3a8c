// The one Node http server: /api/health and the runner WebSocket are served here,
// everything else (pages, tRPC) by Next's request handler once Next is ready. Keeping
// health and the gateway out of Next lets tests run a real server without `next build`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import nodePath from "node:path";
import type { Duplex } from "node:stream";
import { sql } from "drizzle-orm";
import { createDatabase, isUserError, type Database } from "@transcend/db";
import { clearServerContext, setServerContext, type DatabaseKind, type ServerContext } from "./context";
import { RunnerGateway } from "./gateway/runner-gateway";
import { LeaseSweeper } from "./gateway/sweeper";
import { handleFleetRequest, isFleetPath } from "./http/fleet-http";
import type { QueueSettings } from "./services/queue";
import { RunEvents } from "./services/run-events";
import { withRequestLimits, type FrameLimits } from "./rate-limit";
import { checkHealth, sendHealth } from "./health";
import { seedDatabase } from "./seed";
import { StartupError, firstLine } from "./startup-error";
import { readServerVersion } from "./version";

export interface PageHandlers {
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Upgrades that are not runner sockets, e.g. Next's hot-reload socket in development. */
  handleUpgrade?(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

export interface StartServerOptions {
  port: number;
  host?: string;
  databaseUrl?: string;
  dataDir?: string;
  /**
   * An already open database to serve instead of opening one from databaseUrl/dataDir
   * (tests pass one per database kind). The server then leaves closing it to the caller.
   */
  database?: Database;
  /** Seed preset task variants and recipes (default true). */
  seed?: boolean;
  /** Passed to the gateway; tests use another value to play a server of another release. */
  protocolVersion?: number;
  log?: (line: string) => void;
  /** The runner fleet's timings; tests shorten them (defaults in gateway/ and services/queue.ts). */
  fleet?: {
    heartbeatIntervalMs?: number;
    sweepIntervalMs?: number;
    claimPollMs?: number;
    revocationCheckMs?: number;
    helloTimeoutMs?: number;
    pingIntervalMs?: number;
    queue?: Partial<QueueSettings>;
    frameLimits?: Partial<FrameLimits>;
    maxBufferedBytes?: number;
  };
  /** Where uploaded checkpoints are stored (default: <dataDir or ./.data>/artifacts). */
  artifactsDir?: string;
}

export interface TranscendServer {
  port: number;
  /** A URL a browser on this machine can open. */
  url: string;
  context: ServerContext;
  /** Hands pages to Next once it is prepared; until then pages answer 503. */
  setPageHandlers(handlers: PageHandlers): void;
  close(): Promise<void>;
}

export async function startTranscendServer(options: StartServerOptions): Promise<TranscendServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const version = readServerVersion();
  const expectedKind: DatabaseKind = options.database?.kind ?? (options.databaseUrl ? "postgres" : "pglite");
  // Filled in as start-up progresses; the request handler answers 503 until each part is ready.
  const ready: { context?: ServerContext; pages?: PageHandlers } = {};
  const artifactsDir = nodePath.resolve(options.artifactsDir ?? nodePath.join(options.dataDir ?? ".data", "artifacts"));

  // Sign-in, sign-up and runner registration are counted per client address (rate-limit.ts).
  const server = createServer(withRequestLimits((request, response) => {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path === "/api/health") {
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      void checkHealth(ready.context, { version, databaseKind: expectedKind }).then((health) => sendHealth(response, health));
      return;
    }
    if (path !== undefined && isFleetPath(path) && ready.context) {
      void handleFleetRequest({ db: ready.context.db, artifactsDir, log }, request, response);
      return;
    }
    const pages = ready.pages;
    if (!pages) {
      response.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "1" });
      response.end("Transcend is starting; try again in a moment.\n");
      return;
    }
    pages.handleRequest(request, response).catch((error: unknown) => {
      log(`request ${request.method} ${request.url} failed: ${firstLine(error)}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  }));

  // Listen first: an occupied port is the most common start failure and should be
  // reported before the database and Next spend seconds starting.
  await listen(server, options.port, options.host);
  const port = (server.address() as AddressInfo).port;

  const ownsDatabase = options.database === undefined;
  let database: Database;
  try {
    database = options.database ?? (await createDatabase({ url: options.databaseUrl, dataDir: options.dataDir }));
  } catch (error) {
    await closeHttpServer(server);
    // The db package's UserErrors already say what is wrong and what to do.
    if (isUserError(error)) throw new StartupError(firstLine(error));
    const where = options.databaseUrl ? "the PostgreSQL database at DATABASE_URL" : `the embedded database${options.dataDir ? ` in ${options.dataDir}` : ""}`;
    throw new StartupError(`cannot open ${where}: ${firstLine(error)}`);
  }

  try {
    if (options.seed ?? true) await seedDatabase(database.db);
  } catch (error) {
    if (ownsDatabase) await database.close();
    await closeHttpServer(server);
    throw new StartupError(`cannot seed the preset task variants and recipes: ${firstLine(error)}`);
  }

  let runEvents: RunEvents;
  try {
    runEvents = await RunEvents.start(database, log);
  } catch (error) {
    if (ownsDatabase) await database.close();
    await closeHttpServer(server);
    throw new StartupError(`cannot listen for fleet events on the database: ${firstLine(error)}`);
  }
  const fleet = options.fleet ?? {};
  const gateway = new RunnerGateway({
    serverVersion: version,
    protocolVersion: options.protocolVersion,
    db: database.db,
    events: runEvents,
    heartbeatIntervalMs: fleet.heartbeatIntervalMs,
    claimPollMs: fleet.claimPollMs,
    revocationCheckMs: fleet.revocationCheckMs,
    helloTimeoutMs: fleet.helloTimeoutMs,
    pingIntervalMs: fleet.pingIntervalMs,
    frameLimits: fleet.frameLimits,
    maxBufferedBytes: fleet.maxBufferedBytes,
    queue: fleet.queue,
    log,
  });
  const sweeper = new LeaseSweeper({ db: database.db, intervalMs: fleet.sweepIntervalMs, settings: fleet.queue, log });
  // Upgraded sockets leave the http server's bookkeeping (closeAllConnections skips them)
  // yet still hold server.close() open; Next's hot-reload sockets are ended here on close.
  const upgradedSockets = new Set<Duplex>();
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgradedSockets.add(socket);
    socket.once("close", () => upgradedSockets.delete(socket));
    if (gateway.handles(request)) {
      gateway.handleUpgrade(request, socket, head);
    } else if (ready.pages?.handleUpgrade) {
      ready.pages.handleUpgrade(request, socket, head).catch(() => socket.destroy());
    } else {
      socket.destroy();
    }
  });

  const db = database.db;
  const context: ServerContext = {
    db,
    databaseKind: database.kind,
    gateway,
    runEvents,
    version,
    pingDatabase: async () => {
      await db.execute(sql`select 1`);
    },
  };
  setServerContext(context);
  ready.context = context;

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${displayHost(options.host)}:${port}`,
    context,
    setPageHandlers(handlers) {
      ready.pages = handlers;
    },
    close() {
      closing ??= (async () => {
        await sweeper.close();
        await gateway.close();
        await runEvents.close();
        for (const socket of upgradedSockets) socket.destroy();
        await closeHttpServer(server);
        clearServerContext(context);
        if (ownsDatabase) await database.close();
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const where = `${host ?? "*"}:${port}`;
      if (error.code === "EADDRINUSE") {
        reject(new StartupError(`port ${port} is already in use; stop the process using it or set PORT to a free port`));
      } else if (error.code === "EACCES") {
        reject(new StartupError(`not allowed to listen on ${where}; choose a PORT above 1023 or run with the needed permission`));
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
        reject(new StartupError(`cannot listen on host "${host ?? ""}": no such local address; fix HOST or unset it`));
      } else {
        reject(new StartupError(`cannot listen on ${where}: ${error.message}`));
      }
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive browser connections would otherwise hold close() open for minutes.
    server.closeAllConnections();
  });
}

function displayHost(host: string | undefined): string {
  if (!host || host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
