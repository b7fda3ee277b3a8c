// The runner gateway: accepts runner WebSockets at /api/runner on the web server's own
// port, runs the hello handshake, and keeps the set of connected runners.
//
// Close codes (see CLOSE_CODES in @transcend/protocol):
//   1008 invalid frame (not JSON, not in the schema) — after an `invalid_frame` error frame
//   1009 frame larger than MAX_FRAME_BYTES (ws closes the socket itself)
//   1001 the server is shutting down — runners reconnect with backoff
//   4000 protocol_mismatch, 4001 hello_expected, 4002 hello_timeout — refusals: the runner
//        prints the error frame's message and exits instead of retrying
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  RUNNER_SOCKET_PATH,
  decodeFrame,
  decodeRunnerMessage,
  encodeServerMessage,
  helloVersionSchema,
  type HelloMessage,
  type RefusalReason,
  type RunnerCapabilities,
  type ServerToRunner,
} from "@transcend/protocol";

/** A runner has this long after the socket opens to say hello; a silent socket only holds a slot. */
export const HELLO_TIMEOUT_MS = 10_000;
/**
 * How often the gateway pings each socket. A runner whose machine vanished (power, network)
 * never sends a close frame; a ping still unanswered at the next ping marks it gone. 15 s
 * keeps the connected count honest within half a minute while costing nothing on the wire.
 */
export const PING_INTERVAL_MS = 15_000;

export interface ConnectedRunner {
  connectionId: string;
  name: string | undefined;
  runnerVersion: string;
  capabilities: RunnerCapabilities;
  connectedAt: Date;
  remoteAddress: string | undefined;
}

export interface RunnerGatewayOptions {
  serverVersion: string;
  /** The version this gateway speaks; tests use another value to play a server from the future. */
  protocolVersion?: number;
  helloTimeoutMs?: number;
  pingIntervalMs?: number;
  log?: (line: string) => void;
}

type ConnectionState = { phase: "awaiting_hello"; helloTimer: NodeJS.Timeout } | { phase: "ready"; runner: ConnectedRunner };

interface Connection {
  socket: WebSocket;
  state: ConnectionState;
  /** Cleared on each ping, set by each pong: still false at the next ping means the peer is gone. */
  alive: boolean;
}

function rawDataToBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

export class RunnerGateway {
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<WebSocket, Connection>();
  private readonly protocolVersion: number;
  private readonly helloTimeoutMs: number;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly log: (line: string) => void;
  private closed = false;

