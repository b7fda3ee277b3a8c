import { eq, sql } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { queryRows } from "@transcend/db";
import { runnerRegistrationTokens, runners, users } from "@transcend/db/schema";
import { beforeAll, expect, it } from "vitest";
import { FleetError } from "./fleet-errors";
import { RunEvents, type FleetEvent } from "./run-events";
import { authenticateRunner, createRegistrationToken, listRunners, recordRunnerHello, registerRunner, revokeRunner } from "./runners";
import { hashSecret } from "./secrets";

const code = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FleetError) return error.code;
    throw error;
  }
  return "ok";
};

describeEachDatabase("runner registration", (getDb, { getDatabase }) => {
  beforeAll(async () => {
    await getDb()
      .insert(users)
      .values([
        { id: "reg-owner", name: "Owner", email: "reg-owner@example.com" },
        { id: "reg-other", name: "Other", email: "reg-other@example.com" },
      ]);
  });

  it("exchanges a token once for a credential; only hashes are stored", async () => {
    const { token } = await createRegistrationToken(getDb(), { ownerId: "reg-owner" });
    const registered = await registerRunner(getDb(), { token, name: "box-1" });
    expect(registered.ownerId).toBe("reg-owner");
    expect(await code(registerRunner(getDb(), { token, name: "box-2" }))).toBe("token_used");

    const tokenRows = await queryRows<{ token_hash: string; runner_id: string }>(
      getDb(),
      sql`select token_hash, runner_id from runner_registration_tokens where owner_id = 'reg-owner'`,
    );
    expect(tokenRows).toEqual([{ token_hash: hashSecret(token), runner_id: registered.runnerId }]);
    const [runner] = await getDb().select().from(runners).where(eq(runners.id, registered.runnerId));
    expect(runner?.credentialHash).toBe(hashSecret(registered.credential));
    // Nothing in the database contains either raw secret.
    const dump = JSON.stringify(await queryRows(getDb(), sql`select * from runners`)) + JSON.stringify(tokenRows);
    expect(dump).not.toContain(registered.credential);
    expect(dump).not.toContain(token);

    expect((await authenticateRunner(getDb(), registered.credential)).id).toBe(registered.runnerId);
    expect(await code(authenticateRunner(getDb(), "trr_not-a-real-credential-at-all"))).toBe("invalid_token");
  });

  it("lets only one of two concurrent exchanges of a token succeed", async () => {
    const { token } = await createRegistrationToken(getDb(), { ownerId: "reg-owner" });
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => code(registerRunner(getDb(), { token, name: `race-${i}` }))));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "token_used")).toHaveLength(3);
  });

  it("refuses an expired token and an unknown one", async () => {
    const { token } = await createRegistrationToken(getDb(), { ownerId: "reg-owner", now: new Date(Date.now() - 2 * 3600_000) });
    expect(await code(registerRunner(getDb(), { token, name: "late" }))).toBe("token_expired");
    expect(await code(registerRunner(getDb(), { token: "trt_unknownunknownunknown", name: "x" }))).toBe("invalid_token");
    const [row] = await getDb().select().from(runnerRegistrationTokens).where(eq(runnerRegistrationTokens.tokenHash, hashSecret(token)));
    expect(row?.usedAt).toBeNull();
  });

  it("revokes only the owner's runner, refuses its credential after, and tells every instance", async () => {
    const events: FleetEvent[] = [];
    const bus = await RunEvents.start(getDatabase());
    bus.subscribe((event) => events.push(event));
    try {
      const { token } = await createRegistrationToken(getDb(), { ownerId: "reg-owner" });
      const { runnerId, credential } = await registerRunner(getDb(), { token, name: "to-revoke" });
      expect(await code(revokeRunner(getDb(), { ownerId: "reg-other", runnerId }))).toBe("forbidden");
      await revokeRunner(getDb(), { ownerId: "reg-owner", runnerId });
      expect(await code(authenticateRunner(getDb(), credential))).toBe("revoked");
      await expect.poll(() => events.some((e) => e.type === "runner-revoked" && e.runnerId === runnerId)).toBe(true);
    } finally {
      await bus.close();
    }
  });

  it("lists the owner's runners with status and capabilities", async () => {
    const { token } = await createRegistrationToken(getDb(), { ownerId: "reg-other" });
    const { runnerId } = await registerRunner(getDb(), { token, name: "listed" });
    expect(await listRunners(getDb(), { ownerId: "reg-other" })).toMatchObject([{ id: runnerId, status: "offline", backend: null }]);
    await recordRunnerHello(getDb(), {
      runnerId,
      capabilities: { backend: "wasm", device: "test CPU", cores: 2, memoryBytes: 2 ** 30, matmul: { gflops: 12.5, path: "wasm SIMD" } },
    });
    expect(await listRunners(getDb(), { ownerId: "reg-other" })).toMatchObject([
      { id: runnerId, name: "listed", status: "idle", backend: "wasm", device: "test CPU", gflops: 12.5, currentRunId: null },
    ]);
  });
});
