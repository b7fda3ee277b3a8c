// Secrets at rest: after the flow that mints every kind of secret we hand out — an
// account with a password and a session, a personal access token, a runner registration
// token exchanged for a runner credential, a run claimed with an attempt token — a dump
// of every text and JSON column of every table holds none of them in the clear. A stolen
// backup must not be a working login, API key or runner.
//
// Session tokens are the exception better-auth 1.7 imposes (SECURITY.md, "Sessions"): the
// table holds them, and what keeps a dump from being a login is the cookie's HMAC, keyed by
// BETTER_AUTH_SECRET, which is not in the database. The last case pins exactly that down.
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { sessions } from "@transcend/db/schema";
import { beforeAll, expect, it } from "vitest";
import { createAuth, sessionUser, type Auth } from "../auth";
import { seedDatabase } from "../seed";
import { createApiToken } from "../services/api-tokens";
import { claimRun } from "../services/queue";
import { createRegistrationToken, registerRunner } from "../services/runners";
import { createVariantAndRecipe, queueRuns, testCapabilities } from "../test-fleet";
import { dumpTextColumns } from "./db-snapshot";

const SITE = "http://localhost:3000";
const PASSWORD = "correct horse battery staple 42";
const AUTH_SECRET = "secrets-at-rest-test-secret-0123456789abcdef";
const SESSION_COOKIE = "better-auth.session_token";

/** A session cookie as better-auth (better-call) signs it: `<token>.<base64 HMAC-SHA256>`, URL-encoded. */
function sessionCookie(token: string, secret: string): string {
  const signature = createHmac("sha256", secret).update(token).digest("base64");
  return `${SESSION_COOKIE}=${encodeURIComponent(`${token}.${signature}`)}`;
}

describeEachDatabase("secrets at rest", (getDb) => {
  let auth: Auth;
  let userId = "";
  let sessionCookieLine = "";
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    const db = getDb();
    await seedDatabase(db);
    auth = createAuth(db, { secret: AUTH_SECRET, baseURL: SITE });
    const signUp = await auth.handler(
      new Request(`${SITE}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: SITE },
        body: JSON.stringify({ name: "Secret Keeper", email: `keeper-${Date.now()}@example.com`, password: PASSWORD }),
      }),
    );
    expect(signUp.status).toBe(200);
    const { user } = (await signUp.json()) as { user: { id: string } };
    userId = user.id;
    const cookie = signUp.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
    sessionCookieLine = cookie ?? "";
    const cookieValue = decodeURIComponent(cookie?.split(";", 1)[0]?.split("=", 2)[1] ?? "");
    expect(cookieValue).not.toBe("");
    secrets.password = PASSWORD;
    secrets.sessionCookie = cookieValue;

    secrets.apiToken = (await createApiToken(db, { userId: user.id, name: "ci" })).token;
    const registration = await createRegistrationToken(db, { ownerId: user.id });
    secrets.registrationToken = registration.token;
    const runner = await registerRunner(db, { token: registration.token, name: "box" });
    secrets.runnerCredential = runner.credential;

    const { variantId, recipeId } = await createVariantAndRecipe(db, user.id);
    await queueRuns(db, { submitterId: user.id, variantId, recipeId, count: 1 });
    const claimed = await claimRun(db, { runnerId: runner.runnerId, ownerId: user.id, capabilities: testCapabilities });
    expect(claimed).toBeDefined();
    secrets.attemptToken = claimed?.attemptToken ?? "";
  });

  it("stores only hashes of passwords, API tokens, registration tokens, runner credentials and attempt tokens", async () => {
    const dump = (await dumpTextColumns(getDb())).join("\n");
    expect(dump.length).toBeGreaterThan(1000);
    for (const name of ["password", "apiToken", "registrationToken", "runnerCredential", "attemptToken"] as const) {
      const secret = secrets[name] ?? "";
      expect(secret.length, name).toBeGreaterThan(16);
      // The whole secret, and its random part past any readable prefix (`tpat_`, `trr_`, …).
      const body = secret.slice(secret.indexOf("_") + 1);
      expect(dump.includes(secret), `${name} in the clear`).toBe(false);
      expect(dump.includes(body), `${name}'s random part in the clear`).toBe(false);
    }
  });

  it("keeps the session cookie's signature out of the database", async () => {
    // better-auth stores the session token itself (it looks sessions up by it) and signs the
    // cookie with BETTER_AUTH_SECRET: a dump holds tokens but not the signed cookie values a
    // browser presents, so it cannot be replayed without the secret, which is not in the database.
    const dump = (await dumpTextColumns(getDb())).join("\n");
    expect(dump.includes(secrets.sessionCookie ?? "")).toBe(false);
    const signature = (secrets.sessionCookie ?? "").split(".").pop() ?? "";
    expect(signature.length).toBeGreaterThan(10);
    expect(dump.includes(signature)).toBe(false);
  });

  it("needs BETTER_AUTH_SECRET to turn a stored session token into a login", async () => {
    const rows = await getDb().select({ token: sessions.token }).from(sessions).where(eq(sessions.userId, userId));
    const stored = rows[0]?.token ?? "";
    expect(stored.length).toBeGreaterThan(16);
    const asCookie = (cookie: string) => sessionUser(auth, new Headers({ cookie }));
    // What a dump gives: the token, bare or with a signature made without the secret — refused.
    expect(await asCookie(`${SESSION_COOKIE}=${stored}`)).toBeNull();
    expect(await asCookie(sessionCookie(stored, "a guess at the secret, 32+ characters long"))).toBeNull();
    // With the secret too, it is a login: the secret must be kept apart from the database.
    expect(await asCookie(sessionCookie(stored, AUTH_SECRET))).toMatchObject({ id: userId });
    // Scripts cannot read the cookie, other sites' requests do not carry it, it expires.
    expect(sessionCookieLine).toMatch(/; HttpOnly/i);
    expect(sessionCookieLine).toMatch(/; SameSite=Lax/i);
    expect(sessionCookieLine).toMatch(/; Max-Age=2592000/i);
  });
});