  constructor(private readonly options: RunnerGatewayOptions) {
    this.protocolVersion = options.protocolVersion ?? PROTOCOL_VERSION;
    this.helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.log = options.log ?? (() => {});
    // noServer: the http server owns the port and hands us only the upgrades for our path.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs ?? PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  /** Runners that completed the hello handshake and are still connected. */
  get runnersConnected(): number {
    let count = 0;
    for (const connection of this.connections.values()) {
      if (connection.state.phase === "ready") count += 1;
    }
    return count;
  }

  listRunners(): ConnectedRunner[] {
    const runners: ConnectedRunner[] = [];
    for (const connection of this.connections.values()) {
      if (connection.state.phase === "ready") runners.push(connection.state.runner);
    }
    return runners;
  }

  /** Whether an upgrade request is for the runner socket (other upgrades, e.g. Next's HMR, are not ours). */
  handles(request: IncomingMessage): boolean {
    const path = (request.url ?? "").split("?", 1)[0];
    return path === RUNNER_SOCKET_PATH;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  /** Closes every runner socket with 1001 so runners reconnect to the next server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    const closing = [...this.connections.values()].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.socket.readyState === WebSocket.CLOSED) return resolve();
          connection.socket.once("close", () => resolve());
          connection.socket.close(CLOSE_CODES.goingAway, "server shutting down");
          // A peer that never answers the close handshake must not hold up shutdown.
          setTimeout(() => {
            connection.socket.terminate();
            resolve();
          }, 2_000).unref();
        }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const helloTimer = setTimeout(() => {
      this.refuse(socket, "hello_timeout", CLOSE_CODES.helloTimeout, `No hello within ${this.helloTimeoutMs} ms of connecting.`);
    }, this.helloTimeoutMs);
    helloTimer.unref();
    const connection: Connection = { socket, state: { phase: "awaiting_hello", helloTimer }, alive: true };
    this.connections.set(socket, connection);
    const remoteAddress = request.socket.remoteAddress;

    socket.on("pong", () => {
      connection.alive = true;
    });
    socket.on("message", (data, isBinary) => {
      if (isBinary) {
        this.refuse(socket, "invalid_frame", CLOSE_CODES.invalidFrame, "Binary frames are not part of the protocol; send JSON text.");
        return;
      }
      this.onFrame(connection, rawDataToBytes(data), remoteAddress);
    });
    socket.on("close", () => {
      if (connection.state.phase === "awaiting_hello") clearTimeout(connection.state.helloTimer);
      else this.log(`runner disconnected: ${describe(connection.state.runner)}`);
      this.connections.delete(socket);
    });
    // Errors (e.g. an oversized frame) are followed by a close event; logging is enough here.
    socket.on("error", (error) => this.log(`runner socket error: ${error.message}`));
  }

  private onFrame(connection: Connection, bytes: Uint8Array, remoteAddress: string | undefined): void {
    const { socket, state } = connection;
    if (state.phase === "awaiting_hello") {
      // Read the version before the full schema: a runner from another protocol era may
      // send a hello this server cannot parse, and it deserves "upgrade", not "invalid".
      const version = decodeFrame(helloVersionSchema, bytes);
      if (version.ok && version.message.protocolVersion !== this.protocolVersion) {
        this.refuse(
          socket,
          "protocol_mismatch",
          CLOSE_CODES.protocolMismatch,
          `This server speaks runner protocol ${this.protocolVersion} but the runner speaks ${version.message.protocolVersion}; ` +
            `update the runner (and the server) to the same Transcend release.`,
        );
        return;
      }
    }
    const decoded = decodeRunnerMessage(bytes);
    if (!decoded.ok) {
      this.refuse(socket, "invalid_frame", CLOSE_CODES.invalidFrame, `Invalid frame: ${decoded.error}.`);
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case "hello":
        if (state.phase === "ready") {
          this.refuse(socket, "invalid_frame", CLOSE_CODES.invalidFrame, "Invalid frame: hello was already received on this connection.");
          return;
        }
        clearTimeout(state.helloTimer);
        this.welcome(connection, message, remoteAddress);
        return;
    }
  }

  private welcome(connection: Connection, hello: HelloMessage, remoteAddress: string | undefined): void {
    const runner: ConnectedRunner = {
      connectionId: randomUUID(),
      name: hello.name,
      runnerVersion: hello.runnerVersion,
      capabilities: hello.capabilities,
      connectedAt: new Date(),
      remoteAddress,
    };
    connection.state = { phase: "ready", runner };
    this.send(connection.socket, {
      type: "welcome",
      protocolVersion: this.protocolVersion,
      serverVersion: this.options.serverVersion,
      connectionId: runner.connectionId,
    });
    this.log(`runner connected: ${describe(runner)}`);
  }

  /** Sends a named refusal the runner prints, then closes with the matching code. */
  private refuse(socket: WebSocket, reason: RefusalReason, code: number, message: string): void {
    this.log(`runner refused (${reason}): ${message}`);
    this.send(socket, { type: "error", reason, message });
    // The close reason is limited to 123 bytes by RFC 6455; the full text went in the error frame.
    socket.close(code, reason);
  }

  private send(socket: WebSocket, message: ServerToRunner): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(encodeServerMessage(message));
  }

  private pingAll(): void {
    for (const connection of this.connections.values()) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }
}

function describe(runner: ConnectedRunner): string {
  const who = runner.name ?? runner.connectionId.slice(0, 8);
  return `${who} (runner ${runner.runnerVersion}, ${runner.capabilities.backend}, ${runner.capabilities.cores} cores)`;
}
