import { z } from "zod";
import { runResultsSchema, runResultsView } from "../services/run-results";
import { publicProcedure, router } from "../trpc";

// Public, like the leaderboard: a graded run's numbers are published. Before a run is
// graded the answer is `{ graded: false }` and nothing else, whoever asks.
export const resultsRouter = router({
  /** Statistics per split and model, per-item correct mass (base vs GRPO), provenance and verification. */
  run: publicProcedure
    .input(z.object({ runId: z.string().uuid() }))
    .output(runResultsSchema)
    .query(({ ctx, input }) => runResultsView(ctx.db, input.runId)),
});
