// better-auth's own limiter counts a client under the address our limiter does, over real
// HTTP to the real server and better-auth's real handler in production mode (its limiter is
// on only when NODE_ENV=production): a directly connected client cannot choose the address
// it is counted under by writing X-Forwarded-For (or our own header), another client is
// counted apart, and behind a trusted proxy the last X-Forwarded-For entry is the client,
// however many entries come before it. A new session records the same address.
import { request as httpRequest } from "node:http";
import { eq } from "drizzle-orm";
import { sessions, users } from "@transcend/db/schema";
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { startTranscendServer, type TranscendServer } from "../app-server";
import { createAuth, type Auth } from "../auth";
import { CLIENT_ADDRESS_HEADER, configureRateLimits } from "../rate-limit";
import { authRoute } from "./auth-route";

// Before any import runs: better-auth reads NODE_ENV once, when it loads.
vi.hoisted(() => {
  vi.stubEnv("NODE_ENV", "production");
});

/** better-auth's sign-in allowance per address: 3 requests per 10 s (its default in 1.7.25). */
const SIGN_INS_ALLOWED = 3;
const THROTTLED = "Too many requests. Please try again later.";

interface Answer {
  status: number;
  text: string;
  /** better-auth's own 429 says when to retry here (ours says Retry-After). */
  xRetryAfter: string | undefined;
}

let databaseRun = 0;

describeEachDatabase("better-auth's limiter and the client address", (getDb, { getDatabase }) => {
  let server: TranscendServer;
  let auth: Auth;
  // Its counters are per process and outlive a test database: each run counts other addresses.
  const run = ++databaseRun;
  const loopback = (host: number) => `127.0.${run}.${host}`;
  const proxied = (host: number) => `203.0.${run}.${host}`;

  /** A POST under /api/auth from the local address `from` (a client on its own socket address). */
  function post(path: string, body: unknown, options: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        `${server.url}/api/auth${path}`,
        {
          method: "POST",
          localAddress: options.from ?? "127.0.0.1",
          headers: { "content-type": "application/json", origin: server.url, ...options.headers },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => {
            const header = response.headers["x-retry-after"];
            resolve({ status: response.statusCode ?? 0, text, xRetryAfter: Array.isArray(header) ? header[0] : header });
          });
        },
      );
      request.on("error", reject);
      request.end(payload);
    });
  }

  const wrongSignIn = (options: { from?: string; headers?: Record<string, string> }) =>
    post("/sign-in/email", { email: `nobody-${run}@example.com`, password: "not the password" }, options);

  function expectThrottledByBetterAuth(answer: Answer): void {
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.text)).toEqual({ message: THROTTLED });
    expect(Number(answer.xRetryAfter)).toBeGreaterThan(0);
  }

  beforeAll(async () => {
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), seed: false, log: () => {} });
    auth = createAuth(getDb(), { secret: "client-address-test-secret-0123456789abcdef", baseURL: server.url });
    server.setPageHandlers({ handleRequest: (request, response) => authRoute(auth, request, response) });
  });

  beforeEach(() => {
    // Our own limiters are off: every 429 below is better-auth's.
    configureRateLimits({ signIn: null, signInAccount: null, signUp: null });
  });

  afterAll(async () => {
    await server.close();
    configureRateLimits();
  });

  it("runs with better-auth's limiter on, as production does", async () => {
    expect((await auth.$context).rateLimit.enabled).toBe(true);
  });

  it("counts a directly connected client by its socket address, whatever forwarding headers it writes", async () => {
    const client = loopback(2);
    for (let attempt = 0; attempt < SIGN_INS_ALLOWED; attempt += 1) {
      // A fresh made-up address each time: X-Forwarded-For was better-auth's client address before.
      const forged = { "x-forwarded-for": `192.0.2.${attempt + 1}`, [CLIENT_ADDRESS_HEADER]: `192.0.2.${attempt + 101}` };
      expect((await wrongSignIn({ from: client, headers: forged })).status).toBe(401);
    }
    expectThrottledByBetterAuth(await wrongSignIn({ from: client, headers: { "x-forwarded-for": "192.0.2.200" } }));
    expectThrottledByBetterAuth(await wrongSignIn({ from: client }));

    // Another client is counted apart, even naming the first one's address: no shared counter.
    expect((await wrongSignIn({ from: loopback(3), headers: { "x-forwarded-for": client, [CLIENT_ADDRESS_HEADER]: client } })).status).toBe(401);
  });

  it("behind a trusted proxy counts the last X-Forwarded-For entry, however many come before it", async () => {
    configureRateLimits({ signIn: null, signInAccount: null, signUp: null }, { trustProxy: true });
    const client = proxied(7);
    for (let attempt = 0; attempt < SIGN_INS_ALLOWED; attempt += 1) {
      // What the client wrote, then what one or two proxies appended.
      const chain = [`192.0.2.${attempt + 1}`, ...(attempt === 2 ? ["198.51.100.9"] : []), client].join(", ");
      expect((await wrongSignIn({ headers: { "x-forwarded-for": chain, [CLIENT_ADDRESS_HEADER]: "192.0.2.250" } })).status).toBe(401);
    }
    expectThrottledByBetterAuth(await wrongSignIn({ headers: { "x-forwarded-for": `192.0.2.99, ${client}` } }));
    // The next client behind the same proxy (the same socket address) is not throttled with it.
    expect((await wrongSignIn({ headers: { "x-forwarded-for": `${client}, ${proxied(8)}` } })).status).toBe(401);
  });

  it("records the counted address on a new session, not the one the client wrote", async () => {
    const client = loopback(4);
    const email = `recorded-${run}-${Date.now()}@example.com`;
    const answer = await post(
      "/sign-up/email",
      { name: "Recorded", email, password: "correct horse battery staple" },
      { from: client, headers: { "x-forwarded-for": "192.0.2.1", [CLIENT_ADDRESS_HEADER]: "192.0.2.2" } },
    );
    expect(answer.status).toBe(200);
    const recorded = await getDb()
      .select({ ipAddress: sessions.ipAddress })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(users.email, email));
    expect(recorded).toEqual([{ ipAddress: client }]);
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});
