import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createCallerFactory, router } from "../trpc";
import { accountRouter } from "./account";
import { leaderboardRouter } from "./leaderboard";
import { resultsRouter } from "./results";
import { recipesRouter } from "./recipes";
import { runnersRouter } from "./runners";
import { runsRouter } from "./runs";
import { tokensRouter } from "./tokens";
import { variantsRouter } from "./variants";

export const appRouter = router({
  account: accountRouter,
  leaderboard: leaderboardRouter,
  results: resultsRouter,
  recipes: recipesRouter,
  runners: runnersRouter,
  runs: runsRouter,
  tokens: tokensRouter,
  variants: variantsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
