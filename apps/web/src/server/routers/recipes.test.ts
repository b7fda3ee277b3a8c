// Recipe procedures against a real database: who may do what, versioning once a run used
// a version, the compute estimate, runner requirements from the form to the queue, and
// field paths of bad inputs.
import { describeEachDatabase } from "@transcend/db/testing";
import { parameterCount, recipePresets } from "@transcend/protocol";
import { presets } from "@transcend/tasks";
import { beforeAll, expect, it } from "vitest";
import { seedDatabase } from "../seed";
import { claimRun } from "../services/queue";
import { recordRunnerHello } from "../services/runners";
import { cancelOpenRuns, createRunner, testCapabilities } from "../test-fleet";
import type { ContextUser } from "../trpc";
import { callerAs, createUser, expectInvalidPaths, expectTrpcError, expectUnrecognizedKeys } from "./test-support";

const tiny = recipePresets.tiny;
const spec = (slug: string, overrides: Partial<typeof tiny> = {}) => ({ ...tiny, ...overrides, slug, name: slug });

describeEachDatabase("recipes router", (getDb) => {
  let owner: ContextUser;
  let other: ContextUser;
  beforeAll(async () => {
    await seedDatabase(getDb());
    owner = await createUser(getDb(), "Chef");
    other = await createUser(getDb(), "Guest");
  });

  it("lets anyone read presets, the list, a recipe, its versions and an estimate", async () => {
    for (const user of [null, owner, other]) {
      const caller = callerAs(getDb(), user);
      expect((await caller.recipes.presets()).map((preset) => preset.name)).toEqual(["tiny", "small", "paper"]);
      const list = await caller.recipes.list({ owner: "presets" });
      expect(list.items.map((item) => item.slug).sort()).toEqual(["paper", "small", "tiny"]);
      expect((await caller.recipes.get({ slug: "tiny" })).spec.model.dModel).toBe(tiny.model.dModel);
      expect(await caller.recipes.versions({ slug: "tiny" })).toHaveLength(1);
      const estimate = await caller.recipes.estimate({ recipe: tiny, variant: { slug: presets[0]?.slug ?? "" } });
      expect(estimate.task.fromVariant).toBe(true);
      expect(estimate.parameters).toBe(parameterCount({ ...tiny.model, vocabSize: estimate.task.vocabSize }));
      expect(estimate.pretraining.tokens).toBeGreaterThan(0);
      expect(estimate.totalFlops).toBeGreaterThan(estimate.pretraining.flops);
    }
    const alone = await callerAs(getDb(), null).recipes.estimate({ recipe: { ...tiny, model: { ...tiny.model, contextLength: 16 } } });
    expect(alone.task.fromVariant).toBe(false);
    const short = await callerAs(getDb(), null).recipes.estimate({
      recipe: { ...tiny, model: { ...tiny.model, contextLength: 16 } },
      variant: { slug: presets[0]?.slug ?? "" },
    });
    expect(short.warnings.join("\n")).toMatch(/contextLength 16 is shorter/);
  });

  it("needs an account to create or fork; only the owner edits; a used version gets a successor", async () => {
    const anonymous = callerAs(getDb(), null);
    await expectTrpcError(anonymous.recipes.create({ spec: spec("anon-recipe") }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.recipes.edit({ spec: spec("tiny") }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.recipes.fork({ from: { slug: "tiny" }, slug: "anon-tiny" }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.recipes.list({ owner: "mine" }), "UNAUTHORIZED");

    const fork = await callerAs(getDb(), owner).recipes.fork({ from: { slug: "tiny" }, slug: "my-tiny", name: "My tiny" });
    expect(fork).toMatchObject({ slug: "my-tiny", version: 1, ownerId: owner.id, name: "My tiny" });
    await expectTrpcError(callerAs(getDb(), other).recipes.edit({ spec: spec("my-tiny") }), "FORBIDDEN");

    const variantSlug = presets[0]?.slug ?? "";
    await callerAs(getDb(), owner).runs.submit({ variant: { slug: variantSlug }, recipe: { slug: "my-tiny" }, seedCount: 1 });
    const edited = await callerAs(getDb(), owner).recipes.edit({
      spec: spec("my-tiny", { grpo: { ...tiny.grpo, klBeta: 0.1 } }),
    });
    expect(edited).toMatchObject({ version: 2, outcome: "new_version" });
    const detail = await callerAs(getDb(), other).recipes.get({ slug: "my-tiny", version: 1 });
    expect(detail).toMatchObject({ usedByRuns: true, latestVersion: 2 });
    expect(detail.spec.grpo.klBeta).toBe(tiny.grpo.klBeta);
    expect((await callerAs(getDb(), other).recipes.versions({ slug: "my-tiny" })).map((v) => v.version)).toEqual([2, 1]);

    const created = await callerAs(getDb(), other).recipes.create({ spec: spec("guest-recipe") });
    expect(created.ownerId).toBe(other.id);
  });

  it("stores and returns runner requirements; a recipe without them stays without", async () => {
    const caller = callerAs(getDb(), owner);
    const requirements = { gpu: true, minMemoryBytes: 4 * 2 ** 30, minCores: 2 };
    const created = await caller.recipes.create({ spec: spec("needs-gpu", { requirements }) });
    expect((await caller.recipes.get({ id: created.id })).spec.requirements).toEqual(requirements);
    // Saving the same requirements again changes nothing; changing them is a change.
    expect(await caller.recipes.edit({ spec: spec("needs-gpu", { requirements }) })).toMatchObject({ outcome: "unchanged" });
    expect(await caller.recipes.edit({ spec: spec("needs-gpu", { requirements: { gpu: true } }) })).toMatchObject({ outcome: "updated" });
    expect((await callerAs(getDb(), null).recipes.get({ slug: "needs-gpu" })).spec.requirements).toEqual({ gpu: true });

    const plain = await caller.recipes.create({ spec: spec("any-runner") });
    expect((await caller.recipes.get({ id: plain.id })).spec).not.toHaveProperty("requirements");
  });

  it("queues a GPU recipe made through the router for a GPU runner only, and says why it waits", async () => {
    await cancelOpenRuns(getDb());
    const caller = callerAs(getDb(), owner);
    await caller.recipes.create({ spec: spec("gpu-only", { requirements: { gpu: true } }) });
    const submitted = await caller.runs.submit({ variant: { slug: presets[0]?.slug ?? "" }, recipe: { slug: "gpu-only" }, seedCount: 1 });
    const runId = submitted.runs[0]?.id ?? "";

    const cpu = await createRunner(getDb(), owner.id, "cpu runner");
    await recordRunnerHello(getDb(), { runnerId: cpu.runnerId, capabilities: testCapabilities });
    expect(await claimRun(getDb(), { runnerId: cpu.runnerId, ownerId: owner.id, capabilities: testCapabilities })).toBeUndefined();
    expect((await caller.runs.get({ runId })).queuedReason).toMatch(/No connected runner can run a GPU recipe/);

    const gpuCapabilities = { ...testCapabilities, backend: "tfjs-node-gpu" as const };
    const gpu = await createRunner(getDb(), other.id, "gpu runner");
    await recordRunnerHello(getDb(), { runnerId: gpu.runnerId, capabilities: gpuCapabilities });
    expect(await claimRun(getDb(), { runnerId: gpu.runnerId, ownerId: other.id, capabilities: gpuCapabilities })).toMatchObject({ runId });

    // Memory and cores go the same way: 2 GiB asked, 1 GiB reported.
    await caller.recipes.create({ spec: spec("big-memory", { requirements: { gpu: false, minMemoryBytes: 2 * 2 ** 30 } }) });
    const [bigRun] = (await caller.runs.submit({ variant: { slug: presets[0]?.slug ?? "" }, recipe: { slug: "big-memory" }, seedCount: 1 })).runs;
    expect(await claimRun(getDb(), { runnerId: cpu.runnerId, ownerId: owner.id, capabilities: testCapabilities })).toBeUndefined();
    expect((await caller.runs.get({ runId: bigRun?.id ?? "" })).queuedReason).toBe("No connected runner meets the recipe's requirements (2 GiB of memory).");
    const roomy = { ...testCapabilities, memoryBytes: 4 * 2 ** 30 };
    expect(await claimRun(getDb(), { runnerId: cpu.runnerId, ownerId: owner.id, capabilities: roomy })).toMatchObject({ runId: bigRun?.id });
    await cancelOpenRuns(getDb());
  });

  it("accepts the page direction tRPC's infinite queries add, and still refuses other unknown keys", async () => {
    const caller = callerAs(getDb(), null);
    const first = await caller.recipes.list({ owner: "presets", limit: 1, direction: "forward" });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBe(1);
    const second = await caller.recipes.list({ owner: "presets", limit: 1, cursor: 1, direction: "backward" });
    expect(second.items[0]?.slug).not.toBe(first.items[0]?.slug);
    expect(await expectUnrecognizedKeys(caller.recipes.list({ owner: "presets", page: 2 } as never))).toEqual(["page"]);
    expect(await expectInvalidPaths(caller.recipes.list({ direction: "up" } as never))).toContain("direction");
  });

  it("rejects out-of-range inputs with field paths", async () => {
    const caller = callerAs(getDb(), owner);
    expect(await expectInvalidPaths(caller.recipes.create({ spec: spec("big", { model: { ...tiny.model, layers: 99 } }) }))).toContain(
      "spec.model.layers",
    );
    expect(await expectInvalidPaths(caller.recipes.create({ spec: spec("lr", { grpo: { ...tiny.grpo, learningRate: 5 } }) }))).toContain(
      "spec.grpo.learningRate",
    );
    expect(
      await expectInvalidPaths(caller.recipes.create({ spec: spec("k", { evaluation: { ...tiny.evaluation, kValues: [64] } }) })),
    ).toContain("spec.evaluation.kValues");
    expect(await expectInvalidPaths(caller.recipes.create({ spec: { ...spec("no"), slug: "NO SLUG" } }))).toContain("spec.slug");
    expect(await expectInvalidPaths(caller.recipes.estimate({ recipe: { ...tiny, pretraining: { ...tiny.pretraining, steps: -1 } } }))).toContain(
      "recipe.pretraining.steps",
    );
    expect(await expectInvalidPaths(caller.recipes.list({ cursor: -1 }))).toContain("cursor");
    expect(await expectInvalidPaths(caller.recipes.get({ slug: "tiny", version: -2 }))).toContain("version");
    expect(await expectInvalidPaths(caller.recipes.versions({ slug: "" }))).toContain("slug");
    expect(await expectInvalidPaths(caller.recipes.edit({ spec: spec("tiny", { seeds: [] }) }))).toContain("spec.seeds");
    expect(
      await expectInvalidPaths(caller.recipes.create({ spec: spec("huge", { requirements: { gpu: false, minMemoryBytes: 2 ** 41, minCores: 512 } }) })),
    ).toEqual(expect.arrayContaining(["spec.requirements.minMemoryBytes", "spec.requirements.minCores"]));
    expect(await expectInvalidPaths(caller.recipes.fork({ from: { slug: "tiny" }, slug: "fine-slug", name: "n".repeat(81) }))).toContain("name");
  });
});
