import { check, index, pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { versionedColumns } from "./versioned";

export const recipes = pgTable("recipes", versionedColumns(), (t) => [
  uniqueIndex("recipes_slug_version_key").on(t.slug, t.version),
  index("recipes_owner_id_idx").on(t.ownerId),
  index("recipes_content_hash_idx").on(t.contentHash),
  check("recipes_version_positive", sql`${t.version} >= 1`),
]);
