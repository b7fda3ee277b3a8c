// The runner gateway: accepts runner WebSockets at /api/runner on the web server's own
// port, authenticates them at the upgrade, runs the hello handshake, hands out runs from
// the queue and turns each runner message into a queue or grading call.
//
// Runners are untrusted and their messages may arrive twice, late or never: every
// run-scoped message is checked against the run's lease (this runner, current attempt)
// and refused with `stale_attempt` / `not_your_run` otherwise, changing nothing. Messages
// of one connection are handled one after another, in order, so progress `seq`s and log
// offsets are stored in the order they were sent. A `finished`/`failed` is answered with
// `result-recorded` once its transition is committed, and again when re-sent: the runner
// keeps its result until then, so none is lost with a connection. A revoked runner is
// closed when the runner-revoked notice arrives, or, should the notice be missed, by the
// periodic credential check (REVOCATION_CHECK_INTERVAL_MS); the claim itself also refuses it.
//
// Close codes (see CLOSE_CODES in @transcend/protocol):
//   401 at the upgrade: no or unknown or revoked credential — no socket is opened
//   403 at the upgrade: it carries an Origin (a browser); 429: too many handshakes from the address
//   1008 invalid frame (not JSON, not in the schema) — after an `invalid_frame` error frame
//   1009 frame larger than MAX_FRAME_BYTES (ws closes the socket itself)
//   1013 the runner sends faster than the gateway handles its frames
//   1001 the server is shutting down — runners reconnect with backoff
//   4000 protocol_mismatch, 4001 hello_expected, 4002 hello_timeout, 4003 revoked — refusals:
//        the runner prints the error frame's message and exits instead of retrying
//   4004 another connection with the same credential replaced this one
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import type { Db } from "@transcend/db";
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  RUNNER_SOCKET_PATH,
  decodeFrame,
  decodeRunnerMessage,
  encodeServerMessage,
  helloVersionSchema,
  type AttemptRef,
  type RefusalReason,
  type RunnerCapabilities,
  type RunnerToServerMessage,
  type ServerToRunner,
} from "@transcend/protocol";
import * as grading from "../services/grading";
import { isFleetError } from "../services/fleet-errors";
import {
  DEFAULT_QUEUE_SETTINGS,
  acceptAttempt,
  checkAttempt,
  claimRun,
  failAttempt,
  finishAttempt,
  hasClaimableRuns,
  lastSeqOf,
  recordLog,
  recordedOutcome,
  recordProgress,
  renewLeases,
  type QueueSettings,
} from "../services/queue";
import type { FleetEvent, RunEvents } from "../services/run-events";
import { DEFAULT_FRAME_LIMITS, FrameBudget, clientAddress, takeToken, tooManyUpgradesResponse, type FrameLimits } from "../rate-limit";
import { authenticateRunner, recordRunnerHello, runnersNoLongerAdmitted, type RunnerRow } from "../services/runners";
import { bearerToken } from "../services/secrets";
import { evaluationSetFrames } from "./evaluation-frames";

/** A runner has this long after the socket opens to say hello; a silent socket only holds a slot. */
export const HELLO_TIMEOUT_MS = 10_000;
/**
 * How often the gateway pings each socket. A runner whose machine vanished (power, network)
 * never sends a close frame; a ping still unanswered at the next ping marks it gone. 15 s
 * keeps the connected count honest within half a minute while costing nothing on the wire.
 */
export const PING_INTERVAL_MS = 15_000;
/** How often runners send heartbeats (told in the welcome); leases last a few of these. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** Idle runners retry claiming this often, for runs whose backoff ended or queued elsewhere unannounced. */
export const CLAIM_POLL_MS = 2_000;
/**
 * Frames of one connection waiting to be handled. A runner sends a handful per second;
 * hundreds queued means it floods us, and it is closed rather than buffered without bound.
 */
