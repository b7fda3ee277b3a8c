import { createHash } from "node:crypto";
import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { recipes, runs, taskVariants, type VersionedSpec } from "./schema";

/**
 * Task variants and recipes are versioned the same way: a row per (slug, version),
 * immutable once a run references it, so every result points at the exact spec that
 * produced it. Editing a version no run has used yet rewrites it in place (a draft);
 * editing a used one makes version + 1.
 */
export type VersionedKind = "task_variant" | "recipe";

export type VersionRow = typeof taskVariants.$inferSelect;

export type EditOutcome = "unchanged" | "updated" | "new_version";

export class VersioningError extends Error {
  override name = "VersioningError" as const;
  constructor(
    readonly code: "invalid_spec" | "not_found" | "forbidden" | "slug_taken",
    message: string,
  ) {
    super(message);
  }
}

// Both tables are built from `versionedColumns()`, so they have the same columns and
// one code path serves both; the cast only forgets which of the two it is.
const tableOf = (kind: VersionedKind) => (kind === "recipe" ? recipes : taskVariants) as typeof taskVariants;
const runColumnOf = (kind: VersionedKind) => (kind === "recipe" ? runs.recipeId : runs.variantId);
const noun = (kind: VersionedKind) => (kind === "recipe" ? "recipe" : "task variant");

// First key of the advisory locks that serialise edits (the second is the slug's hash).
const EDIT_LOCK_CLASS: Record<VersionedKind, number> = { task_variant: 74201, recipe: 74202 };

/** JSON with object keys sorted at every level, so equal specs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/** sha256 (hex) of the spec's canonical JSON. */
export const contentHash = (spec: unknown): string => createHash("sha256").update(canonicalJson(spec)).digest("hex");

/** Checks the two fields the database relies on; the rest is packages/protocol's job. */
export function checkSpec(kind: VersionedKind, spec: unknown): { spec: VersionedSpec; name: string } {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new VersioningError("invalid_spec", `A ${noun(kind)} must be a JSON object.`);
  }
  const record = spec as Record<string, unknown>;
  const { slug, name } = record;
  if (typeof slug !== "string" || slug === "") {
    throw new VersioningError("invalid_spec", `A ${noun(kind)} needs a non-empty string "slug".`);
  }
  if (name !== undefined && typeof name !== "string") {
    throw new VersioningError("invalid_spec", `The "name" of ${noun(kind)} ${slug} must be a string.`);
  }
  return { spec: { ...record, slug }, name: name ?? slug };
}

/** The newest version of a slug, or undefined. */
export async function latestVersion(db: Db, kind: VersionedKind, slug: string): Promise<VersionRow | undefined> {
  const table = tableOf(kind);
  const [row] = await db.select().from(table).where(eq(table.slug, slug)).orderBy(desc(table.version)).limit(1);
  return row;
}

export async function getVersion(
  db: Db,
  kind: VersionedKind,
  slug: string,
  version: number,
): Promise<VersionRow | undefined> {
  const table = tableOf(kind);
  const [row] = await db
    .select()
    .from(table)
    .where(and(eq(table.slug, slug), eq(table.version, version)));
  return row;
}

export async function listVersions(db: Db, kind: VersionedKind, slug: string): Promise<VersionRow[]> {
  const table = tableOf(kind);
  return db.select().from(table).where(eq(table.slug, slug)).orderBy(table.version);
}

/** Whether any run references this version (and so it may no longer change). */
export async function isVersionUsed(db: Db, kind: VersionedKind, id: string): Promise<boolean> {
  const [row] = await db.select({ id: runs.id }).from(runs).where(eq(runColumnOf(kind), id)).limit(1);
  return row !== undefined;
}

/** Creates version 1 of a new slug; `slug_taken` if the slug exists. */
export async function createVersioned(
  db: Db,
  kind: VersionedKind,
  input: { ownerId: string; spec: unknown },
): Promise<VersionRow> {
  const { spec, name } = checkSpec(kind, input.spec);
  const table = tableOf(kind);
  const [row] = await db
    .insert(table)
    .values({ slug: spec.slug, version: 1, ownerId: input.ownerId, name, spec, contentHash: contentHash(spec) })
    .onConflictDoNothing({ target: [table.slug, table.version] })
    .returning();
  if (row === undefined) {
    throw new VersioningError("slug_taken", `A ${noun(kind)} called ${spec.slug} already exists.`);
  }
  return row;
}

/**
 * Saves an edited spec under its slug: `unchanged` if it equals the latest version,
 * `updated` in place if no run has used the latest version yet, else `new_version`.
 * Only the slug's owner may edit it.
 */
export async function editVersioned(
  db: Db,
  kind: VersionedKind,
  input: { actorId: string; spec: unknown },
): Promise<{ row: VersionRow; outcome: EditOutcome }> {
  const { spec, name } = checkSpec(kind, input.spec);
  const hash = contentHash(spec);
  const table = tableOf(kind);
  return db.transaction(async (tx) => {
    // Serialise edits of one slug. A row lock alone would not do: an edit waiting on
    // the lock of version n would then still see n as the latest (its snapshot predates
    // the n + 1 the other edit inserted). Each statement after this one sees commits
    // made while waiting.
    await tx.execute(sql`select pg_advisory_xact_lock(${EDIT_LOCK_CLASS[kind]}, hashtext(${spec.slug}))`);
    // FOR UPDATE conflicts with the FOR KEY SHARE lock that inserting a run takes on
    // the version it references, so "no run uses it" stays true until commit.
    const [latest] = await tx
      .select()
      .from(table)
      .where(eq(table.slug, spec.slug))
      .orderBy(desc(table.version))
      .limit(1)
      .for("update");
    if (latest === undefined) {
      throw new VersioningError("not_found", `There is no ${noun(kind)} called ${spec.slug}.`);
    }
    if (latest.ownerId !== input.actorId) {
      throw new VersioningError("forbidden", `The ${noun(kind)} ${spec.slug} belongs to someone else.`);
    }
    if (latest.contentHash === hash) return { row: latest, outcome: "unchanged" as const };
    if (!(await isVersionUsed(tx, kind, latest.id))) {
      const [row] = await tx
        .update(table)
        .set({ name, spec, contentHash: hash })
        .where(eq(table.id, latest.id))
        .returning();
      if (row === undefined) throw new Error(`editVersioned: ${spec.slug} v${latest.version} vanished`);
      return { row, outcome: "updated" as const };
    }
    const [row] = await tx
      .insert(table)
      .values({ slug: spec.slug, version: latest.version + 1, ownerId: latest.ownerId, name, spec, contentHash: hash })
      .returning();
    if (row === undefined) throw new Error(`editVersioned: insert of ${spec.slug} v${latest.version + 1} returned nothing`);
    return { row, outcome: "new_version" as const };
  });
}

// Named entry points for the two aggregates.
export const createTaskVariant = (db: Db, input: { ownerId: string; spec: unknown }) =>
  createVersioned(db, "task_variant", input);
export const editTaskVariant = (db: Db, input: { actorId: string; spec: unknown }) =>
  editVersioned(db, "task_variant", input);
export const createRecipe = (db: Db, input: { ownerId: string; spec: unknown }) => createVersioned(db, "recipe", input);
export const editRecipe = (db: Db, input: { actorId: string; spec: unknown }) => editVersioned(db, "recipe", input);
