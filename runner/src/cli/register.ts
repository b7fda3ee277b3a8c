// `transcend-runner register --server URL --token T --name N`: exchanges a one-time
// registration token (created on the server's runners page) for this runner's own
// credential, and stores it in the config directory for `start`.
import type { Command } from "commander";
import { z } from "zod";
import { configDir, saveCredential } from "../config";
import { describeSocketError } from "../connection/runner-connection";
import { serverEndpoint } from "../connection/server-url";
import { UserError } from "../errors";

export const REGISTER_PATH = "/api/runners/register";
/** A registration is one small request; a server that has not answered in this time will not. */
export const REGISTER_TIMEOUT_MS = 30_000;

const MAX_TOKEN_LENGTH = 500;
const MAX_NAME_LENGTH = 100;

const registrationResponseSchema = z.object({
  runnerId: z.string().uuid(),
  credential: z.string().min(16).max(500),
});

interface RegisterOptions {
  server: string;
  token: string;
  name: string;
  config?: string;
}

export function registerRegisterCommand(program: Command): void {
  program
    .command("register")
    .description("exchange a one-time registration token from the server's runners page for this runner's credential")
    .requiredOption("--server <url>", "the server's address, e.g. https://transcend.example.org")
    .requiredOption("--token <token>", "the registration token the runners page showed (valid once)")
    .requiredOption("--name <name>", "a name for this runner, shown on the server")
    .option("--config <dir>", "where the credential is stored (default: $XDG_CONFIG_HOME/transcend-runner)")
    .action(async (options: RegisterOptions) => {
      const stored = await registerRunner(options);
      console.log(`transcend-runner: registered "${stored.name}" (${stored.runnerId}); credential stored in ${stored.file}`);
      console.log("transcend-runner: start it with: transcend-runner start");
    });
}

export async function registerRunner(options: RegisterOptions): Promise<{ runnerId: string; name: string; file: string }> {
  const token = options.token.trim();
  const name = options.name.trim();
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new UserError(`--token must be 1 to ${MAX_TOKEN_LENGTH} characters`);
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw new UserError(`--name must be 1 to ${MAX_NAME_LENGTH} characters`);
  const endpoint = serverEndpoint(options.server, REGISTER_PATH);

  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, name }),
      signal: AbortSignal.timeout(REGISTER_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = error instanceof Error && error.name === "TimeoutError" ? "timed out" : describeSocketError((error as { cause?: unknown }).cause ?? error);
    throw new UserError(`cannot reach ${endpoint.origin} to register (${cause})`);
  }
  const body = await response.text();
  // The server's own sentence says what to do; ours stand in when it sent none.
  const says = serverSays(body);
  if (response.status === 401)
    throw new UserError(`the server refused the registration token: ${says ?? "create a new one on the runners page"}`);
  if (response.status === 410)
    throw new UserError(`the registration token cannot be used again: ${says ?? "it expired or was already used; create a new one on the runners page"}`);
  if (!response.ok) throw new UserError(`registration failed: ${endpoint.origin} answered HTTP ${response.status}${says ? ` (${says})` : ""}`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const parsed = registrationResponseSchema.safeParse(json);
  if (!parsed.success) throw new UserError(`registration failed: ${endpoint.origin} did not answer with a runner credential; is this a Transcend server?`);

  const dir = configDir(options.config);
  const file = await saveCredential(dir, {
    server: options.server.trim(),
    runnerId: parsed.data.runnerId,
    name,
    credential: parsed.data.credential,
  });
  return { runnerId: parsed.data.runnerId, name, file };
}

/** The server's own words from an error body ({error} or {message}), when it sent some. */
function serverSays(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown };
    const words = typeof json.message === "string" ? json.message : typeof json.error === "string" ? json.error : undefined;
    if (words && words.trim().length > 0) return words.trim().slice(0, 300);
  } catch {
    // Not JSON: nothing to quote.
  }
  return undefined;
}
