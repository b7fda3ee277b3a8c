// Runner ⇄ server messages: one zod discriminated union per direction, validated on
// receive and on send. Types are inferred from the schemas, never written by hand.
//
// Compatibility rule: the hello's `type` + `protocolVersion` and the whole `error` frame
// are the version-independent part of the protocol. A server must be able to read the
// version of a runner from any era and answer with an error frame that runner can
// print, so these two shapes never change; everything else may change with a bump of
// PROTOCOL_VERSION.
import { z } from "zod";

/**
 * Bumped on any incompatible change to the messages below; checked in the hello handshake.
 * 2: the server answers `finished`/`failed` with `result-recorded`, and runners wait for it.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Largest frame either side accepts, in bytes. Frames are small JSON control messages;
 * the big payloads (evaluation sets and completions) are split into chunks that each
 * fit, and checkpoints go over HTTP. A small cap keeps one misbehaving runner from
 * making the server buffer arbitrary data (see SECURITY.md).
 */
export const MAX_FRAME_BYTES = 64 * 1024;

/** The path on the web server where runners open their WebSocket. */
export const RUNNER_SOCKET_PATH = "/api/runner";

/** Header carrying the runner credential at the WebSocket upgrade: `Authorization: Bearer <credential>`. */
export const RUNNER_AUTH_SCHEME = "Bearer";

/**
 * WebSocket close codes used by the gateway. 1000–1015 are the standard codes
 * (RFC 6455 §7.4.1); 4000–4999 are ours (reserved by the RFC for applications) and
 * mean "refused: do not simply retry" — the runner treats them as fatal.
 */
export const CLOSE_CODES = {
  /** Clean shutdown by either side (Ctrl-C on the runner). */
  normal: 1000,
  /** The server is restarting or stopping; the runner reconnects with backoff. */
  goingAway: 1001,
  /** A frame that is not valid JSON or does not match the schema. */
  invalidFrame: 1008,
  /** A frame larger than MAX_FRAME_BYTES (sent by `ws` itself). */
  frameTooLarge: 1009,
  /** The runner sends faster than the per-connection rate limit allows; it may reconnect later. */
  rateLimited: 1013,
  /** The runner speaks another PROTOCOL_VERSION; it must be upgraded. */
  protocolMismatch: 4000,
  /** The first frame was not a hello. */
  helloExpected: 4001,
  /** No hello arrived in time after the socket opened. */
  helloTimeout: 4002,
  /** The runner was revoked by its owner while connected. */
  revoked: 4003,
  /** Another connection authenticated with the same credential replaced this one. */
  replaced: 4004,
} as const;

/** Close codes after which reconnecting cannot help: the runner exits with the server's message. */
export function isFatalCloseCode(code: number): boolean {
  return code >= 4000 && code <= 4999 && code !== CLOSE_CODES.replaced;
}

// ── shared pieces ──────────────────────────────────────────────────────────────

export const backendNameSchema = z.enum(["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"]);
export type BackendName = z.infer<typeof backendNameSchema>;

const id = z.string().uuid();
const attempt = z.number().int().min(1).max(1000);
const sentence = z.string().min(1).max(2000);
/** A token of a task family's vocabulary, as the tokenizer spells it. */
const token = z.string().min(1).max(32);
const tokens = (max: number) => z.array(token).max(max);

export const runnerCapabilitiesSchema = z.object({
  /** The TensorFlow.js backend the runner trains with. */
  backend: backendNameSchema,
  /** Human-readable device, e.g. a CPU model or a GPU name. */
  device: z.string().min(1).max(200),
  /** Logical CPU cores available to the runner. */
  cores: z.number().int().min(1).max(4096),
  /** Total memory of the machine, in bytes. */
  memoryBytes: z.number().int().min(0).max(2 ** 50),
  /**
   * A timed matmul on the chosen backend (`doctor` runs the same one): proof of what the
   * device really does, since tfjs-node-gpu falls back to the CPU silently without cuDNN.
   */
  matmul: z
    .object({
      gflops: z.number().min(0).max(1e7),
      /** Where the product ran, e.g. "GPU (CUDA)", "OpenBLAS", "wasm SIMD". */
      path: z.string().min(1).max(100),
    })
    .optional(),
});
export type RunnerCapabilities = z.infer<typeof runnerCapabilitiesSchema>;