export const MAX_PENDING_FRAMES = 256;
/** Claims made at once for idle runners when runs are queued: about a database pool's worth. */
export const CLAIM_CONCURRENCY = 8;
/**
 * How often the gateway re-reads the credentials of the runners connected to it and closes
 * revoked ones. The runner-revoked notice does that at once, but a notice is missed when the
 * LISTEN connection drops and reconnects (a PostgreSQL restart) or an instance starts
 * listening just after the revocation: this bounds how long a revoked runner stays connected
 * without it. 30 s is a lease's length, for one query per instance (not per runner).
 */
export const REVOCATION_CHECK_INTERVAL_MS = 30_000;
/** How often a heartbeat also records the runner as seen; well inside RUNNER_OFFLINE_AFTER_MS (60 s). */
export const RUNNER_TOUCH_INTERVAL_MS = 20_000;
/**
 * Bytes queued for a runner that has not read them yet. An evaluation set is the biggest
 * thing we send at once (a few MiB at the largest recipe); a peer that lets this much pile
 * up has stopped reading, and keeping its backlog would let it hold our memory hostage.
 */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** The grading service's interface, as the gateway calls it. */
export type Grader = Pick<typeof grading, "evaluationSet" | "recordCompletions" | "finalize">;

export interface ConnectedRunner {
  runnerId: string;
  ownerId: string;
  connectionId: string;
  name: string | undefined;
  runnerVersion: string;
  capabilities: RunnerCapabilities;
  connectedAt: Date;
  remoteAddress: string | undefined;
}

export interface RunnerGatewayOptions {
  serverVersion: string;
  /** Needed to authenticate runners and serve runs; without it (legacy tests) the gateway refuses every upgrade. */
  db?: Db;
  /** Cross-instance signals: cancels, revocations, queue changes. */
  events?: RunEvents;
  grader?: Grader;
  /** The version this gateway speaks; tests use another value to play a server from the future. */
  protocolVersion?: number;
  helloTimeoutMs?: number;
  pingIntervalMs?: number;
  /** Per-connection frame and byte rates (tests shrink them); over them the socket closes with 1013. */
  frameLimits?: Partial<FrameLimits>;
  /** Unread bytes a runner may leave queued before it is dropped (default MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
  heartbeatIntervalMs?: number;
  claimPollMs?: number;
  /** How often connected runners' credentials are re-checked (default REVOCATION_CHECK_INTERVAL_MS). */
  revocationCheckMs?: number;
  queue?: Partial<QueueSettings>;
  log?: (line: string) => void;
}

type ConnectionState = { phase: "awaiting_hello"; helloTimer: NodeJS.Timeout } | { phase: "ready"; runner: ConnectedRunner };

interface Connection {
  socket: WebSocket;
  account: RunnerRow;
  state: ConnectionState;
  /** Cleared on each ping, set by each pong: still false at the next ping means the peer is gone. */
  alive: boolean;
  /** Runs the runner said it can take (its last `ready`) minus those assigned since. */
  slots: number;
  /** Attempts this connection executes, by `runId/attempt`. */
  attempts: Set<string>;
  /** Frames are handled one at a time, in arrival order. */
  work: Promise<void>;
  pending: number;
  claiming: boolean;
  /** When `last_seen_at` was last written for this runner. */
  touchedAt: number;
  budget: FrameBudget;
}

const attemptKey = (ref: AttemptRef) => `${ref.runId}/${ref.attempt}`;

function rawDataToBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function refusalOf(error: unknown): { reason: RefusalReason; message: string } | undefined {
  if (isFleetError(error) && (error.code === "stale_attempt" || error.code === "not_your_run")) return { reason: error.code, message: error.message };
  if (isFleetError(error) && (error.code === "terminal" || error.code === "not_found")) return { reason: "stale_attempt", message: error.message };
  if (grading.isGradingError(error)) {
    return { reason: error.code === "stale_attempt" || error.code === "closed" ? "stale_attempt" : "invalid_frame", message: error.message };
  }
  return undefined;
}

