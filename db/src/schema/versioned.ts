import { integer, jsonb, text, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { users } from "./users";

/**
 * A task variant or recipe as submitted: its zod schema lives in packages/protocol;
 * the database relies only on `slug` (and `name`, when present, for display).
 */
export type VersionedSpec = { slug: string } & Record<string, unknown>;

// Task variants and recipes share one shape: a row per (slug, version). A row is
// immutable once a run references it; editing it then makes version + 1 (see
// db/src/versioning.ts), so every published number points at the exact spec it
// was produced with. `content_hash` is sha256 of the spec's canonical JSON.
export const versionedColumns = () => ({
  id: uuid().primaryKey().defaultRandom(),
  slug: text().notNull(),
  version: integer().notNull(),
  ownerId: text()
    .notNull()
    .references(() => users.id),
  name: text().notNull(),
  spec: jsonb().$type<VersionedSpec>().notNull(),
  contentHash: text().notNull(),
  createdAt: createdAt(),
});