/** One attempt of one run: every run-scoped message carries it, so stale attempts are recognisable. */
export const attemptRefSchema = z.object({ runId: id, attempt });
export type AttemptRef = z.infer<typeof attemptRefSchema>;

/** The run states a runner reports itself in (the server owns queued/assigned/graded/…). */
export const runnerPhaseSchema = z.enum(["pretraining", "evaluating_base", "grpo", "evaluating_final"]);
export type RunnerPhase = z.infer<typeof runnerPhaseSchema>;

/** Which model an evaluation set is for: the pretrained ("base") or the GRPO-trained one. */
export const evaluatedModelSchema = z.enum(["base", "grpo"]);
export type EvaluatedModelName = z.infer<typeof evaluatedModelSchema>;

const splitName = z.string().min(1).max(64);

// ── runner → server ────────────────────────────────────────────────────────────

/** The version-independent part of a hello: read before the full schema is applied. */
export const helloVersionSchema = z.object({
  type: z.literal("hello"),
  protocolVersion: z.number().int().min(0),
});

export const helloMessageSchema = helloVersionSchema.extend({
  /** The runner's own package version, for display and debugging. */
  runnerVersion: z.string().min(1).max(64),
  /** A display name chosen by the runner's owner (`--name`). */
  name: z.string().min(1).max(100).optional(),
  capabilities: runnerCapabilitiesSchema,
  /** Attempts this runner is still executing (after a reconnect): the server keeps their leases. */
  activeAttempts: z.array(attemptRefSchema).max(16).default([]),
});
export type HelloMessage = z.input<typeof helloMessageSchema>;

/** The runner can take `slots` more runs now. */
export const readyMessageSchema = z.object({ type: z.literal("ready"), slots: z.number().int().min(1).max(16) });

/** The runner started the assigned attempt (its child process is up). */
export const acceptedMessageSchema = attemptRefSchema.extend({ type: z.literal("accepted") });

/**
 * Renews the leases of the attempts the runner is executing. Sent by the daemon's own
 * event loop (never the training process), so a busy training step cannot starve it.
 */
export const heartbeatMessageSchema = z.object({
  type: z.literal("heartbeat"),
  attempts: z.array(attemptRefSchema).max(16),
});

/**
 * Self-reported training progress. `seq` counts from 1 per attempt; the server stores
 * each seq once and acks the highest, so the runner can re-send after a reconnect.
 * A `phase` different from the run's current one moves the run to that state.
 */
export const progressMessageSchema = attemptRefSchema.extend({
  type: z.literal("progress"),
  seq: z.number().int().min(1).max(10_000_000),
  phase: runnerPhaseSchema,
  step: z.number().int().min(0).max(10_000_000),
  metrics: z.record(z.string().min(1).max(64), z.number()).refine((m) => Object.keys(m).length <= 32, {
    message: "at most 32 metrics per progress frame",
  }),
});

/** A piece of the job's log, placed by byte offset so a re-sent chunk is stored once. */
export const logMessageSchema = attemptRefSchema.extend({
  type: z.literal("log"),
  offset: z.number().int().min(0).max(2 ** 40),
  text: z.string().max(16 * 1024),
});

/** The runner reached an evaluation phase and asks for the items of one split. */
export const evaluationRequestMessageSchema = attemptRefSchema.extend({
  type: z.literal("evaluation-request"),
  model: evaluatedModelSchema,
  split: splitName,
});

/**
 * Completions for items of an evaluation set, chunked to fit a frame. One entry is one
 * completion: `sample` 0 is the greedy one, 1..n the sampled ones. The server grades
 * entries as they arrive, ignores duplicates and entries for items it never sent.
 */
export const completionsMessageSchema = attemptRefSchema.extend({
  type: z.literal("completions"),
  model: evaluatedModelSchema,
  split: splitName,
  entries: z
    .array(
      z.object({
        itemId: z.string().min(1).max(64),
        sample: z.number().int().min(0).max(512),
        tokens: tokens(512),
      }),
    )
    .min(1)
    .max(2000),
});

/**
 * The attempt finished every phase. Self-reported numbers are shown as such, never ranked.
 * Like `failed`, the runner keeps it (re-sending it after a reconnect) until the server
 * answers `result-recorded`, or refuses it with a `stale_attempt`/`not_your_run` error.
 */
