// Accounts: better-auth (email + password) on our own users/sessions/accounts/verifications
// tables through its drizzle adapter, sessions stored in the database. We write no crypto
// of our own: better-auth hashes passwords (scrypt) and signs the session cookie.
// Sign-ins are limited twice: per client address before the request reaches Next (the
// custom server, rate-limit.ts), and per email here, where the body has been parsed.
// Over HTTP only the endpoints the pages use are served, and no answer carries a raw
// session token (the signed cookie is the one credential the browser needs).
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";
import type { Db } from "@transcend/db";
import * as schema from "@transcend/db/schema";
import { apiEnv } from "./api-env";
import { getServerContext } from "./context";
import { CLIENT_ADDRESS_HEADER, emailKey, forgetKey, refundToken, takeToken } from "./rate-limit";

export const PASSWORD_LIMITS = { min: 8, max: 128 } as const;

export interface AuthOptions {
  /** Signs cookies; at least 32 characters. */
  secret: string;
  /** The public URL; undefined: taken from each request. */
  baseURL?: string | undefined;
}

export function createAuth(db: Db, options: AuthOptions) {
  return betterAuth({
    appName: "Transcend",
    secret: options.secret,
    baseURL: options.baseURL,
    basePath: "/api/auth",
    // The page's own origin is the host the browser connected to (a page cannot forge the
    // Host header); behind Next's custom server the request URL's host may be another name
    // for this machine, which better-auth's default (baseURL or request URL) would refuse.
    trustedOrigins: (request) => ownOrigins(request, options.baseURL),
    // Our tables are plural (users, sessions, …) and already follow better-auth's core schema.
    database: drizzleAdapter(db, { provider: "pg", schema, usePlural: true }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: PASSWORD_LIMITS.min,
      maxPasswordLength: PASSWORD_LIMITS.max,
      // Signing up signs in: the next page is the one that asked for an account.
      autoSignIn: true,
    },
    session: {
      expiresIn: 60 * 60 * 24 * 30,
      // Sliding expiry: an active user stays signed in.
      updateAge: 60 * 60 * 24,
    },
    advanced: {
      // better-auth skips its origin check when NODE_ENV=test; tests must see production's.
      disableOriginCheck: false,
      // Its limiter (on in production) and the sessions' recorded address take the client's
      // address from a header. The custom server writes ours there (`clientAddress`: the
      // socket's peer, or X-Forwarded-For's last entry under TRANSCEND_TRUST_PROXY=1),
      // replacing whatever the client sent, so a directly connected client cannot pick the
      // address better-auth counts it under. Its default, X-Forwarded-For itself, is the
      // client's to write, and a chain of several entries left it no address at all.
      // A single value, so no `trustedProxies`; IPv6 grouped by /64 (its default) as ours.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    // No anonymous usage reports leave a self-hosted server.
    telemetry: { enabled: false },
    disabledPaths: [...DISABLED_AUTH_PATHS],
    hooks: { before: beforeAuthEndpoint, after: afterAuthEndpoint },
  });
}

/** The endpoints `lib/auth-client.ts` calls: sign-up, sign-in, sign-out and `useSession`'s lookup. */
export const AUTH_PATHS_IN_USE: readonly string[] = ["/sign-up/email", "/sign-in/email", "/sign-out", "/get-session"];

/**
 * better-auth 1.7.25's other endpoints with a fixed path; `disabledPaths` answers them 404
 * before a body is read or a limiter counts. `/list-sessions` hands every session's raw
 * token to whoever holds one session cookie, and `/revoke-session` takes such a token; the
 * rest serve what no page offers (password change and reset, email verification and change,
 * social sign-in and linked accounts, account deletion). Re-enable one with the page that
 * needs it. Endpoints with a path parameter (`/callback/:id`, `/reset-password/:token`), and
 * any a later release adds, cannot be listed here: `refuseUnusedEndpoints` answers those.
 */
export const DISABLED_AUTH_PATHS: readonly string[] = [
  "/list-sessions",
  "/revoke-session",
  "/revoke-sessions",
  "/revoke-other-sessions",
  "/update-session",
  "/sign-in/social",
  "/link-social",
  "/list-accounts",
  "/unlink-account",
  "/refresh-token",
  "/get-access-token",
  "/account-info",
  "/change-password",
  "/verify-password",
  "/request-password-reset",
  "/reset-password",
  "/send-verification-email",
  "/verify-email",
  "/change-email",
  "/update-user",
  "/delete-user",
  "/delete-user/callback",
  "/ok",
  "/error",
];

/**
 * The allowlist behind `disabledPaths`, by the endpoint the router matched rather than the
 * URL's spelling (the router has matched `//path` as `/path` before, which an exact-string
 * list misses). Only requests over HTTP: the server's own `auth.api` calls are ours.
 */
function refuseUnusedEndpoints(ctx: AuthHookContext): void {
  if (ctx.request === undefined) return;
  if (ctx.path !== undefined && AUTH_PATHS_IN_USE.includes(ctx.path)) return;
  throw new APIError("NOT_FOUND", { message: "Not Found" });
}

/**
 * Sign-up, sign-in and the session lookup put the session's raw token in their JSON for
 * clients that keep it themselves (the bearer and Expo plugins); the browser client reads
 * only `user` and `session`'s other fields and authenticates with the signed cookie. Page
 * scripts never see the token, so an injected one cannot carry it off either.
 */
function withoutSessionToken(path: string | undefined, returned: unknown): Record<string, unknown> | undefined {
  if (typeof returned !== "object" || returned === null || returned instanceof Response || isAPIError(returned)) return undefined;
  if (path === "/sign-in/email" || path === "/sign-up/email") {
    if (!("token" in returned)) return undefined;
    const { token: _token, ...rest } = returned as Record<string, unknown>;
    return rest;
  }
  if (path === "/get-session" && "session" in returned && typeof returned.session === "object" && returned.session !== null) {
    const { token: _token, ...session } = returned.session as Record<string, unknown>;
    return { ...returned, session };
  }
  return undefined;
}

type AuthHookContext = Parameters<Parameters<typeof createAuthMiddleware>[0]>[0];

const beforeAuthEndpoint = createAuthMiddleware(async (ctx) => {
  refuseUnusedEndpoints(ctx);
  await limitSignInsBefore(ctx);
});

const afterAuthEndpoint = createAuthMiddleware(async (ctx) => {
  await limitSignInsAfter(ctx);
  const stripped = withoutSessionToken(ctx.path, ctx.context.returned);
  if (stripped !== undefined) return ctx.json(stripped);
});

const SIGN_IN_PATH = "/sign-in/email";

/** The key of the email a sign-in names; undefined when the body has none (better-auth answers 400). */
function signInKey(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("email" in body)) return undefined;
  const email = body.email;
  return typeof email === "string" && email.length <= 320 ? emailKey(email) : undefined;
}

