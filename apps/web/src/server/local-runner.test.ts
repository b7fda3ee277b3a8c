import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { runners } from "@transcend/db/schema";
import { describeEachDatabase } from "@transcend/db/testing";
import { afterAll, expect, it } from "vitest";
import { issueLocalRunnerToken, LOCAL_RUNNER_USER } from "./local-runner";
import { authenticateRunner, registerRunner } from "./services/runners";

const dir = mkdtempSync(path.join(os.tmpdir(), "transcend-local-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEachDatabase("the local runner of npm start", (getDb, { kind }) => {
  const tokenFile = path.join(dir, kind, "registration-token");

  it("gets a one-time token in a 0600 file, and each start revokes the previous local runner", async () => {
    const db = getDb();
    await issueLocalRunnerToken(db, tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const first = await registerRunner(db, { token: readFileSync(tokenFile, "utf8").trim(), name: "local" });
    expect(first.ownerId).toBe(LOCAL_RUNNER_USER.id);
    await expect(authenticateRunner(db, first.credential)).resolves.toMatchObject({ id: first.runnerId });

    await issueLocalRunnerToken(db, tokenFile);
    const second = await registerRunner(db, { token: readFileSync(tokenFile, "utf8").trim(), name: "local" });
    await expect(authenticateRunner(db, first.credential)).rejects.toThrow();
    await expect(authenticateRunner(db, second.credential)).resolves.toMatchObject({ id: second.runnerId });
    const active = await db.select().from(runners).where(eq(runners.ownerId, LOCAL_RUNNER_USER.id));
    expect(active.filter((runner) => runner.revokedAt === null)).toHaveLength(1);
  });
});
