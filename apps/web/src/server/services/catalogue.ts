// Task variants and recipes as people browse and edit them: both are versioned specs
// (db/src/versioning.ts), so one set of functions serves both, parameterised by kind.
// Specs are validated by packages/protocol in the routers before they get here.
import { and, asc, count, desc, eq, ilike, inArray, or, sql } from "drizzle-orm";
import { z } from "zod";
import {
  createVersioned,
  editVersioned,
  getVersion,
  listVersions,
  type Db,
  type EditOutcome,
  type VersionedKind,
  type VersionRow,
} from "@transcend/db";
import { recipes, runs, SYSTEM_USER_ID, taskVariants, users } from "@transcend/db/schema";
import { ServiceError } from "./errors";
import { pageDirectionSchema } from "./paging";

const tableOf = (kind: VersionedKind) => (kind === "recipe" ? recipes : taskVariants) as typeof taskVariants;
const runColumnOf = (kind: VersionedKind) => (kind === "recipe" ? runs.recipeId : runs.variantId);
const noun = (kind: VersionedKind) => (kind === "recipe" ? "recipe" : "task variant");

export const slugSchema = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "a slug is lowercase letters and digits separated by single dashes");

/** A version as lists and detail pages show it; `spec` is typed by each router. */
export const versionSummarySchema = z.object({
  id: z.uuid(),
  slug: z.string(),
  version: z.number().int(),
  name: z.string(),
  ownerId: z.string(),
  ownerName: z.string(),
  /** Seeded by the platform (owned by the system user). */
  isPreset: z.boolean(),
  createdAt: z.date(),
});
export type VersionSummary = z.infer<typeof versionSummarySchema>;

export const catalogueListInputSchema = z.strictObject({
  /** mine: the caller's (needs an account); presets: the platform's; all: everyone's. */
  owner: z.enum(["all", "mine", "presets"]).default("all"),
  /** Case-insensitive match on slug or name. */
  search: z.string().trim().max(100).optional(),
  /** Task family (variants only; ignored for recipes). */
  family: z.string().max(32).optional(),
  limit: z.number().int().min(1).max(100).default(50),
  /** Offset into the list, as returned in `nextCursor`. */
  cursor: z.number().int().min(0).max(1_000_000).default(0),
  /** Sent by tRPC's infinite queries; ignored (see `pageDirectionSchema`). */
  direction: pageDirectionSchema,
});
export type CatalogueListInput = z.input<typeof catalogueListInputSchema>;

export interface CatalogueItem<Spec = Record<string, unknown>> extends VersionSummary {
  spec: Spec;
  /** How many versions the slug has. */
  versions: number;
  /** Runs of any version of this slug. */
  runs: number;
}

function summarise(row: VersionRow, ownerName: string): VersionSummary {
  return {
    id: row.id,
    slug: row.slug,
    version: row.version,
    name: row.name,
    ownerId: row.ownerId,
    ownerName,
    isPreset: row.ownerId === SYSTEM_USER_ID,
    createdAt: row.createdAt,
  };
}