/**
 * Per-account limit on password guesses, from however many addresses they come. Each
 * sign-in takes a point for its email before the password is checked — so concurrent
 * guesses cannot all slip under the limit — and gets it back afterwards unless the
 * password was wrong. Unknown emails count the same way and get the same 429, so the
 * limit says nothing about which accounts exist. Past it, the account's owner waits too:
 * checking the password first would spend the scrypt work the limit exists to save.
 */
async function limitSignInsBefore(ctx: AuthHookContext): Promise<void> {
  if (ctx.path !== SIGN_IN_PATH) return;
  const key = signInKey(ctx.body);
  if (key === undefined) return;
  const decision = await takeToken("signInAccount", key);
  if (decision.allowed) return;
  const minutes = Math.ceil(decision.retryAfterSeconds / 60);
  throw new APIError(
    "TOO_MANY_REQUESTS",
    {
      code: "rate_limited",
      message: `Too many failed sign-ins for this email address; try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    },
    { "retry-after": String(decision.retryAfterSeconds) },
  );
}

/** A wrong password keeps its point; a sign-in that worked clears the count. */
async function limitSignInsAfter(ctx: AuthHookContext): Promise<void> {
  if (ctx.path !== SIGN_IN_PATH) return;
  const key = signInKey(ctx.body);
  if (key === undefined) return;
  if (ctx.context.newSession) await forgetKey("signInAccount", key);
  else if (!(isAPIError(ctx.context.returned) && ctx.context.returned.statusCode === 401)) await refundToken("signInAccount", key);
}

export type Auth = ReturnType<typeof createAuth>;

function ownOrigins(request: Request | undefined, baseURL: string | undefined): string[] {
  const origins = baseURL === undefined ? [] : [new URL(baseURL).origin];
  const host = request?.headers.get("host");
  if (host !== undefined && host !== null && /^[A-Za-z0-9.[\]:-]{1,255}$/.test(host)) origins.push(`http://${host}`, `https://${host}`);
  return origins;
}

const SECRET_FILE = "auth-secret";

/**
 * BETTER_AUTH_SECRET when set; otherwise a random secret generated once and kept in the data
 * dir, so the embedded setup needs no configuration and sessions survive restarts. Several
 * server instances behind one PostgreSQL must share BETTER_AUTH_SECRET instead.
 */
export function resolveAuthSecret(env: { authSecret: string | undefined; dataDir: string }): string {
  if (env.authSecret !== undefined) return env.authSecret;
  const file = path.resolve(env.dataDir, SECRET_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    // `wx`: of two processes starting at once, one writes and the other reads its secret.
    writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
  }
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new Error(`${file} holds no usable secret; delete it to have a new one generated`);
  return secret;
}

// One auth instance per database handle (tests open several databases in one process).
const instances = new WeakMap<Db, Auth>();

/** The auth instance of `db` (by default the server context's), created on first use. */
export function getAuth(db: Db = getServerContext().db): Auth {
  let auth = instances.get(db);
  if (auth === undefined) {
    const env = apiEnv();
    auth = createAuth(db, { secret: resolveAuthSecret(env), baseURL: env.publicUrl });
    instances.set(db, auth);
  }
  return auth;
}

/** The signed-in user of a request (by its session cookie), or null. */
export async function sessionUser(auth: Auth, headers: Headers): Promise<{ id: string; name: string; email: string } | null> {
  const session = await auth.api.getSession({ headers });
  if (!session) return null;
  return { id: session.user.id, name: session.user.name, email: session.user.email };
}
