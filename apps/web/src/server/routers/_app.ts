import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createCallerFactory, router } from "../trpc";
import { accountRouter } from "./account";
import { leaderboardRouter } from "./leaderboard";
import { resultsRouter } from "./results";
import { runnersRouter } from "./runners";
import { tokensRouter } from "./tokens";

export const appRouter = router({
  account: accountRouter,
  leaderboard: leaderboardRouter,
  results: resultsRouter,
  runners: runnersRouter,
  tokens: tokensRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
