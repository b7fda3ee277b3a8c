// The per-account sign-in limit as credential stuffing meets it: password guesses at one
// email from many addresses (X-Forwarded-For behind a trusted proxy, so each guess comes
// from a fresh address and the per-address limit never bites), over real HTTP to the real
// server and better-auth's real handler on a real database. The limit answers 429 with
// Retry-After, the same for an email no account has, counts concurrent guesses exactly,
// ignores requests that never reach the password check, and forgets an account's count
// when its owner signs in.
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { createAuth } from "../auth";
import { configureRateLimits } from "../rate-limit";
import { authRoute } from "./auth-route";

const PASSWORD = "correct horse battery staple";
const ACCOUNT_LIMIT = 3;
const WINDOW_SECONDS = 60;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

describeEachDatabase("per-account sign-in limit", (getDb, { getDatabase }) => {
  let server: TranscendServer;
  let nextAddress = 1;

  /** A POST from a fresh client address, as a trusted reverse proxy would forward it. */
  async function post(path: string, body: unknown): Promise<Answer> {
    const address = `198.51.${Math.floor(nextAddress / 250)}.${(nextAddress % 250) + 1}`;
    nextAddress += 1;
    const response = await fetch(`${server.url}/api/auth${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url, "x-forwarded-for": address },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: text === "" ? null : (JSON.parse(text) as unknown) };
  }

  const signIn = (email: string, password: string) => post("/sign-in/email", { email, password });

  async function signUp(name: string): Promise<string> {
    const email = `${name}-${Date.now()}@example.com`;
    expect((await post("/sign-up/email", { name, email, password: PASSWORD })).status).toBe(200);
    return email;
  }

  beforeAll(async () => {
    // One guess per address: whatever gets through below, the address limit did not stop it.
    configureRateLimits({ signIn: { points: 1, durationSeconds: WINDOW_SECONDS }, signInAccount: { points: ACCOUNT_LIMIT, durationSeconds: WINDOW_SECONDS }, signUp: null }, { trustProxy: true });
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), seed: false, log: () => {} });
    const auth = createAuth(getDb(), { secret: "sign-in-account-limit-test-secret-0123456789", baseURL: server.url });
    server.setPageHandlers({ handleRequest: (request, response) => authRoute(auth, request, response) });
  });

  afterAll(async () => {
    await server.close();
    configureRateLimits();
  });

  it("refuses guesses at one account from many addresses past the limit, the right password too, with Retry-After", async () => {
    const email = await signUp("victim");
    const guesses: number[] = [];
    for (let i = 0; i < ACCOUNT_LIMIT + 2; i++) guesses.push((await signIn(email, `guess number ${i}`)).status);
    expect(guesses).toEqual([401, 401, 401, 429, 429]);

    const owner = await signIn(email, PASSWORD);
    expect(owner.status).toBe(429);
    expect(Number(owner.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(owner.retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(owner.body).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/try again in 1 minute/) });
    // The email in capitals is the same account, still refused; another account is not held up.
    expect((await signIn(email.toUpperCase(), PASSWORD)).status).toBe(429);
    const bystander = await signUp("bystander");
    expect((await signIn(bystander, "not the password")).status).toBe(401);
    expect((await signIn(bystander, PASSWORD)).status).toBe(200);
  });

  it("answers an email no account has exactly as it answers one that exists", async () => {
    const existing = await signUp("existing");
    const unknown = `nobody-${Date.now()}@example.com`;
    const answers = { existing: [] as Answer[], unknown: [] as Answer[] };
    for (let i = 0; i <= ACCOUNT_LIMIT; i++) {
      answers.existing.push(await signIn(existing, `wrong ${i}`));
      answers.unknown.push(await signIn(unknown, `wrong ${i}`));
    }
    const shape = (list: Answer[]) => list.map(({ status, body }) => ({ status, body }));
    expect(shape(answers.unknown)).toEqual(shape(answers.existing));
    expect(answers.unknown.map((answer) => answer.status)).toEqual([401, 401, 401, 429]);
    expect(answers.unknown[ACCOUNT_LIMIT]?.retryAfter).not.toBeNull();
  });

  it("counts concurrent guesses exactly: no burst slips under the limit", async () => {
    const email = await signUp("burst");
    const statuses = (await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(email, `burst guess ${i}`)))).map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(ACCOUNT_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10 - ACCOUNT_LIMIT);
  });

  it("does not count requests that never reach the password check", async () => {
    const email = await signUp("sloppy");
    for (let i = 0; i < ACCOUNT_LIMIT + 2; i++) expect((await post("/sign-in/email", { email })).status).toBe(400);
    expect((await signIn(email, PASSWORD)).status).toBe(200);
  });

  it("forgets an account's failures when its owner signs in", async () => {
    const email = await signUp("forgetful");
    for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) expect((await signIn(email, `typo ${i}`)).status).toBe(401);
    expect((await signIn(email, PASSWORD)).status).toBe(200);
    const after: number[] = [];
    for (let i = 0; i <= ACCOUNT_LIMIT; i++) after.push((await signIn(email, `typo again ${i}`)).status);
    expect(after).toEqual([401, 401, 401, 429]);
  });
});
