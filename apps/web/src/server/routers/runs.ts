// Runs: submit (N seeds → N queued runs, within the daily quota), list, one run's page,
// cancel (the submitter), reproduce (a graded run, by anyone signed in), and live updates.
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { RUN_STATES, TERMINAL_RUN_STATES, type RunState } from "@transcend/db/schema";
import { apiEnv } from "../api-env";
import { versionRefSchema } from "../services/catalogue";
import { enforceLimit } from "../rate-limit";
import { asTrpc } from "../services/errors";
import { cancelRun } from "../services/queue";
import {
  MAX_SEEDS_PER_SUBMISSION,
  getRun,
  listRuns,
  quotaRemaining,
  reproduceRun,
  runDetailSchema,
  runListInputSchema,
  runStates,
  runSubmitter,
  runSummarySchema,
  submitResultSchema,
  submitRuns,
} from "../services/runs";
import { assertOwner, protectedProcedure, publicProcedure, router, type RunUpdateEvent, type TrpcContext } from "../trpc";

const seedSchema = z.number().int().min(0).max(2 ** 31 - 1);
const runIdSchema = z.strictObject({ runId: z.uuid() });

const quotaOf = (ctx: TrpcContext) => ctx.dailyRunQuota ?? apiEnv().dailyRunQuota;

export const runUpdateSchema = z.object({
  runId: z.uuid(),
  /** Present when the state changed (and in the first message: the state now). */
  state: z.enum(RUN_STATES).nullable(),
  attempt: z.number().int().optional(),
  phase: z.string().optional(),
  step: z.number().int().optional(),
  /** Self-reported metrics of the latest progress event. */
  metrics: z.record(z.string(), z.number()).optional(),
});
export type RunUpdate = z.infer<typeof runUpdateSchema>;

const isTerminal = (state: RunState | null) => state !== null && (TERMINAL_RUN_STATES as readonly string[]).includes(state);

export const runsRouter = router({
  /** Queues one run per seed of a variant version and a recipe version. */
  submit: protectedProcedure
    .input(
      z
        .strictObject({
          variant: versionRefSchema,
          recipe: versionRefSchema,
          /** Explicit seeds… */
          seeds: z.array(seedSchema).min(1).max(MAX_SEEDS_PER_SUBMISSION).optional(),
          /** …or how many (seeds 1…N). Neither: the recipe's own seeds. */
          seedCount: z.number().int().min(1).max(MAX_SEEDS_PER_SUBMISSION).optional(),
        })
        .refine((input) => input.seeds === undefined || input.seedCount === undefined, {
          message: "give seeds or seedCount, not both",
          path: ["seedCount"],
        }),
    )
    .output(submitResultSchema)
    .mutation(async ({ ctx, input }) => {
      // The daily quota bounds the total; this refuses a script looping on submit before any row is written.
      await enforceLimit("submit", ctx.user.id);
      return asTrpc(() => submitRuns(ctx.db, { submitterId: ctx.user.id, ...input, dailyQuota: quotaOf(ctx) }));
    }),

  /** How many more runs the caller may submit today, and the limit. */
  quota: protectedProcedure
    .input(z.void())
    .output(z.object({ limit: z.number().int(), remaining: z.number().int() }))
    .query(async ({ ctx }) => ({ limit: quotaOf(ctx), remaining: await quotaRemaining(ctx.db, ctx.user.id, quotaOf(ctx)) })),

  /** Everyone's runs (or the caller's), newest first; filters by state, variant and recipe. */
  list: publicProcedure
    .input(runListInputSchema.prefault({}))
    .output(z.object({ items: z.array(runSummarySchema), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) => asTrpc(() => listRuns(ctx.db, input, ctx.user?.id ?? null))),

  /** A run's page: state, timeline with reasons, why it waits, self-reported curves, log, checkpoints. */
  get: publicProcedure
    .input(runIdSchema)
    .output(runDetailSchema)
    .query(({ ctx, input }) => asTrpc(() => getRun(ctx.db, input.runId, ctx.user?.id ?? null))),

  /** Cancels a run the caller submitted, wherever it is (queued, or on a runner). */
  cancel: protectedProcedure
    .input(z.strictObject({ runId: z.uuid(), reason: z.string().trim().max(500).optional() }))
    .output(z.object({ from: z.enum(RUN_STATES) }))
    .mutation(({ ctx, input }) =>
      asTrpc(async () => {
        const run = await runSubmitter(ctx.db, input.runId);
        assertOwner(ctx.user, run.submitterId, "run");
        if (isTerminal(run.state)) throw new TRPCError({ code: "CONFLICT", message: `This run already ended (${run.state}).` });
        return cancelRun(ctx.db, { runId: input.runId, reason: input.reason || `Cancelled by ${ctx.user.name}` });
      }),
    ),

  /** Queues the same variant, recipe and seed as a graded run, for a runner of another owner. */
  reproduce: protectedProcedure
    .input(runIdSchema)
    .output(submitResultSchema)
    .mutation(({ ctx, input }) =>
      asTrpc(() => reproduceRun(ctx.db, { runId: input.runId, submitterId: ctx.user.id, dailyQuota: quotaOf(ctx) })),
    ),

  /**
   * Live updates of one run over SSE (httpSubscriptionLink): first its state now, then
   * each change (state, progress with metrics) until it ends. Where the server has no
   * event source, only the first message comes; clients then poll `get`.
   */
  onUpdate: publicProcedure.input(runIdSchema).subscription(async function* ({ ctx, input, signal }) {
    const now = (await runStates(ctx.db, [input.runId])).get(input.runId);
    if (now === undefined) throw new TRPCError({ code: "NOT_FOUND", message: "There is no such run." });
    yield runUpdateSchema.parse({ runId: input.runId, state: now });
    const source = ctx.runUpdates;
    if (source === undefined || isTerminal(now)) return;

    const pending: RunUpdateEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = source.onRunUpdated(input.runId, (event) => {
      pending.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      while (signal?.aborted !== true) {
        if (pending.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const event = pending.shift();
        if (event === undefined) continue;
        const update = runUpdateSchema.safeParse({
          runId: input.runId,
          state: event.state ?? null,
          attempt: event.attempt,
          phase: event.phase,
          step: event.step,
          metrics: event.metrics,
        });
        if (!update.success) continue;
        yield update.data;
        if (isTerminal(update.data.state)) return;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
    }
  }),
});
