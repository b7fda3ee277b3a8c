// Accounts through better-auth's real HTTP handler on a real database: sign-up stores a
// hashed password, sign-in returns a session cookie, the cookie identifies the user in a
// tRPC context, sign-out ends the session.
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { accounts, sessions, users } from "@transcend/db/schema";
import { beforeAll, describe, expect, it } from "vitest";
import { createAuth, resolveAuthSecret, type Auth } from "./auth";
import { createRequestContext } from "./request-context";

const ORIGIN = "http://localhost:3000";
const SECRET = "test-secret-test-secret-test-secret-0123456789";

function post(pathname: string, body: unknown, cookie?: string): Request {
  return new Request(`${ORIGIN}/api/auth${pathname}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

/** The `name=value` pairs of a response's Set-Cookie headers, as a Cookie header. */
function cookieOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(";", 1)[0])
    .join("; ");
}

describeEachDatabase("accounts (better-auth)", (getDb) => {
  let auth: Auth;
  beforeAll(() => {
    auth = createAuth(getDb(), { secret: SECRET, baseURL: ORIGIN });
  });

  it("signs up with a hashed password, signs in, knows the session, signs out", async () => {
    const email = `ada-${Date.now()}@example.com`;
    const password = "correct horse battery";
    const signUp = await auth.handler(post("/sign-up/email", { name: "Ada", email, password }));
    expect(signUp.status).toBe(200);

    const [user] = await getDb().select().from(users).where(eq(users.email, email));
    expect(user?.name).toBe("Ada");
    const [account] = await getDb().select().from(accounts).where(eq(accounts.userId, user?.id ?? ""));
    expect(account?.providerId).toBe("credential");
    expect(account?.password).toBeTruthy();
    expect(account?.password).not.toContain(password);

    const wrong = await auth.handler(post("/sign-in/email", { email, password: "not the password" }));
    expect(wrong.status).toBe(401);

    const signIn = await auth.handler(post("/sign-in/email", { email, password }));
    expect(signIn.status).toBe(200);
    const cookie = cookieOf(signIn);
    expect(cookie).toMatch(/session_token=/);

    const request = new Request(`${ORIGIN}/api/trpc/account.me`, { headers: { cookie } });
    const context = await createRequestContext(request, { db: getDb(), auth });
    expect(context.user).toMatchObject({ id: user?.id, email, name: "Ada" });
    expect(context.authMethod).toBe("session");
    const stored = await getDb().select().from(sessions).where(eq(sessions.userId, user?.id ?? ""));
    expect(stored.length).toBeGreaterThanOrEqual(1);

    const signOut = await auth.handler(post("/sign-out", {}, cookie));
    expect(signOut.status).toBe(200);
    const after = await createRequestContext(request, { db: getDb(), auth });
    expect(after.user).toBeNull();
  });

  it("refuses a duplicate email and a short password", async () => {
    const email = `bob-${Date.now()}@example.com`;
    expect((await auth.handler(post("/sign-up/email", { name: "Bob", email, password: "long enough pw" }))).status).toBe(200);
    const again = await auth.handler(post("/sign-up/email", { name: "Bob 2", email, password: "long enough pw" }));
    expect(again.status).toBeGreaterThanOrEqual(400);
    const short = await auth.handler(post("/sign-up/email", { name: "Cy", email: `cy-${Date.now()}@example.com`, password: "short" }));
    expect(short.status).toBe(400);
  });

  it("refuses a sign-in posted from a foreign origin", async () => {
    const request = new Request(`${ORIGIN}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example", cookie: "x=1" },
      body: JSON.stringify({ email: "nobody@example.com", password: "whatever-password" }),
    });
    expect((await auth.handler(request)).status).toBe(403);
  });
});

describeEachDatabase("accounts without a configured URL", (getDb) => {
  it("trusts the host the browser connected to, not another name for this machine or a foreign page", async () => {
    // Next's custom server may hand the route a request URL naming another host than the browser used.
    const auth = createAuth(getDb(), { secret: SECRET });
    const signUp = (origin: string) =>
      auth.handler(
        new Request("http://127.0.0.1:3917/api/auth/sign-up/email", {
          method: "POST",
          headers: { "content-type": "application/json", origin, host: "localhost:3917", cookie: "x=1" },
          body: JSON.stringify({ name: "Host", email: `host-${Date.now()}-${origin.length}@example.com`, password: "long enough pw" }),
        }),
      );
    expect((await signUp("http://localhost:3917")).status).toBe(200);
    expect((await signUp("https://evil.example")).status).toBe(403);
  });
});

describe("resolveAuthSecret", () => {
  it("prefers BETTER_AUTH_SECRET, else generates one secret per data dir and keeps it", () => {
    expect(resolveAuthSecret({ authSecret: SECRET, dataDir: "/nonexistent" })).toBe(SECRET);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "transcend-auth-"));
    const first = resolveAuthSecret({ authSecret: undefined, dataDir });
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(resolveAuthSecret({ authSecret: undefined, dataDir })).toBe(first);
    expect(readFileSync(path.join(dataDir, "auth-secret"), "utf8")).toBe(first);
    expect(statSync(path.join(dataDir, "auth-secret")).mode & 0o077).toBe(0);
  });
});
