// Task variant procedures against a real database: who may do what (anonymous, owner,
// another user), versioning on edit, fork, the preview, and field paths of bad inputs.
import { describeEachDatabase } from "@transcend/db/testing";
import type { TaskVariant } from "@transcend/protocol";
import { presets } from "@transcend/tasks";
import { beforeAll, expect, it } from "vitest";
import { seedDatabase } from "../seed";
import type { ContextUser } from "../trpc";
import { callerAs, createUser, expectInvalidPaths, expectTrpcError, expectUnrecognizedKeys } from "./test-support";

const base = presets[0] as TaskVariant;
const draft = (slug: string, name = "Mine"): TaskVariant => ({ ...base, slug, name });

describeEachDatabase("variants router", (getDb) => {
  let owner: ContextUser;
  let other: ContextUser;
  beforeAll(async () => {
    await seedDatabase(getDb());
    owner = await createUser(getDb(), "Owner");
    other = await createUser(getDb(), "Other");
  });

  it("lets anyone list, get, list versions of and preview variants", async () => {
    for (const user of [null, owner, other] as const) {
      const caller = callerAs(getDb(), user);
      const list = await caller.variants.list({ owner: "presets", limit: 5 });
      expect(list.items.length).toBe(5);
      expect(list.items.every((item) => item.isPreset)).toBe(true);
      expect(list.nextCursor).toBe(5);
      const detail = await caller.variants.get({ slug: base.slug });
      expect(detail.spec.family).toBe(base.family);
      expect(await caller.variants.versions({ slug: base.slug })).toHaveLength(1);
      const preview = await caller.variants.preview({ spec: base, options: { examplesPerSplit: 2 } });
      expect(preview.splits).toHaveLength(base.splits.length);
      for (const split of preview.splits) {
        expect(split.examples).toHaveLength(2);
        for (const example of split.examples) {
          expect(example.referenceReward).toBe(1);
          expect(example.tokens.some((token) => token.rewarded)).toBe(true);
          expect(example.tokens[0]).toMatchObject({ token: "<bos>", supervised: false, rewarded: false });
        }
      }
    }
  });

  it("needs an account to list one's own, create or fork", async () => {
    const anonymous = callerAs(getDb(), null);
    await expectTrpcError(anonymous.variants.list({ owner: "mine" }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.variants.create({ spec: draft("anon-variant") }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.variants.edit({ spec: draft(base.slug) }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.variants.fork({ from: { slug: base.slug }, slug: "anon-fork" }), "UNAUTHORIZED");
  });

  it("lets only the owner edit; another user may fork", async () => {
    const created = await callerAs(getDb(), owner).variants.create({ spec: draft("owned-variant") });
    expect(created).toMatchObject({ slug: "owned-variant", version: 1, ownerId: owner.id, isPreset: false });

    await expectTrpcError(callerAs(getDb(), other).variants.edit({ spec: draft("owned-variant", "Hijacked") }), "FORBIDDEN");
    await expectTrpcError(callerAs(getDb(), owner).variants.edit({ spec: draft(base.slug, "Not mine") }), "FORBIDDEN");
    const edited = await callerAs(getDb(), owner).variants.edit({ spec: draft("owned-variant", "Renamed") });
    expect(edited).toMatchObject({ version: 1, outcome: "updated", name: "Renamed" });

    const fork = await callerAs(getDb(), other).variants.fork({ from: { id: created.id }, slug: "forked-variant" });
    expect(fork).toMatchObject({ slug: "forked-variant", version: 1, ownerId: other.id });
    const mine = await callerAs(getDb(), other).variants.list({ owner: "mine" });
    expect(mine.items.map((item) => item.slug)).toEqual(["forked-variant"]);

    await expectTrpcError(callerAs(getDb(), other).variants.create({ spec: draft("owned-variant") }), "CONFLICT");
    await expectTrpcError(callerAs(getDb(), null).variants.get({ slug: "no-such-variant" }), "NOT_FOUND");
  });

  it("accepts the page direction tRPC's infinite queries add, and still refuses other unknown keys", async () => {
    const caller = callerAs(getDb(), null);
    const first = await caller.variants.list({ owner: "presets", limit: 1, direction: "forward" });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBe(1);
    const second = await caller.variants.list({ owner: "presets", limit: 1, cursor: 1, direction: "backward" });
    expect(second.items[0]?.slug).not.toBe(first.items[0]?.slug);
    expect(await expectUnrecognizedKeys(caller.variants.list({ owner: "presets", page: 2 } as never))).toEqual(["page"]);
    expect(await expectInvalidPaths(caller.variants.list({ direction: "up" } as never))).toContain("direction");
  });

  it("rejects out-of-range inputs with field paths", async () => {
    const caller = callerAs(getDb(), owner);
    const [split] = base.splits;
    if (split === undefined || base.family !== "string-ops") throw new Error("expected a string-ops preset");
    const tooDeep = { ...base, slug: "too-deep", splits: [{ ...split, params: { ...split.params, depth: { min: 1, max: 99 } } }, ...base.splits.slice(1)] };
    expect(await expectInvalidPaths(caller.variants.create({ spec: tooDeep as TaskVariant }))).toContain("spec.splits.0.params.depth.max");
    expect(await expectInvalidPaths(caller.variants.create({ spec: { ...base, slug: "Bad Slug!" } }))).toContain("spec.slug");
    expect(await expectInvalidPaths(caller.variants.list({ limit: 1000 }))).toContain("limit");
    expect(await expectInvalidPaths(caller.variants.list({ search: "x".repeat(101) }))).toContain("search");
    expect(await expectInvalidPaths(caller.variants.preview({ spec: base, options: { examplesPerSplit: 100 } }))).toContain(
      "options.examplesPerSplit",
    );
    expect(await expectInvalidPaths(caller.variants.get({ slug: "ok-slug", version: 0 }))).toContain("version");
    expect(await expectInvalidPaths(caller.variants.fork({ from: { slug: base.slug }, slug: "x" }))).toContain("slug");
    expect(await expectInvalidPaths(caller.variants.edit({ spec: { ...base, evalItemsPerSplit: 999_999 } }))).toContain("spec.evalItemsPerSplit");
    expect(await expectInvalidPaths(caller.variants.versions({ slug: "x".repeat(65) }))).toContain("slug");
    expect(await expectInvalidPaths(caller.variants.fork({ from: { id: "nope" }, slug: "fine-slug" }))).toContain("from.id");
  });
});
