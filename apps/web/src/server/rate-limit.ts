// Request limits on what an anonymous or untrusted client can repeat cheaply while it costs
// us a lot: password checks (scrypt), account creation, registration-token exchanges,
// runner handshakes (a credential lookup each) and run submissions (queue rows, compute).
//
// The counters are rate-limiter-flexible's in-memory limiters: one fixed window of
// `points` requests per `durationSeconds` for each key (a client address, an account for
// submissions, or the email a sign-in names). In memory means per server instance: N instances behind one database
// let N times the limit through, which still bounds a flood; a shared store
// (RateLimiterPostgres) would be the step up if that ever matters.
//
// Each limit is set by an environment variable `TRANSCEND_RATE_LIMIT_<NAME>` holding
// `<points>/<seconds>` (e.g. `5/60`) or `off`, so tests and load scripts can shrink or lift it.
// The registry lives on globalThis because Next bundles route handlers apart from the
// custom server: both must count in the same limiter.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { TRPCError } from "@trpc/server";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { z } from "zod";

export const LIMIT_NAMES = ["signIn", "signInAccount", "signUp", "runnerRegister", "runnerHandshake", "submit"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

export interface LimitSetting {
  points: number;
  durationSeconds: number;
}

/**
 * Generous for people, tight for scripts. Sign-in: a person mistyping a password a few
 * times a minute never meets it, a password guesser gets 600 tries an hour per address.
 * Sign-in per account: failed passwords for one email, from any number of addresses — a
 * person who has forgotten theirs tries a handful, credential stuffing from a botnet gets
 * 40 guesses an hour at one account instead of 600 per address.
 * Sign-up and registration: a household or a lab behind one address makes a few accounts
 * and runners an hour, an account or runner farm makes thousands.
 * Handshakes: a runner reconnects with backoff (seconds apart); a lab of runners behind
 * one address still fits in 120 a minute. Submissions: the daily quota bounds the total,
 * this bounds bursts (a script looping on submit).
 */
export const DEFAULT_LIMITS: Record<LimitName, LimitSetting> = {
  signIn: { points: 10, durationSeconds: 60 },
  signInAccount: { points: 10, durationSeconds: 15 * 60 },
  signUp: { points: 20, durationSeconds: 60 * 60 },
  runnerRegister: { points: 30, durationSeconds: 60 * 60 },
  runnerHandshake: { points: 120, durationSeconds: 60 },
  submit: { points: 20, durationSeconds: 60 },
};

const ENV_NAMES: Record<LimitName, string> = {
  signIn: "TRANSCEND_RATE_LIMIT_SIGN_IN",
  signInAccount: "TRANSCEND_RATE_LIMIT_SIGN_IN_ACCOUNT",
  signUp: "TRANSCEND_RATE_LIMIT_SIGN_UP",
  runnerRegister: "TRANSCEND_RATE_LIMIT_RUNNER_REGISTER",
  runnerHandshake: "TRANSCEND_RATE_LIMIT_RUNNER_HANDSHAKE",
  submit: "TRANSCEND_RATE_LIMIT_SUBMIT",
};

const settingSchema = z.union([
  z.literal("off"),
  z
    .string()
    .regex(/^\d{1,7}\/\d{1,7}$/, "expected <points>/<seconds>, e.g. 10/60, or off")
    .transform((text) => {
      const [points, seconds] = text.split("/").map(Number);
      return { points: points ?? 0, durationSeconds: seconds ?? 0 };
    })
    .refine((s) => s.points >= 1 && s.durationSeconds >= 1, "points and seconds must be at least 1"),
]);

/** `null`: the limit is off. */
export type LimitSettings = Record<LimitName, LimitSetting | null>;

/** Reads the limits from the environment; a malformed value fails with the variable's name. */
export function readLimitSettings(source: Record<string, string | undefined> = process.env): LimitSettings {
  const settings = { ...DEFAULT_LIMITS } as LimitSettings;
  for (const name of LIMIT_NAMES) {
    const raw = source[ENV_NAMES[name]]?.trim();
    if (raw === undefined || raw === "") continue;
    const parsed = settingSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${ENV_NAMES[name]}=${raw}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    settings[name] = parsed.data === "off" ? null : parsed.data;
  }
  return settings;
}

interface Registry {
  settings: LimitSettings;
  limiters: Map<LimitName, RateLimiterMemory>;
  trustProxy: boolean;
}

const REGISTRY_KEY = Symbol.for("transcend.rateLimits");
type GlobalWithRegistry = typeof globalThis & { [REGISTRY_KEY]?: Registry };

function registry(): Registry {
  const holder = globalThis as GlobalWithRegistry;
  holder[REGISTRY_KEY] ??= buildRegistry(readLimitSettings(), process.env.TRANSCEND_TRUST_PROXY === "1");
  return holder[REGISTRY_KEY];
}

function buildRegistry(settings: LimitSettings, trustProxy: boolean): Registry {
  const limiters = new Map<LimitName, RateLimiterMemory>();
  for (const name of LIMIT_NAMES) {
    const setting = settings[name];
    if (setting) limiters.set(name, new RateLimiterMemory({ keyPrefix: name, points: setting.points, duration: setting.durationSeconds }));
  }
  return { settings, limiters, trustProxy };
}

/**
 * Replaces every limiter (and forgets every count): tests set small limits with it, and
 * reset between cases. Limits not given keep their environment (or default) value.
 */
export function configureRateLimits(overrides: Partial<LimitSettings> = {}, options: { trustProxy?: boolean } = {}): void {
  const holder = globalThis as GlobalWithRegistry;
  holder[REGISTRY_KEY] = buildRegistry({ ...readLimitSettings(), ...overrides }, options.trustProxy ?? process.env.TRANSCEND_TRUST_PROXY === "1");
}

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Counts one request of `key` against limit `name`. */
export async function takeToken(name: LimitName, key: string): Promise<LimitDecision> {
  const limiter = registry().limiters.get(name);
  if (!limiter) return { allowed: true };
  try {
    await limiter.consume(key);
    return { allowed: true };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
    }
    throw rejection;
  }
}

