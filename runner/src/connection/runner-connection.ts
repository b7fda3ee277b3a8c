// The runner's connection to its server, as an explicit state machine:
//
//   connecting ──welcome──▶ connected ──stop()──▶ draining ──▶ stopped
//       ▲  │                  │
//       │  └── unreachable ───┤ (server went away: back to connecting, after a backoff)
//       └─────────────────────┘
//
// Errors are classed: a refusal (close code 4000–4999, e.g. protocol_mismatch, or HTTP 401
// at the upgrade: the credential was refused) is fatal — run() rejects with the server's
// message, since retrying cannot fix it; anything else (refused TCP connection, server
// restart, silence) is transient and retried with capped, jittered exponential backoff.
// This is the transport only: the daemon (../daemon) owns the idle/busy/draining states
// of the runner itself and reads every frame through `onMessage`.
import { WebSocket, type RawData } from "ws";
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  decodeServerMessage,
  encodeRunnerMessage,
  isFatalCloseCode,
  RUNNER_AUTH_SCHEME,
  type HelloMessage,
  type RunnerToServer,
  type ServerToRunnerMessage,
} from "@transcend/protocol";
import { reconnectDelayMs } from "./backoff";

/** Time allowed for TCP + TLS + the HTTP upgrade; a black-holed address must not hang an attempt. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Time allowed between our hello and the server's welcome before the attempt counts as failed. */
export const WELCOME_TIMEOUT_MS = 10_000;
/**
 * The gateway pings every 15 s. Three missed pings mean the path to the server is dead
 * (a NAT dropped the flow, the server's machine vanished) even though no close arrived.
 */
export const SERVER_SILENCE_TIMEOUT_MS = 45_000;
/** How long a clean close may take before the socket is dropped, so Ctrl-C never hangs. */
export const CLOSE_GRACE_MS = 2_000;

export type ConnectionState =
  | { name: "connecting"; attempt: number }
  | { name: "connected"; connectionId: string; serverVersion: string; heartbeatIntervalMs: number }
  | { name: "draining" }
  | { name: "stopped" };
export type ConnectionStateName = ConnectionState["name"];

const ALLOWED_TRANSITIONS: Record<ConnectionStateName, readonly ConnectionStateName[]> = {
  connecting: ["connecting", "connected", "draining", "stopped"],
  connected: ["connecting", "draining", "stopped"],
  draining: ["stopped"],
  stopped: [],
};

/** The server refused this runner for a reason reconnecting cannot fix; `message` is the server's, for a person. */
export class ConnectionRefusedError extends Error {
  override name = "ConnectionRefusedError";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

type HelloBody = Omit<HelloMessage, "type" | "protocolVersion">;

export interface RunnerConnectionOptions {
  url: URL;
  /** The hello, or a function giving it at each connect (its activeAttempts change between connects). */
  hello: HelloBody | (() => HelloBody);
  /** The runner credential from `register`, sent at the upgrade as `Authorization: Bearer …`. */
  credential?: string;
  /** Every valid frame from the server, welcome and error included, after the connection has handled it. */
  onMessage?: (message: ServerToRunnerMessage) => void;
  /** The version announced in the hello; tests use another value to play an outdated runner. */
  protocolVersion?: number;
  /** One line per event a person running the daemon should see. */
  log?: (line: string) => void;
  /** Source of jitter for the backoff; tests make it deterministic. */
  random?: () => number;
  /** Overrides the backoff (tests use short delays). */
  delayMs?: (attempt: number) => number;
}

/** How one connection attempt ended. */
type AttemptOutcome =
  | { kind: "unreachable"; detail: string }
  | { kind: "lost"; detail: string; welcomed: boolean }
  | { kind: "refused"; reason: string; message: string }
  | { kind: "stopped" };

export class RunnerConnection {
  private current: ConnectionState = { name: "connecting", attempt: 1 };
  private socket: WebSocket | undefined;
  private stopRequested = false;
  private wakeFromBackoff: (() => void) | undefined;
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private readonly log: (line: string) => void;
  private readonly delayMs: (attempt: number) => number;

