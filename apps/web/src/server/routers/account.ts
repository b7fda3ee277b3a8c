// Who am I: the signed-in user (session or token), or null. Pages use better-auth's
// useSession; scripts use this to check their token.
import { z } from "zod";
import { publicProcedure, router } from "../trpc";

export const accountRouter = router({
  me: publicProcedure
    .input(z.void())
    .output(
      z
        .object({ id: z.string(), name: z.string(), email: z.string(), authMethod: z.enum(["session", "token"]) })
        .nullable(),
    )
    .query(({ ctx }) => (ctx.user === null || ctx.authMethod === null ? null : { ...ctx.user, authMethod: ctx.authMethod })),
});
