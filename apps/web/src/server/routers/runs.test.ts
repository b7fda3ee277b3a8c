// Run procedures against a real database: submit, list, get, cancel, reproduce and live
// updates, for anonymous callers, the submitter and another user; the daily quota; and
// field paths of bad inputs.
import { eq } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { runs } from "@transcend/db/schema";
import { presets } from "@transcend/tasks";
import { afterAll, beforeAll, expect, it } from "vitest";
import { seedDatabase } from "../seed";
import { publishFleetEvent, RunEvents } from "../services/run-events";
import type { ContextUser } from "../trpc";
import { createCaller } from "./_app";
import { callerAs, createUser, expectInvalidPaths, expectTrpcError, expectUnrecognizedKeys } from "./test-support";

const variantSlug = presets[0]?.slug ?? "";

describeEachDatabase("runs router", (getDb, { getDatabase }) => {
  let owner: ContextUser;
  let other: ContextUser;
  let events: RunEvents;
  beforeAll(async () => {
    await seedDatabase(getDb());
    owner = await createUser(getDb(), "Submitter");
    other = await createUser(getDb(), "Bystander");
    events = await RunEvents.start(getDatabase());
  });
  afterAll(async () => {
    await events.close();
  });

  const submitTwo = () => callerAs(getDb(), owner).runs.submit({ variant: { slug: variantSlug }, recipe: { slug: "tiny" }, seedCount: 2 });

  it("needs an account to submit; queues one run per seed with its queued transition", async () => {
    await expectTrpcError(
      callerAs(getDb(), null).runs.submit({ variant: { slug: variantSlug }, recipe: { slug: "tiny" }, seedCount: 1 }),
      "UNAUTHORIZED",
    );
    const submitted = await submitTwo();
    expect(submitted.runs.map((run) => run.seed)).toEqual([1, 2]);
    expect(submitted.queuePosition).toBeGreaterThanOrEqual(1);
    expect(submitted.etaSeconds).toBeNull();
    expect(submitted.etaBasis).toMatch(/No runner is connected/);
    for (const user of [null, owner, other]) {
      const detail = await callerAs(getDb(), user).runs.get({ runId: submitted.runs[0]?.id ?? "" });
      expect(detail.state).toBe("queued");
      expect(detail.timeline).toEqual([expect.objectContaining({ fromState: null, toState: "queued", reason: "Submitted" })]);
      expect(detail.queuedReason).toMatch(/No runner is connected/);
      expect(detail.isMine).toBe(user?.id === owner.id);
      expect(detail.variant.slug).toBe(variantSlug);
      expect(detail.recipe.slug).toBe("tiny");
    }
  });

  it("lists everyone's runs for anyone, one's own with an account, and pages by cursor", async () => {
    await submitTwo();
    await expectTrpcError(callerAs(getDb(), null).runs.list({ mine: true }), "UNAUTHORIZED");
    const all = await callerAs(getDb(), null).runs.list({ variantSlug });
    expect(all.items.length).toBeGreaterThanOrEqual(4);
    expect((await callerAs(getDb(), other).runs.list({ mine: true })).items).toEqual([]);
    const mine = await callerAs(getDb(), owner).runs.list({ mine: true, state: "queued" });
    expect(mine.items.every((run) => run.submitter.id === owner.id && run.state === "queued")).toBe(true);

    const first = await callerAs(getDb(), owner).runs.list({ mine: true, limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await callerAs(getDb(), owner).runs.list({ mine: true, limit: 1, cursor: first.nextCursor ?? undefined });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
    expect((second.items[0]?.createdAt.getTime() ?? 0) <= (first.items[0]?.createdAt.getTime() ?? 0)).toBe(true);
  });

  it("accepts the page direction tRPC's infinite queries add, and still refuses other unknown keys", async () => {
    await submitTwo();
    const caller = callerAs(getDb(), owner);
    const first = await caller.runs.list({ mine: true, limit: 1, direction: "forward" });
    expect(first.items).toHaveLength(1);
    const second = await caller.runs.list({ mine: true, limit: 1, cursor: first.nextCursor ?? undefined, direction: "forward" });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
    // Ignored: a list pages forward only, whichever way the client says it is going.
    const backward = await caller.runs.list({ mine: true, limit: 1, cursor: first.nextCursor ?? undefined, direction: "backward" });
    expect(backward.items.map((run) => run.id)).toEqual(second.items.map((run) => run.id));

    expect(await expectUnrecognizedKeys(caller.runs.list({ limit: 1, page: 2 } as never))).toEqual(["page"]);
    expect(await expectInvalidPaths(caller.runs.list({ direction: "sideways" } as never))).toContain("direction");
  });

  it("lets only the submitter cancel, once", async () => {
    const { runs: [run] } = await submitTwo();
    const runId = run?.id ?? "";
    await expectTrpcError(callerAs(getDb(), null).runs.cancel({ runId }), "UNAUTHORIZED");
    await expectTrpcError(callerAs(getDb(), other).runs.cancel({ runId }), "FORBIDDEN");
    expect(await callerAs(getDb(), owner).runs.cancel({ runId })).toEqual({ from: "queued" });
    const detail = await callerAs(getDb(), owner).runs.get({ runId });
    expect(detail.state).toBe("cancelled");
    expect(detail.timeline.at(-1)).toMatchObject({ fromState: "queued", toState: "cancelled", reason: "Cancelled by Submitter" });
    await expectTrpcError(callerAs(getDb(), owner).runs.cancel({ runId }), "CONFLICT");
    await expectTrpcError(callerAs(getDb(), owner).runs.cancel({ runId: "00000000-0000-4000-8000-000000000000" }), "NOT_FOUND");
  });

  it("reproduces only graded runs, for anyone signed in", async () => {
    const { runs: [run] } = await submitTwo();
    const runId = run?.id ?? "";
    await expectTrpcError(callerAs(getDb(), null).runs.reproduce({ runId }), "UNAUTHORIZED");
    await expectTrpcError(callerAs(getDb(), other).runs.reproduce({ runId }), "CONFLICT");
    await getDb().update(runs).set({ state: "graded", finishedAt: new Date() }).where(eq(runs.id, runId));
    const reproduction = await callerAs(getDb(), other).runs.reproduce({ runId });
    expect(reproduction.runs).toHaveLength(1);
    const detail = await callerAs(getDb(), other).runs.get({ runId: reproduction.runs[0]?.id ?? "" });
    expect(detail).toMatchObject({ reproducesRunId: runId, seed: run?.seed, isMine: true });
    expect(detail.timeline[0]?.reason).toMatch(/reproduce/);
  });

  it("refuses the submission past the daily quota with a clear message, and not other users'", async () => {
    const heavy = await createUser(getDb(), "Heavy");
    const light = await createUser(getDb(), "Light");
    const submit = (user: ContextUser, seedCount: number) =>
      createCaller({ db: getDb(), user, authMethod: "session", origin: "http://transcend.test", dailyRunQuota: 3 }).runs.submit({
        variant: { slug: variantSlug },
        recipe: { slug: "tiny" },
        seedCount,
      });
    expect((await submit(heavy, 2)).quotaRemaining).toBe(1);
    const error = await expectTrpcError(submit(heavy, 2), "TOO_MANY_REQUESTS");
    expect(error.message).toMatch(/Daily run quota reached: you submitted 2 of 3 runs in the last 24 hours, so only 1 more run can be submitted now/);
    expect((await submit(heavy, 1)).quotaRemaining).toBe(0);
    const refused = await expectTrpcError(submit(heavy, 1), "TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(/no more runs can be submitted now; the next slot frees at/);
    expect((await submit(light, 3)).runs).toHaveLength(3);
  });

  it("tells a signed-in user their quota, and nobody else's", async () => {
    await expectTrpcError(callerAs(getDb(), null).runs.quota(), "UNAUTHORIZED");
    const fresh = await createUser(getDb(), "Fresh");
    const quota = await createCaller({ db: getDb(), user: fresh, authMethod: "session", origin: "http://x.test", dailyRunQuota: 7 }).runs.quota();
    expect(quota).toEqual({ limit: 7, remaining: 7 });
  });

  it("lets anyone follow a run live; an unknown run is NOT_FOUND", async () => {
    const { runs: [run] } = await submitTwo();
    for (const user of [null, owner, other]) {
      const stream = await callerAs(getDb(), user).runs.onUpdate({ runId: run?.id ?? "" });
      const first = await stream[Symbol.asyncIterator]().next();
      expect(first.value).toEqual({ runId: run?.id, state: "queued" });
    }
    const unknown = await callerAs(getDb(), null).runs.onUpdate({ runId: "00000000-0000-4000-8000-000000000000" });
    await expectTrpcError(unknown[Symbol.asyncIterator]().next(), "NOT_FOUND");
    await expectTrpcError(callerAs(getDb(), null).runs.get({ runId: "00000000-0000-4000-8000-000000000000" }), "NOT_FOUND");
  });

  it("streams a run's state now and then its changes", async () => {
    const { runs: [run] } = await submitTwo();
    const runId = run?.id ?? "";
    const controller = new AbortController();
    const stream = await callerAs(getDb(), null, { runUpdates: events, signal: controller.signal }).runs.onUpdate({ runId });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ runId, state: "queued" });
    const next = iterator.next();
    await publishFleetEvent(getDb(), { type: "run-updated", runId, phase: "pretraining", step: 10, metrics: { loss: 2.5 } });
    expect((await next).value).toMatchObject({ runId, state: null, phase: "pretraining", step: 10, metrics: { loss: 2.5 } });
    const last = iterator.next();
    await publishFleetEvent(getDb(), { type: "run-updated", runId, state: "cancelled" });
    expect((await last).value).toMatchObject({ runId, state: "cancelled" });
    expect((await iterator.next()).done).toBe(true);
    controller.abort();
  });

  it("rejects out-of-range inputs with field paths", async () => {
    const caller = callerAs(getDb(), owner);
    const variant = { slug: variantSlug };
    expect(await expectInvalidPaths(caller.runs.submit({ variant, recipe: { slug: "tiny" }, seedCount: 33 }))).toContain("seedCount");
    expect(await expectInvalidPaths(caller.runs.submit({ variant, recipe: { slug: "tiny" }, seeds: [-1] }))).toContain("seeds.0");
    expect(await expectInvalidPaths(caller.runs.submit({ variant, recipe: { slug: "tiny" }, seeds: [1], seedCount: 1 }))).toContain("seedCount");
    expect(await expectInvalidPaths(caller.runs.list({ limit: 101 }))).toContain("limit");
    expect(await expectInvalidPaths(caller.runs.list({ cursor: "garbage" }))).toContain("cursor");
    expect(await expectInvalidPaths(caller.runs.get({ runId: "not-a-uuid" }))).toContain("runId");
    expect(await expectInvalidPaths(caller.runs.reproduce({ runId: "not-a-uuid" }))).toContain("runId");
    expect(await expectInvalidPaths(caller.runs.onUpdate({ runId: "not-a-uuid" }))).toContain("runId");
    expect(await expectInvalidPaths(caller.runs.submit({ variant: { slug: "A" }, recipe: { slug: "tiny" } }))).toContain("variant.slug");
    expect(await expectInvalidPaths(caller.runs.cancel({ runId: "00000000-0000-4000-8000-000000000000", reason: "x".repeat(501) }))).toContain("reason");
  });
});