export class RunnerGateway {
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<WebSocket, Connection>();
  private readonly byRunner = new Map<string, Connection>();
  private readonly protocolVersion: number;
  private readonly helloTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly settings: QueueSettings;
  private readonly grader: Grader;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly claimTimer: NodeJS.Timeout;
  private readonly revocationTimer: NodeJS.Timeout;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly log: (line: string) => void;
  private claimPass: Promise<void> | undefined;
  private claimAgain = false;
  private credentialCheck: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RunnerGatewayOptions) {
    this.protocolVersion = options.protocolVersion ?? PROTOCOL_VERSION;
    this.helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    this.settings = { ...DEFAULT_QUEUE_SETTINGS, ...options.queue };
    this.grader = options.grader ?? grading;
    this.log = options.log ?? (() => {});
    // noServer: the http server owns the port and hands us only the upgrades for our path.
    // No compression: frames are small, and permessage-deflate costs memory per socket.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs ?? PING_INTERVAL_MS);
    this.pingTimer.unref();
    this.claimTimer = setInterval(() => this.scheduleClaims(), options.claimPollMs ?? CLAIM_POLL_MS);
    this.claimTimer.unref();
    this.revocationTimer = setInterval(() => void this.checkCredentials(), options.revocationCheckMs ?? REVOCATION_CHECK_INTERVAL_MS);
    this.revocationTimer.unref();
    this.unsubscribe = options.events?.subscribe((event) => this.onFleetEvent(event));
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

  /** Authenticates the runner credential, then opens the socket; 401 before it opens otherwise. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    // Runner daemons send no Origin; a browser always does. A page must not be able to open
    // a runner socket with whatever a user pasted into it, so browser upgrades are refused.
    if (request.headers.origin !== undefined) {
      rejectUpgrade(socket, 403, "Runner sockets are not opened from browsers.");
      return;
    }
    const db = this.options.db;
    const credential = bearerToken(request.headers.authorization);
    if (!db || credential === undefined) {
      rejectUpgrade(socket, 401, "A runner credential is required: register this runner (transcend-runner register) and start it again.");
      return;
    }
    socket.on("error", () => socket.destroy());
    // Each handshake costs a credential lookup: counted per address before it is made.
    takeToken("runnerHandshake", clientAddress(request))
      .then((decision) => {
        if (decision.allowed) return this.authenticate(db, credential, request, socket, head);
        if (!socket.destroyed) socket.end(tooManyUpgradesResponse(decision.retryAfterSeconds));
      })
      .catch(() => socket.destroy());
  }

  private authenticate(db: Db, credential: string, request: IncomingMessage, socket: Duplex, head: Buffer): void {
    authenticateRunner(db, credential).then(
      (account) => {
        if (this.closed || socket.destroyed) {
          socket.destroy();
          return;
        }
        this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, account));
      },
      (error: unknown) => {
        if (isFleetError(error)) {
          rejectUpgrade(socket, 401, error.message);
        } else {
          this.log(`runner authentication failed: ${error instanceof Error ? error.message : String(error)}`);
          rejectUpgrade(socket, 503, "The server cannot check runner credentials right now; try again later.");
        }
      },
    );
  }

  /** Closes every runner socket with 1001 so runners reconnect to the next server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearInterval(this.claimTimer);
    clearInterval(this.revocationTimer);
    this.unsubscribe?.();
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
    // Let in-flight handlers finish their database work before the caller closes the database.
    await Promise.all([...this.connections.values()].map((c) => c.work));
    await this.claimPass;
    await this.credentialCheck;
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage, account: RunnerRow): void {
    const helloTimer = setTimeout(() => {
      this.refuse(socket, "hello_timeout", CLOSE_CODES.helloTimeout, `No hello within ${this.helloTimeoutMs} ms of connecting.`);
    }, this.helloTimeoutMs);
    helloTimer.unref();
    const connection: Connection = {
      socket,
      account,
      state: { phase: "awaiting_hello", helloTimer },
      alive: true,
      slots: 0,
      attempts: new Set(),
      work: Promise.resolve(),
      pending: 0,
      claiming: false,
      // The hello records the runner as seen.
      touchedAt: Date.now(),
      budget: new FrameBudget({ ...DEFAULT_FRAME_LIMITS, ...this.options.frameLimits }),
    };
    this.connections.set(socket, connection);
    // One connection per runner: a restarted daemon replaces the half-dead socket it left.
    const previous = this.byRunner.get(account.id);
    this.byRunner.set(account.id, connection);
    if (previous && previous.socket !== socket) {
      this.send(previous.socket, { type: "error", reason: "invalid_frame", message: "Another connection of this runner replaced this one." });
      previous.socket.close(CLOSE_CODES.replaced, "replaced by a newer connection");
    }
    const remoteAddress = request.socket.remoteAddress;

    socket.on("pong", () => {
      connection.alive = true;
    });
    socket.on("message", (data, isBinary) => {
      // Counted before parsing: a flood must not cost us JSON parsing and validation.
      const size = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
      if (!connection.budget.take(size)) {
        if (socket.readyState === WebSocket.OPEN) {
          this.refuse(socket, "rate_limited", CLOSE_CODES.rateLimited, "This runner sends more frames or bytes per second than the server accepts; slow down and reconnect.");
        }
        return;
      }
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
      if (this.byRunner.get(account.id) === connection) this.byRunner.delete(account.id);
      // Its leases stay: the runner may reconnect and keep its attempts; otherwise the sweeper re-queues them.
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
    if (state.phase === "awaiting_hello" && message.type !== "hello") {
      this.refuse(socket, "hello_expected", CLOSE_CODES.helloExpected, `The first frame must be a hello, not ${message.type}.`);
      return;
    }
    if (state.phase === "ready" && message.type === "hello") {
      this.refuse(socket, "invalid_frame", CLOSE_CODES.invalidFrame, "Invalid frame: hello was already received on this connection.");
      return;
    }
    if (state.phase === "awaiting_hello") clearTimeout(state.helloTimer);
    if (connection.pending >= MAX_PENDING_FRAMES) {
      this.refuse(socket, "rate_limited", CLOSE_CODES.rateLimited, `More than ${MAX_PENDING_FRAMES} frames waiting; slow down and reconnect.`);
      return;
    }
    if (message.type === "heartbeat" && state.phase === "ready") {
      // Heartbeats jump the queue: renewing a lease must not wait behind a slow grading
      // call of the same runner, or its lease could expire while we are the slow party.
      void this.handle(connection, message, remoteAddress).catch((error: unknown) => this.onHandlerError(connection, message, error));
      return;
    }
    connection.pending += 1;
    connection.work = connection.work
      .then(() => this.handle(connection, message, remoteAddress))
      .catch((error: unknown) => this.onHandlerError(connection, message, error))
      .finally(() => {
        connection.pending -= 1;
      });
  }

  private onHandlerError(connection: Connection, message: RunnerToServerMessage, error: unknown): void {
    const refusal = refusalOf(error);
    const ref = "runId" in message && "attempt" in message ? { runId: message.runId, attempt: message.attempt } : undefined;
    if (refusal) {
      if (ref) connection.attempts.delete(attemptKey(ref));
      this.send(connection.socket, { type: "error", reason: refusal.reason, message: refusal.message, ...ref });
      return;
    }
    // A bug or a database outage: the runner re-sends what was not acked after reconnecting.
    this.log(`handling ${message.type} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.close(1011, "server error");
  }

  private async handle(connection: Connection, message: RunnerToServerMessage, remoteAddress: string | undefined): Promise<void> {
    const db = this.options.db;
    if (!db || this.closed) return;
    if (message.type === "hello") {
      await this.welcome(db, connection, message, remoteAddress);
      return;
    }
    if (connection.state.phase !== "ready") return;
    const runner = connection.state.runner;
    switch (message.type) {
      case "ready":
        connection.slots = message.slots;
        await this.claimFor(db, connection);
        return;
      case "accepted":
        await acceptAttempt(db, { ref: message, runnerId: runner.runnerId, settings: this.settings });
        connection.attempts.add(attemptKey(message));
        return;
      case "heartbeat": {
        // `last_seen_at` only needs the precision of the runners page's "offline" (a minute):
        // written every RUNNER_TOUCH_INTERVAL_MS, an idle runner's heartbeat costs no query.
        const touchRunner = Date.now() - connection.touchedAt >= RUNNER_TOUCH_INTERVAL_MS;
        if (!touchRunner && message.attempts.length === 0) return;
        if (touchRunner) connection.touchedAt = Date.now();
        const { lost } = await renewLeases(db, { runnerId: runner.runnerId, attempts: message.attempts, settings: this.settings, touchRunner });
        for (const ref of message.attempts) connection.attempts.add(attemptKey(ref));
        for (const ref of lost) await this.refuseLostAttempt(db, connection, ref);
        return;
      }
      case "progress": {
        const { lastSeq } = await recordProgress(db, {
          ref: message,
          runnerId: runner.runnerId,
          seq: message.seq,
          phase: message.phase,
          step: message.step,
          metrics: message.metrics,
        });
        this.send(connection.socket, { type: "ack", runId: message.runId, attempt: message.attempt, seq: lastSeq });
        return;
      }
      case "log": {
        const { endOffset, lastSeq } = await recordLog(db, { ref: message, runnerId: runner.runnerId, offset: message.offset, text: message.text });
        this.send(connection.socket, { type: "ack", runId: message.runId, attempt: message.attempt, seq: lastSeq, logOffset: endOffset });
        return;
      }
      case "evaluation-request": {
        await checkAttempt(db, message, runner.runnerId);
        const set = await this.grader.evaluationSet(db, { runId: message.runId, attempt: message.attempt, model: message.model, split: message.split });
        const ref = { runId: message.runId, attempt: message.attempt };
        for (const frame of evaluationSetFrames(ref, { model: message.model, split: message.split, ...set })) this.send(connection.socket, frame);
        return;
      }
      case "completions": {
        await checkAttempt(db, message, runner.runnerId);
        const { splitGraded } = await this.grader.recordCompletions(db, {
          runId: message.runId,
          attempt: message.attempt,
          model: message.model,
          split: message.split,
          entries: message.entries,
        });
        if (splitGraded) this.send(connection.socket, { type: "graded", runId: message.runId, attempt: message.attempt, model: message.model, split: message.split });
        return;
      }
      case "finished":
      case "failed": {
        const ref = { runId: message.runId, attempt: message.attempt };
        const outcome = await this.recordResult(db, runner.runnerId, message);
        connection.attempts.delete(attemptKey(ref));
        // Only now, with the transition committed: the runner holds its result until this arrives.
        this.send(connection.socket, { type: "result-recorded", ...ref, outcome });
        return;
      }
    }
  }

  /**
   * Records an attempt's end and says how it was recorded. A result this runner already
   * had recorded (re-sent after a connection dropped before our answer, or a copy that
   * raced the first on another connection) changes nothing and is answered the same; any
   * other stale or foreign result is refused by the thrown FleetError.
   */
  private async recordResult(
    db: Db,
    runnerId: string,
    message: Extract<RunnerToServerMessage, { type: "finished" | "failed" }>,
  ): Promise<"succeeded" | "failed"> {
    const ref = { runId: message.runId, attempt: message.attempt };
    try {
      if (message.type === "failed") {
        await failAttempt(db, { ref, runnerId, error: message.error, retryable: message.retryable, settings: this.settings });
        return "failed";
      }
      await checkAttempt(db, ref, runnerId);
      const graded = await this.grader.finalize(db, ref);
      if (graded.ok) {
        await finishAttempt(db, { ref, runnerId, engineVersion: message.engineVersion });
        return "succeeded";
      }
      await failAttempt(db, { ref, runnerId, error: graded.reason, retryable: false, settings: this.settings });
      return "failed";
    } catch (error) {
      if (isFleetError(error) && error.code === "stale_attempt") {
        const recorded = await recordedOutcome(db, ref, runnerId);
        if (recorded) return recorded;
      }
      throw error;
    }
  }

  private async welcome(
    db: Db,
    connection: Connection,
    hello: Extract<RunnerToServerMessage, { type: "hello" }>,
    remoteAddress: string | undefined,
  ): Promise<void> {
    const runner: ConnectedRunner = {
      runnerId: connection.account.id,
      ownerId: connection.account.ownerId,
      connectionId: randomUUID(),
      name: hello.name ?? connection.account.name,
      runnerVersion: hello.runnerVersion,
      capabilities: hello.capabilities,
      connectedAt: new Date(),
      remoteAddress,
    };
    await recordRunnerHello(db, { runnerId: runner.runnerId, capabilities: hello.capabilities });
    // Attempts the runner kept running across a reconnect keep their leases if still theirs.
    const { renewed, lost } = await renewLeases(db, { runnerId: runner.runnerId, attempts: hello.activeAttempts, settings: this.settings, touchRunner: false });
    connection.state = { phase: "ready", runner };
    this.send(connection.socket, {
      type: "welcome",
      protocolVersion: this.protocolVersion,
      serverVersion: this.options.serverVersion,
      connectionId: runner.connectionId,
      runnerId: runner.runnerId,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
    });
    const seqs = await lastSeqOf(db, renewed);
    for (const ref of renewed) {
      connection.attempts.add(attemptKey(ref));
      this.send(connection.socket, { type: "ack", ...ref, seq: seqs.get(attemptKey(ref)) ?? 0 });
    }
    for (const ref of lost) await this.refuseLostAttempt(db, connection, ref);
    this.log(`runner connected: ${describe(runner)}`);
  }

  /** Tells the runner to stop an attempt that is no longer its own (lease lost, cancelled, re-queued). */
  private async refuseLostAttempt(db: Db, connection: Connection, ref: AttemptRef): Promise<void> {
    connection.attempts.delete(attemptKey(ref));
    const runnerId = connection.state.phase === "ready" ? connection.state.runner.runnerId : connection.account.id;
    // Its result is ours already (our answer was lost, or crossed this hello or heartbeat):
    // nothing to stop, and the runner may forget the attempt.
    const recorded = await recordedOutcome(db, ref, runnerId);
    if (recorded) {
      this.send(connection.socket, { type: "result-recorded", ...ref, outcome: recorded });
      return;
    }
    const refusal = await checkAttempt(db, ref, runnerId).then(
      () => undefined,
      (error: unknown) => refusalOf(error),
    );
    const { reason, message } = refusal ?? { reason: "stale_attempt" as const, message: `Attempt ${ref.attempt} of run ${ref.runId} lost its lease.` };
    if (reason === "stale_attempt") this.send(connection.socket, { type: "cancel", ...ref, reason: message });
    this.send(connection.socket, { type: "error", reason, message, ...ref });
  }

  /** Claims runs for a ready runner while it has free slots and the queue has fitting runs. */
  private async claimFor(db: Db, connection: Connection): Promise<number> {
    if (connection.claiming || connection.state.phase !== "ready") return 0;
    const runner = connection.state.runner;
    connection.claiming = true;
    let assigned = 0;
    try {
      while (connection.slots > 0 && !this.closed && connection.socket.readyState === WebSocket.OPEN) {
        const claimed = await claimRun(db, {
          runnerId: runner.runnerId,
          ownerId: runner.ownerId,
          capabilities: runner.capabilities,
          runnerName: runner.name,
          settings: this.settings,
        });
        if (!claimed) break;
        connection.slots -= 1;
        assigned += 1;
        const ref = { runId: claimed.runId, attempt: claimed.attempt };
        connection.attempts.add(attemptKey(ref));
        this.send(connection.socket, {
          type: "assign",
          ...ref,
          variant: claimed.variant,
          recipe: claimed.recipe,
          seed: claimed.seed,
          attemptToken: claimed.attemptToken,
          resumeAfterSeq: 0,
        });
        this.log(`assigned run ${claimed.runId} attempt ${claimed.attempt} to ${describe(runner)}`);
      }
    } finally {
      connection.claiming = false;
    }
    return assigned;
  }

  /** One pass over idle runners at a time; a pass asked for meanwhile runs right after. */
  private scheduleClaims(): void {
    if (this.closed) return;
    if (this.claimPass) {
      this.claimAgain = true;
      return;
    }
    this.claimPass = this.claimIdleRunners()
      .catch((error: unknown) => this.log(`claiming runs failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.claimPass = undefined;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.scheduleClaims();
        }
      });
  }

  private async claimIdleRunners(): Promise<void> {
    const db = this.options.db;
    if (!db) return;
    const waiting = [...this.connections.values()].filter((c) => c.state.phase === "ready" && c.slots > 0 && !c.claiming);
    if (waiting.length === 0 || !(await hasClaimableRuns(db))) return;
    // Claims of different runners run side by side (SKIP LOCKED keeps them apart; PGlite
    // serialises them anyway). Runners differ in what they can run, but a whole batch
    // coming back empty means the queue is dry for now.
    for (let start = 0; start < waiting.length; start += CLAIM_CONCURRENCY) {
      if (this.closed) return;
      const batch = waiting.slice(start, start + CLAIM_CONCURRENCY);
      const assigned = await Promise.all(batch.map((connection) => connection.work.then(() => this.claimFor(db, connection))));
      if (assigned.every((n) => n === 0)) return;
    }
  }

  private onFleetEvent(event: FleetEvent): void {
    switch (event.type) {
      case "cancel-attempt": {
        const key = attemptKey(event);
        for (const connection of this.connections.values()) {
          if (!connection.attempts.has(key)) continue;
          connection.attempts.delete(key);
          this.send(connection.socket, { type: "cancel", runId: event.runId, attempt: event.attempt, reason: event.reason });
        }
        return;
      }
      case "runner-revoked": {
        const connection = this.byRunner.get(event.runnerId);
        if (connection) this.closeRevoked(connection);
        return;
      }
      case "queue-changed":
        this.scheduleClaims();
        return;
      case "run-updated":
        return;
    }
  }

  /**
   * Closes a revoked runner's socket. Its attempts keep their leases, which it can no longer
   * renew: they expire and the sweeper re-queues the runs, as for any runner that went away.
   */
  private closeRevoked(connection: Connection): void {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    this.refuse(connection.socket, "revoked", CLOSE_CODES.revoked, "This runner was revoked by its owner; it can no longer connect.");
  }

  /**
   * The gate that does not depend on the runner-revoked notice: one query for every runner
   * connected to this instance, closing those whose credential no longer admits them.
   * Checks do not overlap; one still running when the timer fires again is enough.
   */
  private checkCredentials(): Promise<void> {
    const db = this.options.db;
    if (!db || this.closed) return Promise.resolve();
    this.credentialCheck ??= (async () => {
      const checked = [...this.connections.values()];
      if (checked.length === 0) return;
      const revoked = await runnersNoLongerAdmitted(db, checked.map((connection) => connection.account));
      for (const connection of checked) {
        if (!revoked.has(connection.account.id) || this.connections.get(connection.socket) !== connection) continue;
        this.log(`credential check: runner ${connection.account.id} is no longer admitted (its revocation notice was missed)`);
        this.closeRevoked(connection);
      }
    })()
      .catch((error: unknown) => this.log(`credential check failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.credentialCheck = undefined;
      });
    return this.credentialCheck;
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
    if (socket.bufferedAmount > (this.options.maxBufferedBytes ?? MAX_BUFFERED_BYTES)) {
      // It stopped reading (a close frame would queue behind the rest): drop it; its leases
      // run out and the sweeper re-queues its runs as for any vanished runner.
      this.log(`runner dropped: ${socket.bufferedAmount} bytes unread`);
      socket.terminate();
      return;
    }
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

/** Answers an upgrade with a plain HTTP status before any WebSocket exists. */
function rejectUpgrade(socket: Duplex, status: 401 | 403 | 503, message: string): void {
  if (socket.destroyed) return;
  const statusText = status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Service Unavailable";
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      (status === 401 ? `WWW-Authenticate: Bearer realm="transcend-runner"\r\n` : "") +
      `Connection: close\r\n\r\n${body}`,
  );
}

function describe(runner: ConnectedRunner): string {
  const who = runner.name ?? runner.connectionId.slice(0, 8);
  return `${who} (runner ${runner.runnerVersion}, ${runner.capabilities.backend}, ${runner.capabilities.cores} cores)`;
}

