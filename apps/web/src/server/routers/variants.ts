// Task variants: public to browse and preview, an account to create, edit (the owner) and
// fork. Specs are validated with packages/protocol's taskVariantSchema, the same schema
// the form and the runner use.
import { z } from "zod";
import { taskVariantSchema, type TaskVariant } from "@transcend/protocol";
import {
  catalogueListInputSchema,
  createCatalogueEntry,
  editCatalogueEntry,
  forkCatalogueEntry,
  getCatalogueDetail,
  listCatalogue,
  listCatalogueVersions,
  slugSchema,
  versionRefSchema,
  versionSummarySchema,
} from "../services/catalogue";
import { asTrpc } from "../services/errors";
import { previewOptionsSchema, previewVariant, variantPreviewSchema } from "../services/variant-preview";
import { protectedProcedure, publicProcedure, router } from "../trpc";

// Stored specs passed taskVariantSchema when written; re-validating each on the way out
// would turn a later tightening of the schema into errors on old, published versions.
const storedVariantSchema = z.custom<TaskVariant>((value) => typeof value === "object" && value !== null);

const variantItemSchema = versionSummarySchema.extend({
  spec: storedVariantSchema,
  versions: z.number().int(),
  runs: z.number().int(),
});

const variantDetailSchema = versionSummarySchema.extend({
  spec: storedVariantSchema,
  contentHash: z.string(),
  latestVersion: z.number().int(),
  usedByRuns: z.boolean(),
});

const editOutcomeSchema = z.enum(["unchanged", "updated", "new_version"]);

export const variantsRouter = router({
  /** Latest version of every task variant (presets first), filterable, paged by `nextCursor`. */
  list: publicProcedure
    .input(catalogueListInputSchema.prefault({}))
    .output(z.object({ items: z.array(variantItemSchema), nextCursor: z.number().int().nullable() }))
    .query(({ ctx, input }) => asTrpc(() => listCatalogue<TaskVariant>(ctx.db, "task_variant", input, ctx.user?.id ?? null))),

  /** One version by id, or by slug (+ version; latest when omitted). */
  get: publicProcedure
    .input(versionRefSchema)
    .output(variantDetailSchema)
    .query(({ ctx, input }) => asTrpc(() => getCatalogueDetail<TaskVariant>(ctx.db, "task_variant", input))),

  /** Every version of a slug, newest first. */
  versions: publicProcedure
    .input(z.strictObject({ slug: slugSchema }))
    .output(z.array(versionSummarySchema))
    .query(({ ctx, input }) => asTrpc(() => listCatalogueVersions(ctx.db, "task_variant", input.slug))),

  /** Version 1 of a new slug, owned by the caller. */
  create: protectedProcedure
    .input(z.strictObject({ spec: taskVariantSchema }))
    .output(versionSummarySchema)
    .mutation(({ ctx, input }) => asTrpc(() => createCatalogueEntry(ctx.db, "task_variant", { ownerId: ctx.user.id, spec: input.spec }))),

  /**
   * Saves an edit of the caller's variant (slug from the spec): in place while no run used
   * the latest version, else as a new version, so published results keep their spec.
   */
  edit: protectedProcedure
    .input(z.strictObject({ spec: taskVariantSchema }))
    .output(versionSummarySchema.extend({ outcome: editOutcomeSchema }))
    .mutation(({ ctx, input }) => asTrpc(() => editCatalogueEntry(ctx.db, "task_variant", { actorId: ctx.user.id, spec: input.spec }))),

  /** Copies any version (anyone's) to a new slug the caller owns. */
  fork: protectedProcedure
    .input(z.strictObject({ from: versionRefSchema, slug: slugSchema, name: z.string().trim().min(1).max(120).optional() }))
    .output(versionSummarySchema)
    .mutation(({ ctx, input }) => asTrpc(() => forkCatalogueEntry(ctx.db, "task_variant", { actorId: ctx.user.id, ...input }))),

  /**
   * Generated examples of each split of a draft (not saved), token by token, with which
   * tokens pretraining supervises and which the GRPO reward reads. No account needed.
   */
  preview: publicProcedure
    .input(z.strictObject({ spec: taskVariantSchema, options: previewOptionsSchema.prefault({}) }))
    .output(variantPreviewSchema)
    .query(({ input }) => previewVariant(input.spec, input.options)),
});
