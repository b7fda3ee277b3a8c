// A stand-in for the server's side of the runner protocol, for the daemon's tests: a real
// HTTP + WebSocket server on loopback that checks the credential at the upgrade, decodes
// every frame with the protocol package, stores progress by seq (as the real gateway
// does: once per seq), answers evaluation requests in chunks, grades completions by
// counting them, answers results with `result-recorded` (or drops, refuses or ignores
// them on request), keeps every frame it sent, and accepts checkpoint uploads. The real gateway is tested against the
// real runner in apps/web.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AttemptRef,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  RUNNER_SOCKET_PATH,
  type Recipe,
  type RunnerToServerMessage,
  type ServerToRunner,
  type TaskVariant,
  decodeRunnerMessage,
  encodeServerMessage,
  recipeSchema,
} from "@transcend/protocol";
import { createRng, findPreset, resolveVariant } from "@transcend/tasks";
import { WebSocketServer, type WebSocket } from "ws";
import { localEvaluationItems } from "../training/evaluation";

export const TEST_CREDENTIAL = "rc_test_credential_0123456789abcdef";
/** The one registration token the stand-in exchanges for TEST_CREDENTIAL. */
export const TEST_REGISTRATION_TOKEN = "rt_test_registration_token";
export const TEST_RUNNER_ID = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e";
export const TEST_VARIANT_SLUG = "mod-arith-depth-partial";

/** The tiny preset cut down so a whole job (pretrain, evaluate, GRPO, evaluate) takes seconds. */
export const quickRecipe: Recipe = recipeSchema.parse({
  name: "daemon-test",
  model: { layers: 1, dModel: 16, heads: 2, contextLength: 64 },
  pretraining: { steps: 40, batchSize: 8, learningRate: 3e-3, warmupSteps: 5 },
  grpo: { steps: 2, promptsPerStep: 2, groupSize: 2, maxNewTokens: 24, learningRate: 1e-3 },
  evaluation: { itemsPerSplit: 5, samplesPerItem: 2, kValues: [1, 2], maxNewTokens: 24 },
  seeds: [1],
});

export function testVariant(): TaskVariant {
  const variant = findPreset(TEST_VARIANT_SLUG);
  if (!variant) throw new Error(`no preset ${TEST_VARIANT_SLUG}`);
  return variant;
}

export interface ReceivedFrame {
  connection: number;
  raw: string;
  message: RunnerToServerMessage;
}

export interface SentFrame {
  connection: number;
  message: ServerToRunner;
}

export interface Upload {
  url: string;
  authorization: string | undefined;
  declaredSha256: string | undefined;
  sha256: string;
  bytes: number;
}

export interface TestGatewayOptions {
  heartbeatIntervalMs?: number;
  /** Ack progress and logs as they are stored (default true). */
  ack?: boolean | (() => boolean);
  /**
   * What to do with a `finished`/`failed` (default "record"): record it (the first copy)
   * and answer `result-recorded`, as the real gateway does for every copy; "drop" the
   * connection before answering (a lost answer); "refuse" it as a stale attempt; or
   * "ignore" it (an answer that is slow, or lost on the wire: the test answers by hand).
   */
  results?: (message: ResultFrame, connection: number) => "record" | "drop" | "refuse" | "ignore";
  /** Items per evaluation-set chunk: small, so the runner must reassemble. */
  chunkSize?: number;
  port?: number;
}

const key = (ref: AttemptRef) => `${ref.runId}#${ref.attempt}`;
type ResultFrame = Extract<RunnerToServerMessage, { type: "finished" | "failed" }>;

