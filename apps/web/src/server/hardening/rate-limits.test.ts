// Rate limits as a client meets them, against the real server: registration-token
// exchanges, sign-in and sign-up POSTs and runner handshakes counted per address and
// answered 429 with Retry-After; submissions counted per account (TOO_MANY_REQUESTS over
// tRPC, 429 + Retry-After over HTTP); and browser Origins refused on the runner socket.
import { request as httpRequest } from "node:http";
import { describeEachDatabase } from "@transcend/db/testing";
import { presets } from "@transcend/tasks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { SimRunner, UpgradeRefused } from "../gateway/sim-runner";
import { FrameBudget, addressKey, configureRateLimits, readLimitSettings, RateLimitedError } from "../rate-limit";
import { callerAs, createUser, expectTrpcError } from "../routers/test-support";
import { seedDatabase } from "../seed";
import { createApiToken } from "../services/api-tokens";
import { handleTrpcRequest } from "../trpc-handler";
import { RUNNER_SOCKET_PATH } from "@transcend/protocol";

describe("rate limit settings", () => {
  it("reads <points>/<seconds> or off per limit and refuses anything else by name", () => {
    const settings = readLimitSettings({ TRANSCEND_RATE_LIMIT_SIGN_IN: "3/60", TRANSCEND_RATE_LIMIT_SUBMIT: "off" });
    expect(settings.signIn).toEqual({ points: 3, durationSeconds: 60 });
    expect(settings.submit).toBeNull();
    expect(settings.signUp).toEqual({ points: 20, durationSeconds: 3600 });
    expect(settings.signInAccount).toEqual({ points: 10, durationSeconds: 900 });
    expect(readLimitSettings({ TRANSCEND_RATE_LIMIT_SIGN_IN_ACCOUNT: "5/3600" }).signInAccount).toEqual({ points: 5, durationSeconds: 3600 });
    expect(() => readLimitSettings({ TRANSCEND_RATE_LIMIT_SIGN_UP: "lots" })).toThrow(/TRANSCEND_RATE_LIMIT_SIGN_UP=lots/);
    expect(() => readLimitSettings({ TRANSCEND_RATE_LIMIT_SIGN_UP: "0/60" })).toThrow(/at least 1/);
  });

  it("counts IPv4-mapped clients as IPv4 and IPv6 clients by their /64", () => {
    expect(addressKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    expect(addressKey("2001:db8:1:2::1")).not.toBe(addressKey("2001:db8:1:3::1"));
  });

  it("spends a frame budget and refills it with time", () => {
    let now = 0;
    const budget = new FrameBudget({ messagesPerSecond: 10, messageBurst: 3, bytesPerSecond: 100, byteBurst: 100 }, () => now);
    expect([budget.take(1), budget.take(1), budget.take(1), budget.take(1)]).toEqual([true, true, true, false]);
    now = 100; // 0.1 s: one frame back
    expect(budget.take(1)).toBe(true);
    now = 1_000;
    expect(budget.take(101)).toBe(false);
    expect(budget.take(90)).toBe(true);
  });
});

function post(url: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"], text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

describeEachDatabase("rate limits", (getDb, { getDatabase }) => {
  let server: TranscendServer;

  beforeAll(async () => {
    configureRateLimits({
      signIn: { points: 3, durationSeconds: 60 },
      signUp: { points: 2, durationSeconds: 60 },
      runnerRegister: { points: 3, durationSeconds: 60 },
      runnerHandshake: { points: 4, durationSeconds: 60 },
      submit: { points: 2, durationSeconds: 60 },
    });
    await seedDatabase(getDb());
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), seed: false, log: () => {} });
  });

  afterAll(async () => {
    await server.close();
    configureRateLimits();
  });

  it("answers registration-token exchanges past the limit with 429 and Retry-After", async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i++) {
      const answer = await post(server.url, "/api/runners/register", JSON.stringify({ token: `trt_guess${i}-guess-guess-guess-guess`, name: "guesser" }));
      statuses.push(answer.status);
      retryAfter ??= answer.retryAfter;
    }
    expect(statuses.slice(0, 3).every((status) => status === 401 || status === 400)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  });

  it("limits sign-in and sign-up POSTs before they reach the password check", async () => {
    const body = JSON.stringify({ email: "someone@example.com", password: "wrong password" });
    const signIns = [];
    for (let i = 0; i < 4; i++) signIns.push(await post(server.url, "/api/auth/sign-in/email", body));
    // No pages handler in this server: allowed requests reach it and get 503; the fourth is refused first.
    expect(signIns.map((answer) => answer.status)).toEqual([503, 503, 503, 429]);
    // The sign-in form shows better-auth's `message`: the refusal says how long to wait.
    expect(JSON.parse(signIns[3]?.text ?? "{}")).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/^Too many requests; try again in \d+ s\.$/) });
    const signUps = [];
    for (let i = 0; i < 3; i++) signUps.push((await post(server.url, "/api/auth/sign-up/email", body)).status);
    expect(signUps).toEqual([503, 503, 429]);
    // Other paths are not counted.
    expect((await post(server.url, "/api/auth/sign-out", "{}")).status).toBe(503);
  });

  it("refuses runner upgrades from browsers (an Origin) and too many handshakes from one address", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${server.url}${RUNNER_SOCKET_PATH}`, {
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", origin: "https://evil.example", authorization: "Bearer trr_x" },
      });
      request.on("response", (response) => resolve(response.statusCode ?? 0));
      request.on("upgrade", () => resolve(101));
      request.on("error", reject);
      request.end();
    });
    expect(status).toBe(403);
    const refusals: number[] = [];
    for (let i = 0; i < 6; i++) {
      refusals.push(await SimRunner.connect(server.url, "trr_wrongwrongwrongwrongwrong").then(() => 101, (error: unknown) => (error instanceof UpgradeRefused ? error.status : -1)));
    }
    expect(refusals).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it("limits submissions per account: TOO_MANY_REQUESTS over tRPC, 429 with Retry-After over HTTP", async () => {
    const db = getDb();
    const submitter = await createUser(db, "Submitter");
    const input = { variant: { slug: presets[0]?.slug ?? "" }, recipe: { slug: "tiny" }, seedCount: 1 };
    const caller = callerAs(db, submitter);
    await caller.runs.submit(input);
    await caller.runs.submit(input);
    const refused = await expectTrpcError(caller.runs.submit(input), "TOO_MANY_REQUESTS");
    expect(refused.cause).toBeInstanceOf(RateLimitedError);
    // Another account has its own count.
    await callerAs(db, await createUser(db, "Neighbour")).runs.submit(input);

    const { token } = await createApiToken(db, { userId: submitter.id, name: "script" });
    const response = await handleTrpcRequest(
      new Request("http://localhost/api/trpc/runs.submit", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ json: input }),
      }),
      { db, publicOrigin: undefined },
    );
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});