  constructor(private readonly options: RunnerConnectionOptions) {
    this.log = options.log ?? (() => {});
    this.delayMs = options.delayMs ?? ((attempt) => reconnectDelayMs(attempt, options.random));
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** True between a welcome and the end of that socket: frames sent now reach the server's handler. */
  get connected(): boolean {
    return this.current.name === "connected" && this.socket?.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one frame on the current socket if the server has welcomed it; false when
   * there is none (the caller keeps what must not be lost and re-sends after the next welcome).
   */
  send(message: RunnerToServer): boolean {
    const socket = this.socket;
    if (!socket || !this.connected) return false;
    this.sendOn(socket, message);
    return true;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Connects and stays connected until stop(): resolves then. Rejects with
   * ConnectionRefusedError when the server refuses this runner.
   */
  async run(): Promise<void> {
    // Consecutive failed attempts; the next attempt is number failures + 1.
    let failures = 0;
    while (!this.stopRequested) {
      this.transition({ name: "connecting", attempt: failures + 1 });
      const outcome = await this.connectOnce();
      if (outcome.kind === "stopped" || this.stopRequested) break;
      if (outcome.kind === "refused") {
        this.transition({ name: "stopped" });
        throw new ConnectionRefusedError(outcome.reason, outcome.message);
      }
      // A connection that got as far as a welcome was healthy: start the backoff afresh.
      failures = outcome.kind === "lost" && outcome.welcomed ? 1 : failures + 1;
      const delay = this.delayMs(failures);
      const what =
        outcome.kind === "unreachable"
          ? `cannot reach ${this.options.url.href} (${outcome.detail})`
          : `lost the connection to ${this.options.url.href} (${outcome.detail})`;
      this.log(`${what}; retrying in ${(delay / 1000).toFixed(1)} s`);
      await this.sleep(delay);
    }
    if (this.current.name !== "draining" && this.current.name !== "stopped") this.transition({ name: "draining" });
    if (this.current.name !== "stopped") this.transition({ name: "stopped" });
  }

  /** Graceful stop: closes the socket cleanly (code 1000); run() resolves once it is closed. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (this.current.name !== "stopped") this.transition({ name: "draining" });
    this.wakeFromBackoff?.();
    const socket = this.socket;
    if (!socket) return;
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(CLOSE_CODES.normal, "runner stopping");
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    } else {
      socket.terminate();
    }
  }

  private transition(next: ConnectionState): void {
    if (!ALLOWED_TRANSITIONS[this.current.name].includes(next.name)) {
      throw new Error(`runner connection: no transition from ${this.current.name} to ${next.name}`);
    }
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromBackoff = () => {
        this.wakeFromBackoff = undefined;
        done();
      };
    });
  }

  private connectOnce(): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = {};
      if (this.options.credential) headers.authorization = `${RUNNER_AUTH_SCHEME} ${this.options.credential}`;
      const socket = new WebSocket(this.options.url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: CONNECT_TIMEOUT_MS, headers });
      this.socket = socket;
      let opened = false;
      let welcomed = false;
      let lastError: string | undefined;
      let refusal: { reason: string; message: string } | undefined;
      let welcomeTimer: NodeJS.Timeout | undefined;
      let silenceTimer: NodeJS.Timeout | undefined;

      const heardFromServer = () => {
        clearTimeout(silenceTimer);
        silenceTimer = setTimeout(() => {
          lastError = `no word from the server for ${SERVER_SILENCE_TIMEOUT_MS / 1000} s`;
          socket.terminate();
        }, SERVER_SILENCE_TIMEOUT_MS);
      };

      socket.on("open", () => {
        opened = true;
        heardFromServer();
        const hello = typeof this.options.hello === "function" ? this.options.hello() : this.options.hello;
        this.sendOn(socket, { type: "hello", protocolVersion: this.options.protocolVersion ?? PROTOCOL_VERSION, ...hello });
        welcomeTimer = setTimeout(() => {
          lastError = `no welcome within ${WELCOME_TIMEOUT_MS / 1000} s of the hello`;
          socket.terminate();
        }, WELCOME_TIMEOUT_MS);
      });
      socket.on("ping", heardFromServer);
      socket.on("message", (data: RawData, isBinary: boolean) => {
        heardFromServer();
        const decoded = isBinary ? ({ ok: false, error: "binary frame" } as const) : decodeServerMessage(rawText(data));
        if (!decoded.ok) {
          // The server broke the protocol: a server bug, so close and retry later, not exit.
          lastError = `the server sent an invalid frame: ${decoded.error}`;
          socket.close(CLOSE_CODES.invalidFrame, "invalid frame");
          return;
        }
        const message = decoded.message;
        switch (message.type) {
          case "welcome":
            clearTimeout(welcomeTimer);
            // A welcome racing a Ctrl-C changes nothing: the runner is already draining.
            if (this.stopRequested) return;
            welcomed = true;
            this.transition({
              name: "connected",
              connectionId: message.connectionId,
              serverVersion: message.serverVersion,
              heartbeatIntervalMs: message.heartbeatIntervalMs,
            });
            this.log(`connected to ${this.options.url.origin} (server ${message.serverVersion}); waiting for runs`);
            break;
          case "error":
            // An error about one attempt refuses that message only; any other comes before a
            // close whose code decides whether it is fatal: keep the words for it.
            if (message.runId === undefined) refusal = { reason: message.reason, message: message.message };
            break;
          default:
            // Run-scoped frames mean nothing before a welcome or after a stop.
            if (!welcomed || this.stopRequested) return;
        }
        this.options.onMessage?.(message);
      });
      socket.on("error", (error) => {
        lastError = describeSocketError(error);
        // 401 at the upgrade: the gateway refused the credential before any socket opened.
        if (/Unexpected server response: 401\b/.test(error.message)) {
          refusal = this.options.credential
            ? { reason: "unauthorized", message: "this runner's credential was refused: register it again (transcend-runner register)" }
            : { reason: "unauthorized", message: "this server only accepts registered runners: run transcend-runner register first" };
        }
      });
      socket.on("close", (code: number, reasonBuffer: Buffer) => {
        clearTimeout(welcomeTimer);
        clearTimeout(silenceTimer);
        this.socket = undefined;
        if (this.stopRequested) return resolve({ kind: "stopped" });
        if (!opened && refusal?.reason === "unauthorized") return resolve({ kind: "refused", ...refusal });
        if (isFatalCloseCode(code)) {
          const reason = refusal?.reason ?? (reasonBuffer.toString("utf8") || `close code ${code}`);
          return resolve({ kind: "refused", reason, message: refusal?.message ?? `the server closed the connection (${reason})` });
        }
        if (!opened) return resolve({ kind: "unreachable", detail: lastError ?? `closed with code ${code}` });
        const detail =
          refusal?.message ??
          lastError ??
          (code === CLOSE_CODES.goingAway ? "the server is restarting or stopping" : `closed with code ${code}`);
        resolve({ kind: "lost", detail, welcomed });
      });
    });
  }

  private sendOn(socket: WebSocket, message: RunnerToServer): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(encodeRunnerMessage(message));
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

/** Socket errors as a short phrase: one line per failed attempt, never a stack. */
export function describeSocketError(error: unknown): string {
  // Node 20 tries every address of "localhost" and reports an AggregateError with an
  // empty message; its parts carry the codes.
  const first = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
  const code = typeof first === "object" && first !== null && "code" in first ? String((first as { code: unknown }).code) : undefined;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused: is the server running?";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ETIMEDOUT":
      return "timed out";
    case "ECONNRESET":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "network unreachable";
    default:
      break;
  }
  const message = first instanceof Error ? first.message : String(first);
  // ws: "Unexpected server response: 404" — something answers, but not a Transcend gateway.
  const status = /Unexpected server response: (\d+)/.exec(message);
  if (status) return `HTTP ${status[1]} instead of a WebSocket: is this a Transcend server?`;
  return (message.split("\n", 1)[0] ?? message) || "unknown error";
}
