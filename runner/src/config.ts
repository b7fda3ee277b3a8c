// Where a registered runner keeps its credential: the user's config directory
// (XDG: $XDG_CONFIG_HOME/transcend-runner, else ~/.config/transcend-runner), in one
// JSON file only its owner can read. The credential is the runner's password: the server
// keeps only its hash, so losing this file means registering again.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { UserError } from "./errors";

export const CREDENTIALS_FILE = "credentials.json";
/** Owner read/write only: the file holds a secret. */
export const CREDENTIALS_FILE_MODE = 0o600;
/** Owner only: nobody else may even list what the runner stores. */
export const CONFIG_DIR_MODE = 0o700;

export const storedCredentialSchema = z.object({
  /** The server's web address as given to `register` (http or https). */
  server: z.string().min(1).max(2000),
  runnerId: z.string().uuid(),
  name: z.string().min(1).max(100),
  credential: z.string().min(16).max(500),
});
export type StoredCredential = z.infer<typeof storedCredentialSchema>;

/** The runner's config directory: `--config DIR`, else TRANSCEND_RUNNER_CONFIG, else the XDG location. */
export function configDir(override?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (override !== undefined && override !== "") return path.resolve(override);
  const fromEnv = env.TRANSCEND_RUNNER_CONFIG;
  if (fromEnv !== undefined && fromEnv !== "") return path.resolve(fromEnv);
  const xdg = env.XDG_CONFIG_HOME;
  // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".config");
  return path.join(base, "transcend-runner");
}

export function credentialsPath(dir: string): string {
  return path.join(dir, CREDENTIALS_FILE);
}

/** Writes the credential atomically with mode 0600 in a 0700 directory. */
export async function saveCredential(dir: string, stored: StoredCredential): Promise<string> {
  await mkdir(dir, { recursive: true, mode: CONFIG_DIR_MODE });
  // mkdir leaves an existing directory's mode alone; an earlier, looser one is tightened.
  await chmod(dir, CONFIG_DIR_MODE);
  const file = credentialsPath(dir);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(storedCredentialSchema.parse(stored), null, 2)}\n`, { mode: CREDENTIALS_FILE_MODE });
  await chmod(temporary, CREDENTIALS_FILE_MODE);
  await rename(temporary, file);
  return file;
}

/** The stored credential, or undefined when this runner was never registered here. */
export async function loadCredential(dir: string): Promise<StoredCredential | undefined> {
  const file = credentialsPath(dir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UserError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${file} is not JSON: register this runner again`);
  }
  const parsed = storedCredentialSchema.safeParse(json);
  if (!parsed.success) throw new UserError(`${file} is not a runner credential: register this runner again`);
  return parsed.data;
}
