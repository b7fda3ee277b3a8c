import { TRPCError } from "@trpc/server";
import { z } from "zod";
import {
  leaderboardFilterSchema,
  leaderboardOverview,
  leaderboardOverviewSchema,
  leaderboardVariantSchema,
  listLeaderboardVariants,
  variantLeaderboard,
  variantLeaderboardQuerySchema,
  variantLeaderboardSchema,
} from "../services/leaderboard";
import { publicProcedure, router } from "../trpc";

// Public: no account needed. Only server-graded numbers; self-reported curves never appear.
export const leaderboardRouter = router({
  /** The task variants the leaderboard is organised by. */
  variants: publicProcedure
    .input(z.void())
    .output(z.array(leaderboardVariantSchema))
    .query(({ ctx }) => listLeaderboardVariants(ctx.db)),

  /** Every variant with its best recipe by OOD gain (mean ± 95% CI over seeds) and its pretraining overlap. */
  overview: publicProcedure
    .input(leaderboardFilterSchema.default({}))
    .output(leaderboardOverviewSchema)
    .query(({ ctx, input }) => leaderboardOverview(ctx.db, input)),

  /** One variant's rows (one per recipe), sorted and filtered as the page's URL says. */
  variant: publicProcedure
    .input(variantLeaderboardQuerySchema)
    .output(variantLeaderboardSchema)
    .query(async ({ ctx, input }) => {
      const board = await variantLeaderboard(ctx.db, input);
      if (board === undefined) throw new TRPCError({ code: "NOT_FOUND", message: `There is no task variant "${input.slug}".` });
      return board;
    }),
});
