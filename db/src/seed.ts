import type { Db } from "./client";
import { SYSTEM_USER_ID, users } from "./schema";
import { contentHash, createVersioned, editVersioned, latestVersion, VersioningError, type VersionedKind } from "./versioning";

/** A preset as exported by packages/tasks / packages/protocol: JSON with a `slug`. */
export type Preset = { slug: string; name?: string } & Record<string, unknown>;

/**
 * Presets as a list of objects with a `slug`, or as a record keyed by slug (the key
 * is used when an entry has no `slug` of its own).
 */
export type PresetList = readonly unknown[] | Readonly<Record<string, unknown>>;

function presetSpecs(list: PresetList): unknown[] {
  if (Array.isArray(list)) return [...list];
  return Object.entries(list).map(([slug, spec]) =>
    typeof spec === "object" && spec !== null && !Array.isArray(spec) && !("slug" in spec) ? { slug, ...spec } : spec,
  );
}

export type SeedOutcome = "inserted" | "unchanged" | "updated" | "new_version" | "skipped";

export type SeedReport = Array<{ kind: VersionedKind; slug: string; version: number | null; outcome: SeedOutcome }>;

/**
 * Makes sure every preset task variant and recipe exists, owned by the system user.
 * Idempotent and safe to run from several server instances at once: a preset already
 * present with the same content is left alone; one whose content changed in a new
 * release gets a new version if runs used the old one. A slug already owned by a user
 * is left to them ("skipped").
 */
export async function seedPresets(db: Db, presets: { variants: PresetList; recipes: PresetList }): Promise<SeedReport> {
  await db
    .insert(users)
    .values({ id: SYSTEM_USER_ID, name: "Transcend", email: "system@transcend.invalid", emailVerified: true })
    .onConflictDoNothing();
  const report: SeedReport = [];
  for (const spec of presetSpecs(presets.variants)) report.push(await seedOne(db, "task_variant", spec));
  for (const spec of presetSpecs(presets.recipes)) report.push(await seedOne(db, "recipe", spec));
  return report;
}

async function seedOne(db: Db, kind: VersionedKind, spec: unknown): Promise<SeedReport[number]> {
  try {
    const row = await createVersioned(db, kind, { ownerId: SYSTEM_USER_ID, spec });
    return { kind, slug: row.slug, version: row.version, outcome: "inserted" };
  } catch (error) {
    if (!(error instanceof VersioningError && error.code === "slug_taken")) throw error;
  }
  // The slug exists; createVersioned validated the spec, so it is an object with a slug.
  const slug = (spec as Preset).slug;
  const latest = await latestVersion(db, kind, slug);
  if (latest === undefined) throw new Error(`seedPresets: ${slug} exists but has no version`);
  if (latest.ownerId !== SYSTEM_USER_ID) return { kind, slug, version: null, outcome: "skipped" };
  if (latest.contentHash === contentHash(spec)) return { kind, slug, version: latest.version, outcome: "unchanged" };
  const { row, outcome } = await editVersioned(db, kind, { actorId: SYSTEM_USER_ID, spec });
  return { kind, slug, version: row.version, outcome };
}