export async function startTestGateway(options: TestGatewayOptions = {}) {
  const frames: ReceivedFrame[] = [];
  const sent: SentFrame[] = [];
  const uploads: Upload[] = [];
  const closes: number[] = [];
  /** progress stored once per seq, per attempt */
  const stored = new Map<string, Map<number, RunnerToServerMessage>>();
  const logs = new Map<string, Map<number, string>>();
  const completions = new Map<string, Set<string>>();
  /** Results recorded once per attempt (re-sends are answered, not recorded again). */
  const results = new Map<string, ResultFrame>();
  const evaluationTotals = new Map<string, { items: number; samples: number }>();
  const variant = resolveVariant(testVariant());
  const items = localEvaluationItems(variant, createRng(99));
  let current: WebSocket | undefined;
  let connections = 0;
  const connectionOf = new WeakMap<WebSocket, number>();

  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "PUT" && /^\/api\/runs\/[^/]+\/attempts\/\d+\/artifacts\/(origin|final)$/.test(req.url ?? "")) {
        const body = Buffer.concat(chunks);
        const sha256 = createHash("sha256").update(body).digest("hex");
        uploads.push({ url: req.url ?? "", authorization: header(req, "authorization"), declaredSha256: header(req, "x-content-sha256"), sha256, bytes: body.length });
        res.writeHead(sha256 === header(req, "x-content-sha256") ? 201 : 400).end();
        return;
      }
      if (req.method === "POST" && req.url === "/api/runners/register") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { token?: unknown };
        if (body.token !== TEST_REGISTRATION_TOKEN) return void res.writeHead(401).end(JSON.stringify({ error: "unknown registration token" }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ runnerId: TEST_RUNNER_ID, credential: TEST_CREDENTIAL }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  const wss = new WebSocketServer({
    server: http,
    path: RUNNER_SOCKET_PATH,
    maxPayload: MAX_FRAME_BYTES,
    verifyClient: (info, done) => (info.req.headers.authorization === `Bearer ${TEST_CREDENTIAL}` ? done(true) : done(false, 401, "Unauthorized")),
  });

  const send = (socket: WebSocket | undefined, message: ServerToRunner) => {
    if (!socket) return;
    sent.push({ connection: connectionOf.get(socket) ?? 0, message });
    socket.send(encodeServerMessage(message));
  };
  const shouldAck = () => (typeof options.ack === "function" ? options.ack() : options.ack !== false);

  wss.on("connection", (socket) => {
    connections += 1;
    const connection = connections;
    connectionOf.set(socket, connection);
    current = socket;
    socket.on("close", (code) => closes.push(code));
    socket.on("message", (data: Buffer) => {
      const raw = data.toString("utf8");
      const decoded = decodeRunnerMessage(raw);
      if (!decoded.ok) throw new Error(`the runner sent an invalid frame: ${decoded.error}`);
      const message = decoded.message;
      frames.push({ connection, raw, message });
      switch (message.type) {
        case "hello":
          send(socket, {
            type: "welcome",
            protocolVersion: PROTOCOL_VERSION,
            serverVersion: "test",
            connectionId: `c${connection}`,
            heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
          });
          return;
        case "progress": {
          const perAttempt = stored.get(key(message)) ?? new Map<number, RunnerToServerMessage>();
          stored.set(key(message), perAttempt);
          if (!perAttempt.has(message.seq)) perAttempt.set(message.seq, message);
          if (shouldAck()) send(socket, { type: "ack", ...refOf(message), seq: contiguous(perAttempt), logOffset: logEnd(logs.get(key(message))) });
          return;
        }
        case "log": {
          const perAttempt = logs.get(key(message)) ?? new Map<number, string>();
          logs.set(key(message), perAttempt);
          perAttempt.set(message.offset, message.text);
          const progress = stored.get(key(message));
          if (shouldAck()) send(socket, { type: "ack", ...refOf(message), seq: progress ? contiguous(progress) : 0, logOffset: logEnd(perAttempt) });
          return;
        }
        case "evaluation-request": {
          const ref = refOf(message);
          void items({ phase: message.model === "base" ? "base" : "final", split: message.split, count: quickRecipe.evaluation.itemsPerSplit ?? 5 }).then((all) => {
            evaluationTotals.set(`${key(ref)}:${message.model}:${message.split}`, { items: all.length, samples: quickRecipe.evaluation.samplesPerItem });
            const size = options.chunkSize ?? 2;
            for (let offset = 0; offset < all.length; offset += size)
              send(socket, {
                type: "evaluation-set",
                ...ref,
                model: message.model,
                split: message.split,
                samplesPerItem: quickRecipe.evaluation.samplesPerItem,
                offset,
                total: all.length,
                items: all.slice(offset, offset + size),
              });
          });
          return;
        }
        case "completions": {
          const splitKey = `${key(message)}:${message.model}:${message.split}`;
          const seen = completions.get(splitKey) ?? new Set<string>();
          completions.set(splitKey, seen);
          for (const entry of message.entries) seen.add(`${entry.itemId}/${entry.sample}`);
          const expected = evaluationTotals.get(splitKey);
          if (expected && seen.size === expected.items * (expected.samples + 1))
            send(socket, { type: "graded", ...refOf(message), model: message.model, split: message.split });
          return;
        }
        case "finished":
        case "failed": {
          const verdict = options.results?.(message, connection) ?? "record";
          if (verdict === "drop") {
            socket.terminate();
            return;
          }
          if (verdict === "ignore") return;
          if (verdict === "refuse") {
            send(socket, { type: "error", reason: "stale_attempt", message: `Attempt ${message.attempt} of run ${message.runId} is no longer current.`, ...refOf(message) });
            return;
          }
          if (!results.has(key(message))) results.set(key(message), message);
          send(socket, { type: "result-recorded", ...refOf(message), outcome: message.type === "finished" ? "succeeded" : "failed" });
          return;
        }
        default:
          return;
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;

  return {
    port,
    server: `http://127.0.0.1:${port}`,
    url: new URL(`ws://127.0.0.1:${port}${RUNNER_SOCKET_PATH}`),
    frames,
    sent,
    uploads,
    closes,
    stored,
    logs,
    results,
    get connections() {
      return connections;
    },
    ofType<T extends RunnerToServerMessage["type"]>(type: T): Array<Extract<RunnerToServerMessage, { type: T }>> {
      return frames.filter((f) => f.message.type === type).map((f) => f.message as Extract<RunnerToServerMessage, { type: T }>);
    },
    send: (message: ServerToRunner) => send(current, message),
    assign(ref: AttemptRef, overrides: { variant?: Record<string, unknown>; recipe?: Record<string, unknown>; seed?: number } = {}) {
      send(current, {
        type: "assign",
        ...ref,
        variant: overrides.variant ?? (testVariant() as unknown as Record<string, unknown>),
        recipe: overrides.recipe ?? (quickRecipe as unknown as Record<string, unknown>),
        seed: overrides.seed ?? 1,
        attemptToken: `at_${ref.runId}_${ref.attempt}`,
        resumeAfterSeq: 0,
      });
    },
    /** Cuts the connection without a close frame, as a crashed server or a dead network would. */
    dropConnection() {
      current?.terminate();
      current = undefined;
    },
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
export type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function refOf(ref: AttemptRef): AttemptRef {
  return { runId: ref.runId, attempt: ref.attempt };
}

/** The highest seq with every seq below it stored: what the gateway acks. */
export function contiguous(perAttempt: Map<number, unknown>): number {
  let seq = 0;
  while (perAttempt.has(seq + 1)) seq += 1;
  return seq;
}

function logEnd(perAttempt: Map<number, string> | undefined): number | undefined {
  if (!perAttempt) return undefined;
  let end = 0;
  for (let text = perAttempt.get(end); text !== undefined && text !== ""; text = perAttempt.get(end)) end += Buffer.byteLength(text);
  return end;
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
