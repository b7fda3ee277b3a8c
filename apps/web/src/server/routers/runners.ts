// The runners page: register (one-time token + the exact command), list, revoke.
import { z } from "zod";
import { asTrpc } from "../services/errors";
import {
  createRegistrationToken,
  listRunners,
  revokeRunner,
  runnerNameSchema,
  runnerSummarySchema,
} from "../services/runners";
import { protectedProcedure, router } from "../trpc";

/** Quotes `value` for a POSIX shell when it holds anything but safe characters. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

export function registerCommand(input: { origin: string; token: string; name: string }): string {
  return `transcend-runner register --server ${shellQuote(input.origin)} --token ${shellQuote(input.token)} --name ${shellQuote(input.name)}`;
}

export const runnersRouter = router({
  /** A one-time registration token, shown only in this answer, and the command that uses it. */
  createRegistrationToken: protectedProcedure
    .input(z.strictObject({ name: runnerNameSchema }))
    .output(z.object({ id: z.uuid(), token: z.string(), expiresAt: z.date(), command: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const created = await createRegistrationToken(ctx.db, { ownerId: ctx.user.id });
      return { ...created, command: registerCommand({ origin: ctx.origin, token: created.token, name: input.name }) };
    }),

  /** The caller's runners with status (idle, busy, offline, revoked), hardware and current run. */
  list: protectedProcedure
    .input(z.void())
    .output(z.array(runnerSummarySchema))
    .query(({ ctx }) => listRunners(ctx.db, { ownerId: ctx.user.id })),

  /** Revokes one of the caller's runners: its credential stops working and its socket closes. */
  revoke: protectedProcedure
    .input(z.strictObject({ runnerId: z.uuid() }))
    .output(z.object({ revokedAt: z.date() }))
    .mutation(({ ctx, input }) => asTrpc(() => revokeRunner(ctx.db, { ownerId: ctx.user.id, runnerId: input.runnerId }))),
});
