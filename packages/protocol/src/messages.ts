// Runner ⇄ server messages: one zod discriminated union per direction, validated on
// receive and on send. Types are inferred from the schemas, never written by hand.
//
// Compatibility rule: the hello's `type` + `protocolVersion` and the whole `error` frame
// are the version-independent part of the protocol. A server must be able to read the
// version of a runner from any era and answer with an error frame that runner can
// print, so these two shapes never change; everything else may change with a bump of
// PROTOCOL_VERSION.
import { z } from "zod";

/** Bumped on any incompatible change to the messages below; checked in the hello handshake. */
export const PROTOCOL_VERSION = 1;

/**
 * Largest frame either side accepts, in bytes. Frames today are small JSON control
 * messages; evaluation completions (the largest planned frame) stay well below 1 MiB,
 * and a cap keeps one misbehaving runner from making the server buffer arbitrary data.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** The path on the web server where runners open their WebSocket. */
export const RUNNER_SOCKET_PATH = "/api/runner";

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
  /** The runner speaks another PROTOCOL_VERSION; it must be upgraded. */
  protocolMismatch: 4000,
  /** The first frame was not a hello. */
  helloExpected: 4001,
  /** No hello arrived in time after the socket opened. */
  helloTimeout: 4002,
} as const;

/** Close codes after which reconnecting cannot help: the runner exits with the server's message. */
export function isFatalCloseCode(code: number): boolean {
  return code >= 4000 && code <= 4999;
}

// ── shared pieces ──────────────────────────────────────────────────────────────

export const backendNameSchema = z.enum(["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"]);
export type BackendName = z.infer<typeof backendNameSchema>;

export const runnerCapabilitiesSchema = z.object({
  /** The TensorFlow.js backend the runner trains with. */
  backend: backendNameSchema,
  /** Human-readable device, e.g. a CPU model or a GPU name. */
  device: z.string().min(1).max(200),
  /** Logical CPU cores available to the runner. */
  cores: z.number().int().min(1).max(4096),
  /** Total memory of the machine, in bytes. */
  memoryBytes: z.number().int().min(0).max(2 ** 50),
});
export type RunnerCapabilities = z.infer<typeof runnerCapabilitiesSchema>;

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
});
export type HelloMessage = z.infer<typeof helloMessageSchema>;

export const runnerToServerSchema = z.discriminatedUnion("type", [helloMessageSchema]);
export type RunnerToServer = z.infer<typeof runnerToServerSchema>;

// ── server → runner ────────────────────────────────────────────────────────────

export const welcomeMessageSchema = z.object({
  type: z.literal("welcome"),
  protocolVersion: z.number().int().min(0),
  serverVersion: z.string().min(1).max(64),
  /** Identifies this connection in server logs; a new one per connection. */
  connectionId: z.string().min(1).max(64),
});
export type WelcomeMessage = z.infer<typeof welcomeMessageSchema>;

/** Named reasons for refusing or closing a runner connection. */
export const refusalReasonSchema = z.enum([
  "protocol_mismatch",
  "invalid_frame",
  "hello_expected",
  "hello_timeout",
]);
export type RefusalReason = z.infer<typeof refusalReasonSchema>;

export const errorMessageSchema = z.object({
  type: z.literal("error"),
  reason: refusalReasonSchema,
  /** A sentence for a person: the runner prints it as is. */
  message: z.string().min(1).max(1000),
});
export type ErrorMessage = z.infer<typeof errorMessageSchema>;

export const serverToRunnerSchema = z.discriminatedUnion("type", [welcomeMessageSchema, errorMessageSchema]);
export type ServerToRunner = z.infer<typeof serverToRunnerSchema>;

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

export const decodeRunnerMessage = (raw: string | Uint8Array): DecodeResult<RunnerToServer> =>
  decodeFrame(runnerToServerSchema, raw);
export const decodeServerMessage = (raw: string | Uint8Array): DecodeResult<ServerToRunner> =>
  decodeFrame(serverToRunnerSchema, raw);
export const encodeRunnerMessage = (message: RunnerToServer): string => encodeFrame(runnerToServerSchema, message);
export const encodeServerMessage = (message: ServerToRunner): string => encodeFrame(serverToRunnerSchema, message);
