import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { recipes, runs, taskVariants, users } from "./schema";
import { describeEachDatabase } from "./testing";
import {
  canonicalJson,
  contentHash,
  createRecipe,
  createTaskVariant,
  editRecipe,
  editTaskVariant,
  isVersionUsed,
  listVersions,
} from "./versioning";

it("hashes specs independently of key order", () => {
  expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
  expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
});

describeEachDatabase("versioning", (getDb) => {
  const alice = "alice";
  const bob = "bob";
  beforeAll(async () => {
    await getDb()
      .insert(users)
      .values([
        { id: alice, name: "Alice", email: "alice@example.com" },
        { id: bob, name: "Bob", email: "bob@example.com" },
      ]);
  });

  it("edits an unused version in place, then makes a new version once a run used it", async () => {
    const v1 = await createTaskVariant(getDb(), { ownerId: alice, spec: { slug: "graph-depth", name: "Graph", depth: 3 } });
    expect(v1.version).toBe(1);

    const draft = await editTaskVariant(getDb(), { actorId: alice, spec: { slug: "graph-depth", name: "Graph", depth: 4 } });
    expect(draft.outcome).toBe("updated");
    expect(draft.row).toMatchObject({ id: v1.id, version: 1, spec: { depth: 4 } });

    const recipe = await createRecipe(getDb(), { ownerId: alice, spec: { slug: "alice-tiny", name: "Tiny", lr: 1e-3 } });
    await getDb().insert(runs).values({ variantId: v1.id, recipeId: recipe.id, seed: 0, submitterId: alice });
    expect(await isVersionUsed(getDb(), "task_variant", v1.id)).toBe(true);

    const edited = await editTaskVariant(getDb(), { actorId: alice, spec: { slug: "graph-depth", name: "Graph", depth: 5 } });
    expect(edited.outcome).toBe("new_version");
    expect(edited.row).toMatchObject({ version: 2, ownerId: alice, spec: { depth: 5 } });
    expect(edited.row.id).not.toBe(v1.id);

    // The version the run used is exactly as it was.
    const [used] = await getDb().select().from(taskVariants).where(eq(taskVariants.id, v1.id));
    expect(used?.spec).toEqual({ slug: "graph-depth", name: "Graph", depth: 4 });
    expect((await listVersions(getDb(), "task_variant", "graph-depth")).map((r) => r.version)).toEqual([1, 2]);

    const recipeEdit = await editRecipe(getDb(), { actorId: alice, spec: { slug: "alice-tiny", name: "Tiny", lr: 3e-4 } });
    expect(recipeEdit).toMatchObject({ outcome: "new_version", row: { version: 2 } });
    const [oldRecipe] = await getDb().select().from(recipes).where(eq(recipes.id, recipe.id));
    expect(oldRecipe?.spec).toMatchObject({ lr: 1e-3 });
  });

  it("does nothing for an identical spec, whatever its key order", async () => {
    await createTaskVariant(getDb(), { ownerId: alice, spec: { slug: "same", name: "Same", a: 1, b: 2 } });
    const again = await editTaskVariant(getDb(), { actorId: alice, spec: { b: 2, a: 1, name: "Same", slug: "same" } });
    expect(again).toMatchObject({ outcome: "unchanged", row: { version: 1 } });
  });

  it("refuses taken slugs, unknown slugs and other people's edits", async () => {
    await createTaskVariant(getDb(), { ownerId: alice, spec: { slug: "alices", name: "A" } });
    await expect(createTaskVariant(getDb(), { ownerId: bob, spec: { slug: "alices", name: "B" } })).rejects.toMatchObject({ code: "slug_taken" });
    await expect(editTaskVariant(getDb(), { actorId: bob, spec: { slug: "alices", name: "B" } })).rejects.toMatchObject({ code: "forbidden" });
    await expect(editTaskVariant(getDb(), { actorId: bob, spec: { slug: "nobody", name: "B" } })).rejects.toMatchObject({ code: "not_found" });
    await expect(createTaskVariant(getDb(), { ownerId: bob, spec: { name: "no slug" } })).rejects.toMatchObject({ code: "invalid_spec" });
  });

  it("serialises concurrent edits of one used version into successive versions", async () => {
    const v1 = await createTaskVariant(getDb(), { ownerId: alice, spec: { slug: "busy", name: "Busy", k: 0 } });
    const recipe = await createRecipe(getDb(), { ownerId: alice, spec: { slug: "busy-recipe", name: "R" } });
    await getDb().insert(runs).values({ variantId: v1.id, recipeId: recipe.id, seed: 1, submitterId: alice });
    const results = await Promise.all(
      [1, 2, 3].map((k) => editTaskVariant(getDb(), { actorId: alice, spec: { slug: "busy", name: "Busy", k } })),
    );
    const outcomes = results.map((r) => r.outcome).sort();
    // The first edit makes v2 (v1 was used); the others find v2 unused and rewrite it.
    expect(outcomes).toEqual(["new_version", "updated", "updated"]);
    expect((await listVersions(getDb(), "task_variant", "busy")).map((r) => r.version)).toEqual([1, 2]);
  });
});
