// better-auth's endpoints as the public meets them, over real HTTP to the real server and
// better-auth's real handler on a real database: only the four the pages use answer
// (sign-up, sign-in, sign-out, session lookup); every other endpoint better-auth serves,
// however the path is spelt, answers 404 and hands out nothing — above all not the raw
// session tokens `/list-sessions` would list. Those four still work, and none of their
// answers carries a session token.
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { AUTH_PATHS_IN_USE, createAuth, DISABLED_AUTH_PATHS, sessionUser, type Auth } from "../auth";
import { configureRateLimits } from "../rate-limit";
import { rawRequest } from "./abuse-client";
import { authRoute } from "./auth-route";

const PASSWORD = "correct horse battery staple";

interface Answer {
  status: number;
  text: string;
  /** The response's cookies as a Cookie header. */
  cookie: string;
}

interface ServedEndpoint {
  path: string;
  method: string;
}

/** Every endpoint `auth`'s HTTP handler routes (server-only ones have no path). */
function servedEndpoints(auth: Auth): ServedEndpoint[] {
  const served: ServedEndpoint[] = [];
  for (const endpoint of Object.values(auth.api) as unknown[]) {
    if (typeof endpoint !== "function" || !("path" in endpoint) || typeof endpoint.path !== "string") continue;
    const options = "options" in endpoint ? (endpoint.options as { method?: unknown }) : {};
    const methods = Array.isArray(options.method) ? (options.method as unknown[]) : [options.method];
    const method = typeof methods[0] === "string" && methods[0] !== "*" ? methods[0] : "GET";
    served.push({ path: endpoint.path, method });
  }
  return served;
}

/** The session token inside a `better-auth.session_token=<token>.<signature>` cookie. */
function sessionToken(cookie: string): string {
  const value = /session_token=([^;]+)/.exec(cookie)?.[1];
  if (value === undefined) throw new Error(`no session cookie in "${cookie}"`);
  const token = decodeURIComponent(value).split(".")[0];
  if (token === undefined || token.length < 16) throw new Error(`no token in cookie value "${value}"`);
  return token;
}