/** Latest version of each slug, presets first, then newest; filtered and paged. */
/** `Spec`: the protocol type the router's schema validated the stored specs with when written. */
export async function listCatalogue<Spec = Record<string, unknown>>(
  db: Db,
  kind: VersionedKind,
  rawInput: CatalogueListInput,
  viewerId: string | null,
): Promise<{ items: CatalogueItem<Spec>[]; nextCursor: number | null }> {
  const input = catalogueListInputSchema.parse(rawInput);
  const table = tableOf(kind);
  const filters = [];
  if (input.owner === "mine") {
    if (viewerId === null) throw new ServiceError("unauthorized", "Sign in to list your own.");
    filters.push(eq(table.ownerId, viewerId));
  } else if (input.owner === "presets") {
    filters.push(eq(table.ownerId, SYSTEM_USER_ID));
  }
  if (input.search !== undefined && input.search !== "") {
    const pattern = `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    filters.push(or(ilike(table.slug, pattern), ilike(table.name, pattern)));
  }
  if (kind === "task_variant" && input.family !== undefined) filters.push(sql`${table.spec}->>'family' = ${input.family}`);

  // Filters apply to each slug's latest version only: a search finds what the list shows.
  const tableName = sql.raw(kind === "recipe" ? "recipes" : "task_variants");
  filters.push(sql`${table.version} = (select max(v.version) from ${tableName} v where v.slug = ${table.slug})`);
  const rows = await db
    .select({ row: table, ownerName: users.name })
    .from(table)
    .innerJoin(users, eq(users.id, table.ownerId))
    .where(and(...filters))
    .orderBy(sql`${table.ownerId} = ${SYSTEM_USER_ID} desc`, desc(table.createdAt), asc(table.slug))
    .limit(input.limit + 1)
    .offset(input.cursor);
  const page = rows.slice(0, input.limit);
  const slugs = page.map((r) => r.row.slug);
  const versionCounts = new Map<string, number>();
  const runCounts = new Map<string, number>();
  if (slugs.length > 0) {
    for (const v of await db.select({ slug: table.slug, n: count() }).from(table).where(inArray(table.slug, slugs)).groupBy(table.slug)) {
      versionCounts.set(v.slug, v.n);
    }
    const runRows = await db
      .select({ slug: table.slug, n: count() })
      .from(runs)
      .innerJoin(table, eq(runColumnOf(kind), table.id))
      .where(inArray(table.slug, slugs))
      .groupBy(table.slug);
    for (const r of runRows) runCounts.set(r.slug, r.n);
  }
  return {
    items: page.map(({ row, ownerName }) => ({
      ...summarise(row, ownerName),
      spec: row.spec as Spec,
      versions: versionCounts.get(row.slug) ?? 1,
      runs: runCounts.get(row.slug) ?? 0,
    })),
    nextCursor: rows.length > input.limit ? input.cursor + input.limit : null,
  };
}

export const versionRefSchema = z.union([
  z.strictObject({ id: z.uuid() }),
  /** Without `version`: the latest. */
  z.strictObject({ slug: slugSchema, version: z.number().int().min(1).max(1_000_000).optional() }),
]);
export type VersionRef = z.infer<typeof versionRefSchema>;

export interface CatalogueDetail<Spec = Record<string, unknown>> extends VersionSummary {
  spec: Spec;
  contentHash: string;
  latestVersion: number;
  /** A run references this version, so an edit makes a new version. */
  usedByRuns: boolean;
}

export async function findVersion(db: Db, kind: VersionedKind, ref: VersionRef): Promise<VersionRow> {
  const table = tableOf(kind);
  let row: VersionRow | undefined;
  if ("id" in ref) {
    [row] = await db.select().from(table).where(eq(table.id, ref.id));
  } else if (ref.version !== undefined) {
    row = await getVersion(db, kind, ref.slug, ref.version);
  } else {
    [row] = await db.select().from(table).where(eq(table.slug, ref.slug)).orderBy(desc(table.version)).limit(1);
  }
  if (row === undefined) throw new ServiceError("not_found", `There is no such ${noun(kind)}.`);
  return row;
}

export async function getCatalogueDetail<Spec = Record<string, unknown>>(
  db: Db,
  kind: VersionedKind,
  ref: VersionRef,
): Promise<CatalogueDetail<Spec>> {
  const table = tableOf(kind);
  const row = await findVersion(db, kind, ref);
  const [owner] = await db.select({ name: users.name }).from(users).where(eq(users.id, row.ownerId));
  const [latest] = await db
    .select({ version: sql<number>`max(${table.version})` })
    .from(table)
    .where(eq(table.slug, row.slug));
  const [used] = await db.select({ id: runs.id }).from(runs).where(eq(runColumnOf(kind), row.id)).limit(1);
  return {
    ...summarise(row, owner?.name ?? ""),
    spec: row.spec as Spec,
    contentHash: row.contentHash,
    latestVersion: Number(latest?.version ?? row.version),
    usedByRuns: used !== undefined,
  };
}

export async function listCatalogueVersions(db: Db, kind: VersionedKind, slug: string): Promise<VersionSummary[]> {
  const rows = await listVersions(db, kind, slug);
  if (rows.length === 0) throw new ServiceError("not_found", `There is no ${noun(kind)} called ${slug}.`);
  const names = new Map(
    (await db.select({ id: users.id, name: users.name }).from(users).where(inArray(users.id, [...new Set(rows.map((r) => r.ownerId))]))).map(
      (u) => [u.id, u.name],
    ),
  );
  return rows.map((row) => summarise(row, names.get(row.ownerId) ?? "")).reverse();
}

export async function createCatalogueEntry(
  db: Db,
  kind: VersionedKind,
  input: { ownerId: string; spec: Record<string, unknown> },
): Promise<VersionSummary> {
  const row = await createVersioned(db, kind, input);
  return summarise(row, await ownerName(db, row.ownerId));
}

/** Saves an edit by the slug's owner: in place while unused, else as a new version. */
export async function editCatalogueEntry(
  db: Db,
  kind: VersionedKind,
  input: { actorId: string; spec: Record<string, unknown> },
): Promise<VersionSummary & { outcome: EditOutcome }> {
  const { row, outcome } = await editVersioned(db, kind, input);
  return { ...summarise(row, await ownerName(db, row.ownerId)), outcome };
}

/** Copies any version under a new slug owned by `actorId` (version 1). */
export async function forkCatalogueEntry(
  db: Db,
  kind: VersionedKind,
  input: { actorId: string; from: VersionRef; slug: string; name?: string | undefined },
): Promise<VersionSummary> {
  const source = await findVersion(db, kind, input.from);
  const spec = { ...source.spec, slug: input.slug, name: input.name ?? `${source.name} (fork)`.slice(0, 80) };
  return createCatalogueEntry(db, kind, { ownerId: input.actorId, spec });
}

async function ownerName(db: Db, ownerId: string): Promise<string> {
  const [owner] = await db.select({ name: users.name }).from(users).where(eq(users.id, ownerId));
  return owner?.name ?? "";
}
