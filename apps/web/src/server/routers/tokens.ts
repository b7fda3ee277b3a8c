// Personal access tokens (account page): the HTTP API's credentials.
import { z } from "zod";
import {
  apiTokenExpirySchema,
  apiTokenNameSchema,
  apiTokenSummarySchema,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "../services/api-tokens";
import { asTrpc } from "../services/errors";
import { protectedProcedure, router } from "../trpc";

export const tokensRouter = router({
  /** The raw token is in this answer only; store it now. */
  create: protectedProcedure
    .input(z.strictObject({ name: apiTokenNameSchema, expiresInDays: apiTokenExpirySchema.optional() }))
    .output(apiTokenSummarySchema.extend({ token: z.string() }))
    .mutation(({ ctx, input }) =>
      asTrpc(() => createApiToken(ctx.db, { userId: ctx.user.id, name: input.name, expiresInDays: input.expiresInDays })),
    ),

  /** The caller's tokens (never their secret), newest first. */
  list: protectedProcedure
    .input(z.void())
    .output(z.array(apiTokenSummarySchema))
    .query(({ ctx }) => listApiTokens(ctx.db, ctx.user.id)),

  revoke: protectedProcedure
    .input(z.strictObject({ id: z.uuid() }))
    .output(apiTokenSummarySchema)
    .mutation(({ ctx, input }) => asTrpc(() => revokeApiToken(ctx.db, { userId: ctx.user.id, tokenId: input.id }))),
});
