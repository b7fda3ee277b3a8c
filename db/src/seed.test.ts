import { count, eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { recipes, SYSTEM_USER_ID, taskVariants, users } from "./schema";
import { seedPresets } from "./seed";
import { describeEachDatabase } from "./testing";
import { createTaskVariant } from "./versioning";
import type { Db } from "./client";

const variants = [
  { slug: "string-ops-depth-zero", name: "String ops · depth, no overlap", family: "string-ops", splits: { id: { depth: 2 } } },
  { slug: "string-ops-depth-partial", name: "String ops · depth, 5% overlap", family: "string-ops", mix: { id: 0.95, depth: 0.05 } },
];
const recipeList = [{ slug: "tiny", name: "Tiny", model: { layers: 2 } }];

async function tableCounts(db: Db) {
  const [v] = await db.select({ n: count() }).from(taskVariants);
  const [r] = await db.select({ n: count() }).from(recipes);
  const [u] = await db.select({ n: count() }).from(users);
  return { variants: v?.n, recipes: r?.n, users: u?.n };
}

describeEachDatabase("seedPresets", (getDb) => {
  it("inserts version 1 of each preset, owned by the system user", async () => {
    const report = await seedPresets(getDb(), { variants, recipes: recipeList });
    expect(report.map((r) => [r.kind, r.slug, r.version, r.outcome])).toEqual([
      ["task_variant", "string-ops-depth-zero", 1, "inserted"],
      ["task_variant", "string-ops-depth-partial", 1, "inserted"],
      ["recipe", "tiny", 1, "inserted"],
    ]);
    const rows = await getDb().select().from(taskVariants).where(eq(taskVariants.slug, "string-ops-depth-zero"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ version: 1, ownerId: SYSTEM_USER_ID, name: "String ops · depth, no overlap", spec: variants[0] });
  });

  it("adds nothing when run again, even by two servers at once", async () => {
    const before = await tableCounts(getDb());
    const reports = await Promise.all([
      seedPresets(getDb(), { variants, recipes: recipeList }),
      seedPresets(getDb(), { variants, recipes: recipeList }),
    ]);
    expect(reports.flat().every((r) => r.outcome === "unchanged")).toBe(true);
    expect(await tableCounts(getDb())).toEqual(before);
  });

  it("seeds presets first seen by two servers at once exactly once", async () => {
    const fresh = [{ slug: "mod-arith-compose-zero", name: "Mod arith" }];
    const reports = await Promise.all([
      seedPresets(getDb(), { variants: fresh, recipes: [] }),
      seedPresets(getDb(), { variants: fresh, recipes: [] }),
    ]);
    expect(reports.flat().map((r) => r.outcome).sort()).toEqual(["inserted", "unchanged"]);
    const rows = await getDb().select().from(taskVariants).where(eq(taskVariants.slug, "mod-arith-compose-zero"));
    expect(rows).toHaveLength(1);
  });

  it("takes a changed preset (a new release) and leaves a user's slug alone", async () => {
    const changed = [{ ...variants[0], splits: { id: { depth: 3 } } }];
    const [report] = await seedPresets(getDb(), { variants: changed, recipes: [] });
    // No run used version 1 yet, so it is still a draft and is rewritten in place.
    expect(report).toMatchObject({ version: 1, outcome: "updated" });

    await getDb().insert(users).values({ id: "seed-user", name: "U", email: "seed-user@example.com" });
    await createTaskVariant(getDb(), { ownerId: "seed-user", spec: { slug: "users-own", name: "Mine" } });
    const [skipped] = await seedPresets(getDb(), { variants: [{ slug: "users-own", name: "Preset" }], recipes: [] });
    expect(skipped).toMatchObject({ outcome: "skipped", version: null });
  });

  it("accepts presets keyed by slug, as packages/protocol exports recipes", async () => {
    const keyed = { "keyed-small": { name: "small", model: { layers: 4 } } };
    const [first] = await seedPresets(getDb(), { variants: [], recipes: keyed });
    expect(first).toMatchObject({ kind: "recipe", slug: "keyed-small", version: 1, outcome: "inserted" });
    const [again] = await seedPresets(getDb(), { variants: [], recipes: keyed });
    expect(again).toMatchObject({ outcome: "unchanged" });
    const [row] = await getDb().select().from(recipes).where(eq(recipes.slug, "keyed-small"));
    expect(row).toMatchObject({ name: "small", spec: { slug: "keyed-small", name: "small", model: { layers: 4 } } });
  });

  it("rejects a preset without a slug", async () => {
    await expect(seedPresets(getDb(), { variants: [{ name: "no slug" }], recipes: [] })).rejects.toMatchObject({
      name: "VersioningError",
      code: "invalid_spec",
    });
  });
});