export const finishedMessageSchema = attemptRefSchema.extend({
  type: z.literal("finished"),
  engineVersion: z.string().min(1).max(64),
  /** sha256 (hex) of the checkpoints uploaded over HTTP with the attempt token. */
  checkpoints: z.object({ origin: z.string().regex(/^[0-9a-f]{64}$/).optional(), final: z.string().regex(/^[0-9a-f]{64}$/).optional() }),
  selfReported: z.record(z.string().min(1).max(64), z.number()).refine((m) => Object.keys(m).length <= 64, {
    message: "at most 64 self-reported numbers",
  }),
});

/** The attempt failed. `retryable`: an infrastructure fault (worth another attempt), not a bad run. */
export const failedMessageSchema = attemptRefSchema.extend({
  type: z.literal("failed"),
  retryable: z.boolean(),
  error: sentence,
});

export const runnerToServerSchema = z.discriminatedUnion("type", [
  helloMessageSchema,
  readyMessageSchema,
  acceptedMessageSchema,
  heartbeatMessageSchema,
  progressMessageSchema,
  logMessageSchema,
  evaluationRequestMessageSchema,
  completionsMessageSchema,
  finishedMessageSchema,
  failedMessageSchema,
]);
export type RunnerToServer = z.input<typeof runnerToServerSchema>;
export type RunnerToServerMessage = z.output<typeof runnerToServerSchema>;

// ── server → runner ────────────────────────────────────────────────────────────

export const welcomeMessageSchema = z.object({
  type: z.literal("welcome"),
  protocolVersion: z.number().int().min(0),
  serverVersion: z.string().min(1).max(64),
  /** Identifies this connection in server logs; a new one per connection. */
  connectionId: z.string().min(1).max(64),
  runnerId: id.optional(),
  /** How often the runner must send a heartbeat; a lease lasts a few of these. */
  heartbeatIntervalMs: z.number().int().min(100).max(600_000).default(10_000),
});
export type WelcomeMessage = z.input<typeof welcomeMessageSchema>;

/**
 * A run for this runner. The variant and recipe are the exact versions the run was
 * submitted with (validated again by the runner with the same schemas). The attempt
 * token authorises this attempt's HTTP uploads only. `resumeAfterSeq`: progress the
 * server already has (non-zero when a lease was kept across a reconnect).
 */
export const assignMessageSchema = attemptRefSchema.extend({
  type: z.literal("assign"),
  variant: z.record(z.string(), z.unknown()),
  recipe: z.record(z.string(), z.unknown()),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  attemptToken: z.string().min(16).max(200),
  resumeAfterSeq: z.number().int().min(0).default(0),
});

/** Items of an evaluated split, prompts only, chunked: `offset` of `total`. */
export const evaluationSetMessageSchema = attemptRefSchema.extend({
  type: z.literal("evaluation-set"),
  model: evaluatedModelSchema,
  split: splitName,
  /** Samples per item the server expects besides the greedy completion. */
  samplesPerItem: z.number().int().min(1).max(512),
  offset: z.number().int().min(0).max(100_000),
  total: z.number().int().min(1).max(100_000),
  items: z.array(z.object({ id: z.string().min(1).max(64), prompt: tokens(1024) })).min(1).max(1000),
});

/** The server has graded one split of one model: the runner may drop its copy of the completions. */
export const gradedMessageSchema = attemptRefSchema.extend({
  type: z.literal("graded"),
  model: evaluatedModelSchema,
  split: splitName,
});

/** Progress stored up to `seq` and logs up to `logOffset`: the runner may drop its buffers before them. */
export const ackMessageSchema = attemptRefSchema.extend({
  type: z.literal("ack"),
  seq: z.number().int().min(0),
  logOffset: z.number().int().min(0).optional(),
});

/**
 * The server has durably recorded the attempt's end (its terminal transition committed):
 * the runner may forget the attempt. Sent for every `finished`/`failed` of a current
 * attempt, and again for a re-sent one it had already recorded, so a runner whose
 * connection dropped before this arrived learns it on the next connection. `outcome` is
 * what the server recorded: a `finished` whose completions were not all graded is
 * recorded as `failed`.
 *
 * A message of its own rather than a field on `ack`: acks are watermarks (progress up
 * to `seq`, logs up to an offset) sent for every progress frame and at each welcome, so
 * an ack that crossed the result on the wire would be indistinguishable from the answer
 * to it. This one names one fact that can only mean "your result is stored".
 */
