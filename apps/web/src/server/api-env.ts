// Settings of accounts and the API, read and validated once (CONVENTIONS.md item 7). Kept
// apart from env.ts, which the custom server reads at start: route handlers read these too.
import { z } from "zod";

const positiveInt = z.coerce.number().int().min(1).max(1_000_000);

const apiEnvSchema = z.object({
  /** Signs session cookies. Unset: a random one is generated and kept in the data dir. */
  BETTER_AUTH_SECRET: z.string().min(32, "BETTER_AUTH_SECRET must be at least 32 characters").optional(),
  /** The site's public URL (e.g. https://transcend.example). Unset: taken from each request's Host. */
  BETTER_AUTH_URL: z.url().optional(),
  TRANSCEND_DATA_DIR: z.string().min(1).optional(),
  /** Runs one user may submit per rolling 24 hours. */
  TRANSCEND_DAILY_RUN_QUOTA: positiveInt.optional(),
});

export const DEFAULT_DAILY_RUN_QUOTA = 50;
/** Mirrors @transcend/db's default, where PGlite keeps its files. */
export const DEFAULT_DATA_DIR = "./.data";

export interface ApiEnv {
  authSecret: string | undefined;
  publicUrl: string | undefined;
  dataDir: string;
  dailyRunQuota: number;
}

const blankToUndefined = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());

export function readApiEnv(source: Record<string, string | undefined> = process.env): ApiEnv {
  const raw = apiEnvSchema.parse({
    BETTER_AUTH_SECRET: blankToUndefined(source.BETTER_AUTH_SECRET),
    BETTER_AUTH_URL: blankToUndefined(source.BETTER_AUTH_URL),
    TRANSCEND_DATA_DIR: blankToUndefined(source.TRANSCEND_DATA_DIR),
    TRANSCEND_DAILY_RUN_QUOTA: blankToUndefined(source.TRANSCEND_DAILY_RUN_QUOTA),
  });
  return {
    authSecret: raw.BETTER_AUTH_SECRET,
    publicUrl: raw.BETTER_AUTH_URL === undefined ? undefined : new URL(raw.BETTER_AUTH_URL).origin,
    dataDir: raw.TRANSCEND_DATA_DIR ?? DEFAULT_DATA_DIR,
    dailyRunQuota: raw.TRANSCEND_DAILY_RUN_QUOTA ?? DEFAULT_DAILY_RUN_QUOTA,
  };
}

let cached: ApiEnv | undefined;

/** The process's settings, read on first use. */
export function apiEnv(): ApiEnv {
  cached ??= readApiEnv();
  return cached;
}