/** Gives back a point taken for `key` (the request it counted turned out not to matter). */
export async function refundToken(name: LimitName, key: string): Promise<void> {
  await registry().limiters.get(name)?.reward(key, 1);
}

/** Forgets every point `key` has spent in its window. */
export async function forgetKey(name: LimitName, key: string): Promise<void> {
  await registry().limiters.get(name)?.delete(key);
}

// ── who is asking ────────────────────────────────────────────────────────────────

/**
 * The address a limit counts against. The socket's peer, unless TRANSCEND_TRUST_PROXY=1
 * says a reverse proxy in front appends the client to X-Forwarded-For (then its last
 * entry: earlier ones are whatever the client wrote). IPv6 clients are counted by their
 * /64, since one host holds a whole /64 and could otherwise rotate addresses per request.
 */
export function clientAddress(request: Pick<IncomingMessage, "headers" | "socket">): string {
  return addressKey(clientIp(request));
}

/** The client's address as `clientAddress` finds it, before IPv6 is grouped by /64. */
function clientIp(request: Pick<IncomingMessage, "headers" | "socket">): string {
  if (registry().trustProxy) {
    const forwarded = request.headers["x-forwarded-for"];
    const last = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? "")).split(",").pop()?.trim();
    if (last && isIP(last)) return last;
  }
  return request.socket.remoteAddress ?? "unknown";
}

/**
 * Where the server tells better-auth (`advanced.ipAddress` in auth.ts) who is asking, so its
 * own limiter counts the address ours does. better-auth sees only a request's headers, and
 * X-Forwarded-For, its default, is whatever a directly connected client wrote.
 */
export const CLIENT_ADDRESS_HEADER = "x-transcend-client-address";

/** Writes the client's address into CLIENT_ADDRESS_HEADER, replacing any value the client sent. */
export function stampClientAddress(request: Pick<IncomingMessage, "headers" | "socket">): void {
  const address = clientIp(request);
  if (isIP(address)) request.headers[CLIENT_ADDRESS_HEADER] = address;
  else delete request.headers[CLIENT_ADDRESS_HEADER];
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIpv6(address: string): string[] {
  const [head = "", tail] = address.split("%", 1)[0]?.split("::") ?? [""];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => "0");
  return [...left, ...(tail === undefined ? [] : zeros), ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""));
}

/**
 * The key a sign-in counts against for the email it names, whether or not an account has
 * it: the same email as better-auth looks it up (trimmed, lower case), hashed, so the
 * limiter holds a fixed 64 characters per key and no addresses.
 */
export function emailKey(email: string): string {
  return createHash("sha256").update(email.trim().toLowerCase()).digest("hex");
}

// ── HTTP (the custom server, before Next) ─────────────────────────────────────────

/** Which limit a plain HTTP request falls under, if any; only POSTs change anything. */
export function limitForRequest(method: string | undefined, pathname: string): LimitName | undefined {
  if (method !== "POST") return undefined;
  if (pathname.startsWith("/api/auth/sign-in/")) return "signIn";
  if (pathname.startsWith("/api/auth/sign-up/")) return "signUp";
  if (pathname === "/api/runners/register") return "runnerRegister";
  return undefined;
}

