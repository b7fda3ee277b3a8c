// The server's environment, read and validated once. Everything else receives values
// from here, so a bad setting fails at start with one line instead of deep in a request.
import { z } from "zod";
import { StartupError } from "./startup-error";

const portSchema = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  PORT: z.string().optional(),
  HOST: z.string().min(1).optional(),
  DATABASE_URL: z.string().optional(),
  TRANSCEND_DATA_DIR: z.string().min(1).optional(),
  TRANSCEND_LOCAL_RUNNER_TOKEN_FILE: z.string().min(1).optional(),
});

export interface ServerEnv {
  port: number;
  /** Interface to listen on; unset means all interfaces, as Node does by default. */
  host: string | undefined;
  /** PostgreSQL connection string; unset means the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Where PGlite keeps its files; unset means the database package's default. */
  dataDir: string | undefined;
  /** Set by `npm start`: where to write a registration token for the local runner. */
  localRunnerTokenFile: string | undefined;
}

export const DEFAULT_PORT = 3000;

export function readServerEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  const raw = envSchema.parse(source);
  let port = DEFAULT_PORT;
  if (raw.PORT !== undefined && raw.PORT !== "") {
    const parsed = portSchema.safeParse(raw.PORT);
    if (!parsed.success) {
      throw new StartupError(`PORT must be a whole number from 0 to 65535, not "${raw.PORT}"`);
    }
    port = parsed.data;
  }
  // The db package parses the URL and explains a malformed one (without echoing the password).
  const databaseUrl = raw.DATABASE_URL === undefined || raw.DATABASE_URL.trim() === "" ? undefined : raw.DATABASE_URL;
  return { port, host: raw.HOST, databaseUrl, dataDir: raw.TRANSCEND_DATA_DIR, localRunnerTokenFile: raw.TRANSCEND_LOCAL_RUNNER_TOKEN_FILE };
}
