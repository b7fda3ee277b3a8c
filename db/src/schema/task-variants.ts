import { check, index, pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { versionedColumns } from "./versioned";

export const taskVariants = pgTable("task_variants", versionedColumns(), (t) => [
  uniqueIndex("task_variants_slug_version_key").on(t.slug, t.version),
  index("task_variants_owner_id_idx").on(t.ownerId),
  index("task_variants_content_hash_idx").on(t.contentHash),
  check("task_variants_version_positive", sql`${t.version} >= 1`),
]);