/**
 * Answers 429 with Retry-After (seconds), the body in the form of the API's other errors;
 * `message` too, which is where better-auth's client (the sign-in form) looks for the reason.
 */
export function sendTooManyRequests(response: ServerResponse, retryAfterSeconds: number): void {
  const reason = `Too many requests; try again in ${retryAfterSeconds} s.`;
  const body = JSON.stringify({ error: reason, message: reason, code: "rate_limited" });
  response.writeHead(429, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "retry-after": String(retryAfterSeconds),
    "cache-control": "no-store",
  });
  response.end(body);
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Wraps the server's request listener: requests under a limit are counted by client
 * address and refused with 429 once over it; all others pass straight through. Each
 * request leaves with the client's address in CLIENT_ADDRESS_HEADER.
 */
export function withRequestLimits(listener: RequestListener): RequestListener {
  return (request, response) => {
    // Every request, whatever its path: better-auth answers /api/auth/* however it is
    // spelt, and the tRPC handler hands it the request's headers too.
    stampClientAddress(request);
    const name = limitForRequest(request.method, (request.url ?? "/").split("?", 1)[0] ?? "/");
    if (name === undefined) return listener(request, response);
    takeToken(name, clientAddress(request)).then(
      (decision) => {
        if (decision.allowed) return listener(request, response);
        // The body is not read; closing after the answer keeps it from being parsed as the next request.
        response.shouldKeepAlive = false;
        sendTooManyRequests(response, decision.retryAfterSeconds);
      },
      () => listener(request, response),
    );
  };
}

/** The raw answer to an upgrade over its limit, written before any WebSocket exists. */
export function tooManyUpgradesResponse(retryAfterSeconds: number): string {
  const body = `Too many connection attempts; try again in ${retryAfterSeconds} s.\n`;
  return (
    `HTTP/1.1 429 Too Many Requests\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Retry-After: ${retryAfterSeconds}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

// ── tRPC ─────────────────────────────────────────────────────────────────────────

/** The cause of a TOO_MANY_REQUESTS error: the route handler copies it into Retry-After. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests; try again in ${retryAfterSeconds} s.`);
    this.name = "RateLimitedError";
  }
}

/** Throws TOO_MANY_REQUESTS (cause: RateLimitedError) once `key` is over limit `name`. */
export async function enforceLimit(name: LimitName, key: string): Promise<void> {
  const decision = await takeToken(name, key);
  if (!decision.allowed) {
    const cause = new RateLimitedError(decision.retryAfterSeconds);
    throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: cause.message, cause });
  }
}

/** The longest wait any of a response's errors asks for, for its Retry-After header. */
export function retryAfterOf(errors: readonly TRPCError[]): number | undefined {
  let longest: number | undefined;
  for (const error of errors) {
    if (error.code === "TOO_MANY_REQUESTS" && error.cause instanceof RateLimitedError) {
      longest = Math.max(longest ?? 0, error.cause.retryAfterSeconds);
    }
  }
  return longest;
}

// ── runner sockets ───────────────────────────────────────────────────────────────

export interface FrameLimits {
  /** Sustained frames per second one runner connection may send… */
  messagesPerSecond: number;
  /** …after a burst of this many. */
  messageBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
}

/**
 * An honest runner sends a heartbeat every few seconds and progress a few times a second;
 * its biggest bursts are an evaluation split's completions (tens of frames of up to 64 KiB)
 * and the outbox it re-sends after a reconnect. The bursts below hold all of that; a
 * sustained flood past the rates costs us JSON parsing and validation for nothing.
 */
export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  messagesPerSecond: 200,
  messageBurst: 2_000,
  // A split's completions go out at once: up to the gateway's 256 pending frames of 64 KiB.
  bytesPerSecond: 4 * 1024 * 1024,
  byteBurst: 32 * 1024 * 1024,
};

/**
 * Two token buckets (frames, bytes) of one connection. Kept in the connection rather than
 * in rate-limiter-flexible: it is per socket, lives and dies with it, and is checked on
 * every frame, where a plain counter costs nothing.
 */
export class FrameBudget {
  private messages: number;
  private bytes: number;
  private last: number;

  constructor(
    private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.messages = limits.messageBurst;
    this.bytes = limits.byteBurst;
    this.last = now();
  }

  /** Spends one frame of `size` bytes; false when either bucket is empty. */
  take(size: number): boolean {
    const now = this.now();
    const seconds = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    this.messages = Math.min(this.limits.messageBurst, this.messages + seconds * this.limits.messagesPerSecond);
    this.bytes = Math.min(this.limits.byteBurst, this.bytes + seconds * this.limits.bytesPerSecond);
    if (this.messages < 1 || this.bytes < size) return false;
    this.messages -= 1;
    this.bytes -= size;
    return true;
  }
}