describeEachDatabase("better-auth endpoints over HTTP", (getDb, { getDatabase }) => {
  let server: TranscendServer;
  let auth: Auth;

  async function call(method: string, path: string, options: { body?: unknown; cookie?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { origin: server.url };
    if (options.cookie !== undefined) headers.cookie = options.cookie;
    if (method !== "GET") headers["content-type"] = "application/json";
    const response = await fetch(`${server.url}/api/auth${path}`, {
      method,
      headers,
      body: method === "GET" ? undefined : JSON.stringify(options.body ?? {}),
      redirect: "manual",
    });
    const cookie = response.headers
      .getSetCookie()
      .map((line) => line.split(";", 1)[0])
      .join("; ");
    return { status: response.status, text: await response.text(), cookie };
  }

  async function signUp(name: string): Promise<{ email: string; cookie: string; answer: Answer }> {
    const email = `${name}-${Date.now()}@example.com`;
    const answer = await call("POST", "/sign-up/email", { body: { name, email, password: PASSWORD } });
    expect(answer.status).toBe(200);
    return { email, cookie: answer.cookie, answer };
  }

  async function signIn(email: string): Promise<Answer> {
    const answer = await call("POST", "/sign-in/email", { body: { email, password: PASSWORD } });
    expect(answer.status).toBe(200);
    return answer;
  }

  beforeAll(async () => {
    // Our own limiters are not under test here; many requests come from one address.
    configureRateLimits({ signIn: null, signInAccount: null, signUp: null });
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), seed: false, log: () => {} });
    auth = createAuth(getDb(), { secret: "auth-endpoints-test-secret-0123456789abcdef", baseURL: server.url });
    server.setPageHandlers({ handleRequest: (request, response) => authRoute(auth, request, response) });
  });

  afterAll(async () => {
    await server.close();
    configureRateLimits();
  });

  it("lists in disabledPaths every fixed-path endpoint the pages do not use (a release that adds one fails here)", () => {
    const served = servedEndpoints(auth).map((endpoint) => endpoint.path);
    for (const path of AUTH_PATHS_IN_USE) expect(served).toContain(path);
    const unused = served.filter((path) => !AUTH_PATHS_IN_USE.includes(path) && !path.includes(":"));
    expect([...unused].sort()).toEqual([...DISABLED_AUTH_PATHS].sort());
  });

  it("answers 404 on every endpoint but the four, to a signed-in caller, and hands out no session token", async () => {
    const { cookie } = await signUp("prober");
    const token = sessionToken(cookie);
    const unused = servedEndpoints(auth).filter((endpoint) => !AUTH_PATHS_IN_USE.includes(endpoint.path));
    expect(unused.length).toBeGreaterThan(20);
    for (const endpoint of unused) {
      // Path parameters get a value: disabledPaths cannot list those, the before hook answers them.
      const path = endpoint.path.replace(/:[A-Za-z]+/g, "anything");
      const answer = await call(endpoint.method, path, { cookie, body: { token, currentPassword: PASSWORD, newPassword: `${PASSWORD}!` } });
      expect({ path, method: endpoint.method, status: answer.status }).toEqual({ path, method: endpoint.method, status: 404 });
      expect(answer.text).not.toContain(token);
      expect(answer.cookie).toBe("");
    }
    // Nothing above changed the account: the password and the session are as they were.
    expect(JSON.parse((await call("GET", "/get-session", { cookie })).text)).toMatchObject({ user: { name: "prober" } });
  });

  it("answers 404 to /list-sessions however its path is spelt", async () => {
    const { cookie } = await signUp("speller");
    const token = sessionToken(cookie);
    const spellings = [
      "/api/auth/list-sessions",
      "/api/auth//list-sessions",
      "/api/auth///list-sessions",
      "/api/auth/list-sessions/",
      "/api/auth/list-sessions//",
      "/api/auth/./list-sessions",
      "/api/auth/x/../list-sessions",
      "/api/auth/list%2Dsessions",
      "/api/auth/%6cist-sessions",
      "/api/auth/List-Sessions",
      "/api/auth/list-sessions?disableCookieCache=true",
      "/api/auth/list-sessions;x",
      "/api/auth/list-sessions%00",
    ];
    for (const target of spellings) {
      const answer = await rawRequest(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${server.url}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      expect({ target, status: answer.status }).toEqual({ target, status: 404 });
      expect(answer.head).not.toContain(token);
    }
  });

  it("signs up, signs in, looks the session up and signs out, and no answer carries a session token", async () => {
    const { email, cookie: firstCookie, answer: signUpAnswer } = await signUp("ada");
    const firstToken = sessionToken(firstCookie);
    expect(JSON.parse(signUpAnswer.text)).toMatchObject({ user: { email, name: "ada" } });
    expect(signUpAnswer.text).not.toContain(firstToken);
    expect(signUpAnswer.text).not.toContain('"token"');

    // A second session, as on a second device.
    const signInAnswer = await signIn(email);
    const secondCookie = signInAnswer.cookie;
    const secondToken = sessionToken(secondCookie);
    expect(secondToken).not.toBe(firstToken);
    expect(JSON.parse(signInAnswer.text)).toMatchObject({ user: { email } });
    expect(signInAnswer.text).not.toContain(secondToken);
    expect(signInAnswer.text).not.toContain('"token"');

    // (POST /get-session is better-auth's too, answered 405 without deferSessionRefresh.)
    const lookup = await call("GET", "/get-session", { cookie: secondCookie });
    expect(lookup.status).toBe(200);
    const session = JSON.parse(lookup.text) as { user: { email: string }; session: Record<string, unknown> };
    expect(session.user.email).toBe(email);
    expect(session.session).toMatchObject({ userId: expect.any(String), expiresAt: expect.any(String) });
    expect(session.session).not.toHaveProperty("token");
    expect(lookup.text).not.toContain(secondToken);
    // The server's own lookup (tRPC context, page loaders) still sees the user.
    expect(await sessionUser(auth, new Headers({ cookie: secondCookie }))).toMatchObject({ email, name: "ada" });

    // Revoking other sessions is not offered: the first session outlives the attempt.
    expect((await call("POST", "/revoke-other-sessions", { cookie: secondCookie })).status).toBe(404);
    expect(JSON.parse((await call("GET", "/get-session", { cookie: firstCookie })).text)).toMatchObject({ user: { email } });

    // Signing out ends this session only.
    const signOut = await call("POST", "/sign-out", { cookie: secondCookie });
    expect(signOut.status).toBe(200);
    expect(signOut.text).not.toContain(secondToken);
    expect(JSON.parse((await call("GET", "/get-session", { cookie: secondCookie })).text)).toBeNull();
    expect(await sessionUser(auth, new Headers({ cookie: secondCookie }))).toBeNull();
    expect(JSON.parse((await call("GET", "/get-session", { cookie: firstCookie })).text)).toMatchObject({ user: { email } });
  });

  it("still refuses a wrong password and an anonymous session lookup the usual way", async () => {
    const { email } = await signUp("bob");
    expect((await call("POST", "/sign-in/email", { body: { email, password: "not the password" } })).status).toBe(401);
    const anonymous = await call("GET", "/get-session");
    expect(anonymous.status).toBe(200);
    expect(JSON.parse(anonymous.text)).toBeNull();
  });
});
