// Personal access tokens for the HTTP API: `Authorization: Bearer tpat_…` on any tRPC
// procedure. The raw token is returned once at creation; the database keeps its sha256
// (the token is 32 random bytes, so a fast hash is enough) and a short prefix for display.
import { createHash, randomBytes } from "node:crypto";
import { and, count, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@transcend/db";
import { apiTokens, users } from "@transcend/db/schema";
import { ServiceError } from "./errors";

export const API_TOKEN_PREFIX = "tpat_";
/** Characters of the token kept in clear, enough to tell a user's tokens apart. */
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 6;
/** Live tokens one user may hold; more is a sign of a script minting tokens in a loop. */
export const MAX_LIVE_TOKENS_PER_USER = 50;
/** Writing last_used_at on every request would make each API call a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const apiTokenNameSchema = z.string().trim().min(1).max(100);
export const apiTokenExpirySchema = z.number().int().min(1).max(366);

/** What a list shows: never the token or its hash. */
export const apiTokenSummarySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});
export type ApiTokenSummary = z.infer<typeof apiTokenSummarySchema>;

export const hashApiToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

/** Creates a token for `userId`; the returned `token` is the only time it is ever readable. */
export async function createApiToken(
  db: Db,
  input: { userId: string; name: string; expiresInDays?: number | undefined; now?: Date },
): Promise<ApiTokenSummary & { token: string }> {
  const now = input.now ?? new Date();
  const [live] = await db
    .select({ n: count() })
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, input.userId), isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now))));
  if ((live?.n ?? 0) >= MAX_LIVE_TOKENS_PER_USER) {
    throw new ServiceError("limit", `You already have ${MAX_LIVE_TOKENS_PER_USER} live tokens; revoke one first.`);
  }
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const expiresAt =
    input.expiresInDays === undefined ? null : new Date(now.getTime() + input.expiresInDays * 24 * 60 * 60 * 1000);
  const [row] = await db
    .insert(apiTokens)
    .values({
      userId: input.userId,
      name: input.name,
      tokenHash: hashApiToken(token),
      prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
      createdAt: now,
      expiresAt,
    })
    .returning();
  if (row === undefined) throw new Error("inserting an API token returned no row");
  return { ...summarise(row), token };
}

export async function listApiTokens(db: Db, userId: string): Promise<ApiTokenSummary[]> {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.createdAt))
    .limit(200);
  return rows.map(summarise);
}

/** Revokes one of the caller's tokens; revoking twice is a no-op. */
export async function revokeApiToken(db: Db, input: { userId: string; tokenId: string }): Promise<ApiTokenSummary> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, input.tokenId));
  if (row === undefined) throw new ServiceError("not_found", "There is no such token.");
  if (row.userId !== input.userId) throw new ServiceError("forbidden", "This token belongs to someone else.");
  if (row.revokedAt !== null) return summarise(row);
  const [updated] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(eq(apiTokens.id, input.tokenId))
    .returning();
  return summarise(updated ?? row);
}

/** The user a raw token authenticates, or null when it is unknown, revoked or expired. */
export async function authenticateApiToken(
  db: Db,
  token: string,
  now: Date = new Date(),
): Promise<{ id: string; name: string; email: string } | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  const [row] = await db
    .select({
      tokenId: apiTokens.id,
      revokedAt: apiTokens.revokedAt,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      id: users.id,
      name: users.name,
      email: users.email,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, hashApiToken(token)));
  if (row === undefined || row.revokedAt !== null) return null;
  if (row.expiresAt !== null && row.expiresAt <= now) return null;
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, row.tokenId), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now))));
  }
  return { id: row.id, name: row.name, email: row.email };
}

function summarise(row: typeof apiTokens.$inferSelect): ApiTokenSummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
  };
}
