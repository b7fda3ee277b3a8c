// Leaderboard queries. Plain functions that take `db` first, so routers, pages and tests
// call them the same way.
import { count, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@transcend/db";
import { runs, taskVariants } from "@transcend/db/schema";

export const leaderboardVariantSchema = z.object({
  slug: z.string(),
  name: z.string(),
  /** Latest version of the variant; the leaderboard lists each variant once. */
  version: z.number().int(),
  /** The task family (string-ops, graph-path, mod-arith), when the spec names one. */
  family: z.string().nullable(),
  description: z.string().nullable(),
  /** Runs of any version of this variant that the server has graded. */
  gradedRuns: z.number().int().min(0),
});
export type LeaderboardVariant = z.infer<typeof leaderboardVariantSchema>;

// The spec is validated by packages/protocol when written; here only the display fields matter.
const specDisplaySchema = z.object({
  family: z.string().optional(),
  description: z.string().optional(),
});

/** Every task variant (latest version), with how many graded runs it has. */
export async function listLeaderboardVariants(db: Db): Promise<LeaderboardVariant[]> {
  const latest = await db
    .selectDistinctOn([taskVariants.slug], {
      slug: taskVariants.slug,
      name: taskVariants.name,
      version: taskVariants.version,
      spec: taskVariants.spec,
    })
    .from(taskVariants)
    .orderBy(taskVariants.slug, desc(taskVariants.version));

  const graded = await db
    .select({ slug: taskVariants.slug, gradedRuns: count() })
    .from(runs)
    .innerJoin(taskVariants, eq(runs.variantId, taskVariants.id))
    .where(eq(runs.state, "graded"))
    .groupBy(taskVariants.slug);
  const gradedBySlug = new Map(graded.map((row) => [row.slug, row.gradedRuns]));

  return latest
    .map((row) => {
      const display = specDisplaySchema.safeParse(row.spec);
      return {
        slug: row.slug,
        name: row.name,
        version: row.version,
        family: display.success ? (display.data.family ?? null) : null,
        description: display.success ? (display.data.description ?? null) : null,
        gradedRuns: gradedBySlug.get(row.slug) ?? 0,
      };
    })
    .sort((a, b) => b.gradedRuns - a.gradedRuns || a.name.localeCompare(b.name));
}
