import { z } from "zod";
import { leaderboardVariantSchema, listLeaderboardVariants } from "../services/leaderboard";
import { publicProcedure, router } from "../trpc";

export const leaderboardRouter = router({
  /** The task variants the leaderboard is organised by; public, no account needed. */
  variants: publicProcedure
    .input(z.void())
    .output(z.array(leaderboardVariantSchema))
    .query(({ ctx }) => listLeaderboardVariants(ctx.db)),
});