export const resultRecordedMessageSchema = attemptRefSchema.extend({
  type: z.literal("result-recorded"),
  outcome: z.enum(["succeeded", "failed"]),
});

/** Stop this attempt (cancelled by a user, or the lease was lost); the runner kills the job. */
export const cancelMessageSchema = attemptRefSchema.extend({
  type: z.literal("cancel"),
  reason: sentence,
});

/** Finish the current jobs, take no new ones (server shutting down for maintenance). */
export const drainMessageSchema = z.object({ type: z.literal("drain"), reason: sentence });

/** Named reasons for refusing or closing a runner connection, or refusing one message. */
export const refusalReasonSchema = z.enum([
  "protocol_mismatch",
  "invalid_frame",
  "hello_expected",
  "hello_timeout",
  "unauthorized",
  "revoked",
  "rate_limited",
  "stale_attempt",
  "not_your_run",
]);
export type RefusalReason = z.infer<typeof refusalReasonSchema>;

export const errorMessageSchema = z.object({
  type: z.literal("error"),
  reason: refusalReasonSchema,
  /** A sentence for a person: the runner prints it as is. */
  message: z.string().min(1).max(1000),
  /** Set when the error is about one attempt (e.g. a message for a stale attempt). */
  runId: id.optional(),
  attempt: attempt.optional(),
});
export type ErrorMessage = z.infer<typeof errorMessageSchema>;

export const serverToRunnerSchema = z.discriminatedUnion("type", [
  welcomeMessageSchema,
  assignMessageSchema,
  evaluationSetMessageSchema,
  gradedMessageSchema,
  ackMessageSchema,
  resultRecordedMessageSchema,
  cancelMessageSchema,
  drainMessageSchema,
  errorMessageSchema,
]);
export type ServerToRunner = z.input<typeof serverToRunnerSchema>;
export type ServerToRunnerMessage = z.output<typeof serverToRunnerSchema>;

// ── encoding ───────────────────────────────────────────────────────────────────

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** Thrown when this side is about to send a frame that breaks the protocol: a bug, not bad input. */
export class ProtocolEncodeError extends Error {
  override name = "ProtocolEncodeError";
}

// This package also runs in browsers (forms), so no Node Buffer here.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function exceedsFrameLimit(text: string): boolean {
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes: skip the encode when the bounds decide.
  if (text.length > MAX_FRAME_BYTES) return true;
  if (text.length * 3 <= MAX_FRAME_BYTES) return false;
  return utf8Encoder.encode(text).length > MAX_FRAME_BYTES;
}

/** Parses one frame: size limit, JSON, then the schema. Never throws. */
export function decodeFrame<S extends z.ZodType>(schema: S, raw: string | Uint8Array): DecodeResult<z.infer<S>> {
  const tooLarge = typeof raw === "string" ? exceedsFrameLimit(raw) : raw.byteLength > MAX_FRAME_BYTES;
  if (tooLarge) {
    return { ok: false, error: `frame is larger than ${MAX_FRAME_BYTES} bytes` };
  }
  const text = typeof raw === "string" ? raw : utf8Decoder.decode(raw);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "frame is not valid JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, error: `frame does not match the protocol${where}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, message: parsed.data };
}

/** Validates and serialises one frame; throws ProtocolEncodeError on a frame that must not be sent. */
export function encodeFrame<S extends z.ZodType>(schema: S, message: z.input<S>): string {
  const parsed = schema.safeParse(message);
  if (!parsed.success) {
    throw new ProtocolEncodeError(`refusing to send an invalid frame: ${parsed.error.message}`);
  }
  const text = JSON.stringify(parsed.data);
  if (exceedsFrameLimit(text)) {
    throw new ProtocolEncodeError(`refusing to send a frame larger than ${MAX_FRAME_BYTES} bytes`);
  }
  return text;
}

export const decodeRunnerMessage = (raw: string | Uint8Array): DecodeResult<RunnerToServerMessage> =>
  decodeFrame(runnerToServerSchema, raw);
export const decodeServerMessage = (raw: string | Uint8Array): DecodeResult<ServerToRunnerMessage> =>
  decodeFrame(serverToRunnerSchema, raw);
export const encodeRunnerMessage = (message: RunnerToServer): string => encodeFrame(runnerToServerSchema, message);
export const encodeServerMessage = (message: ServerToRunner): string => encodeFrame(serverToRunnerSchema, message);
