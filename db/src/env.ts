import { UserError } from "./errors";

/** Where the embedded database lives when DATABASE_URL is unset. */
export const DEFAULT_DATA_DIR = "./.data";

export type DbEnv = {
  /** PostgreSQL to use instead of the embedded PGlite. */
  databaseUrl: string | undefined;
  /** PostgreSQL server on which integration tests create throwaway databases. */
  testDatabaseUrl: string | undefined;
};

/**
 * Checks that `value` is a PostgreSQL connection URL and returns it, or throws a
 * UserError naming `source` (the variable it came from). Only the shape is checked
 * here; whether the server answers is checked when connecting.
 */
export function parsePostgresUrl(value: string, source: string): string {
  const expected = "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE";
  // An environment variable can also be unset, which selects the embedded database.
  const remedy = /^[A-Z_]+$/.test(source)
    ? `Fix ${source}, or unset it to use the embedded PGlite database.`
    : "Pass a URL of that form.";
  const subject = source.charAt(0).toUpperCase() + source.slice(1);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`${subject} is not a valid URL (${expected}). ${remedy}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new UserError(`${subject} is not a PostgreSQL URL: it starts with ${url.protocol}// (${expected}). ${remedy}`);
  }
  // postgres.js also accepts a Unix socket directory as ?host=/path.
  if (url.hostname === "" && !url.searchParams.has("host")) {
    throw new UserError(`${subject} names no host: ${redactUrl(value)} (${expected}). ${remedy}`);
  }
  return value;
}

/** The URL without its password, safe to print. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return "<unparseable URL>";
  }
}

const optional = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());

/** Reads and validates the database variables of `source`; throws UserError. */
export function parseDbEnv(source: NodeJS.ProcessEnv): DbEnv {
  const databaseUrl = optional(source.DATABASE_URL);
  const testDatabaseUrl = optional(source.TEST_DATABASE_URL);
  return {
    databaseUrl: databaseUrl === undefined ? undefined : parsePostgresUrl(databaseUrl, "DATABASE_URL"),
    testDatabaseUrl:
      testDatabaseUrl === undefined ? undefined : parsePostgresUrl(testDatabaseUrl, "TEST_DATABASE_URL"),
  };
}

/**
 * Whether a URL handed to createDatabase is DATABASE_URL passed through, so errors can
 * name the variable the user has to fix rather than an option they never saw.
 */
export const isDatabaseUrlFromEnv = (url: string): boolean => url === optional(process.env.DATABASE_URL);

let cached: DbEnv | undefined;

/**
 * The process's database environment, read and validated once, on first use — not at
 * import, so that importing the package never throws.
 */
export function dbEnv(): DbEnv {
  cached ??= parseDbEnv(process.env);
  return cached;
}
