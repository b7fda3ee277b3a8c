// Secrets at rest: after the flow that mints every kind of secret we hand out — an
// account with a password and a session, a personal access token, a runner registration
// token exchanged for a runner credential, a run claimed with an attempt token — a dump
// of every text and JSON column of every table holds none of them in the clear. A stolen
// backup must not be a working login, API key or runner.
import { describeEachDatabase } from "@transcend/db/testing";
import { beforeAll, expect, it } from "vitest";
import { createAuth, type Auth } from "../auth";
import { seedDatabase } from "../seed";
import { createApiToken } from "../services/api-tokens";
import { claimRun } from "../services/queue";
import { createRegistrationToken, registerRunner } from "../services/runners";
import { createVariantAndRecipe, queueRuns, testCapabilities } from "../test-fleet";
import { dumpTextColumns } from "./db-snapshot";

const SITE = "http://localhost:3000";
const PASSWORD = "correct horse battery staple 42";

describeEachDatabase("secrets at rest", (getDb) => {
  let auth: Auth;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    const db = getDb();
    await seedDatabase(db);
    auth = createAuth(db, { secret: "secrets-at-rest-test-secret-0123456789abcdef", baseURL: SITE });
    const signUp = await auth.handler(
      new Request(`${SITE}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: SITE },
        body: JSON.stringify({ name: "Secret Keeper", email: `keeper-${Date.now()}@example.com`, password: PASSWORD }),
      }),
    );
    expect(signUp.status).toBe(200);
    const { user } = (await signUp.json()) as { user: { id: string } };
    const cookie = signUp.headers.getSetCookie().find((line) => line.startsWith("better-auth.session_token="));
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
});
