// Training recipes: public to browse, an account to create (usually by forking a preset),
// edit (the owner; a used version makes a new one) and fork. Specs are packages/protocol's
// recipeSchema plus the slug and name they are stored under.
import { z } from "zod";
import { recipePresets, recipeSchema, type Recipe, type TaskVariant } from "@transcend/protocol";
import {
  catalogueListInputSchema,
  createCatalogueEntry,
  editCatalogueEntry,
  findVersion,
  forkCatalogueEntry,
  getCatalogueDetail,
  listCatalogue,
  listCatalogueVersions,
  slugSchema,
  versionRefSchema,
  versionSummarySchema,
} from "../services/catalogue";
import { asTrpc } from "../services/errors";
import { estimateRecipe, recipeEstimateSchema } from "../services/recipe-estimate";
import { protectedProcedure, publicProcedure, router } from "../trpc";

/** A recipe as stored: the recipe, its slug and its display name. */
export const recipeSpecSchema = recipeSchema.extend({
  slug: slugSchema,
  name: z.string().trim().min(1).max(80),
});
export type RecipeSpec = z.infer<typeof recipeSpecSchema>;

const storedRecipeSchema = z.custom<RecipeSpec>((value) => typeof value === "object" && value !== null);

const recipeItemSchema = versionSummarySchema.extend({
  spec: storedRecipeSchema,
  versions: z.number().int(),
  runs: z.number().int(),
});

const recipeDetailSchema = versionSummarySchema.extend({
  spec: storedRecipeSchema,
  contentHash: z.string(),
  latestVersion: z.number().int(),
  usedByRuns: z.boolean(),
});

export const recipesRouter = router({
  /** The built-in starting points (tiny, small, paper), as full recipes with defaults filled in. */
  presets: publicProcedure
    .input(z.void())
    .output(z.array(z.object({ name: z.string(), recipe: z.custom<Recipe>() })))
    .query(() => Object.entries(recipePresets).map(([name, recipe]) => ({ name, recipe }))),

  list: publicProcedure
    .input(catalogueListInputSchema.prefault({}))
    .output(z.object({ items: z.array(recipeItemSchema), nextCursor: z.number().int().nullable() }))
    .query(({ ctx, input }) => asTrpc(() => listCatalogue<RecipeSpec>(ctx.db, "recipe", input, ctx.user?.id ?? null))),

  get: publicProcedure
    .input(versionRefSchema)
    .output(recipeDetailSchema)
    .query(({ ctx, input }) => asTrpc(() => getCatalogueDetail<RecipeSpec>(ctx.db, "recipe", input))),

  versions: publicProcedure
    .input(z.strictObject({ slug: slugSchema }))
    .output(z.array(versionSummarySchema))
    .query(({ ctx, input }) => asTrpc(() => listCatalogueVersions(ctx.db, "recipe", input.slug))),

  create: protectedProcedure
    .input(z.strictObject({ spec: recipeSpecSchema }))
    .output(versionSummarySchema)
    .mutation(({ ctx, input }) => asTrpc(() => createCatalogueEntry(ctx.db, "recipe", { ownerId: ctx.user.id, spec: input.spec }))),

  edit: protectedProcedure
    .input(z.strictObject({ spec: recipeSpecSchema }))
    .output(versionSummarySchema.extend({ outcome: z.enum(["unchanged", "updated", "new_version"]) }))
    .mutation(({ ctx, input }) => asTrpc(() => editCatalogueEntry(ctx.db, "recipe", { actorId: ctx.user.id, spec: input.spec }))),

  fork: protectedProcedure
    .input(z.strictObject({ from: versionRefSchema, slug: slugSchema, name: z.string().trim().min(1).max(80).optional() }))
    .output(versionSummarySchema)
    .mutation(({ ctx, input }) => asTrpc(() => forkCatalogueEntry(ctx.db, "recipe", { actorId: ctx.user.id, ...input }))),

  /** Parameter count, tokens and FLOPs per phase of a draft recipe, against a variant when given. */
  estimate: publicProcedure
    .input(z.strictObject({ recipe: recipeSchema, variant: versionRefSchema.optional() }))
    .output(recipeEstimateSchema)
    .query(({ ctx, input }) =>
      asTrpc(async () => {
        const variant = input.variant === undefined ? undefined : await findVersion(ctx.db, "task_variant", input.variant);
        // Stored variants passed taskVariantSchema when written.
        return estimateRecipe(input.recipe, variant?.spec as TaskVariant | undefined);
      }),
    ),
});
