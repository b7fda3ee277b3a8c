import type { ServerResponse } from "node:http";
import { z } from "zod";
import type { DatabaseKind, ServerContext } from "./context";

export const healthSchema = z.object({
  /** True when the server is ready and its database answers. */
  ok: z.boolean(),
  version: z.string(),
  database: z.enum(["pglite", "postgres"]),
  /** Runners that completed the hello handshake. */
  runnersConnected: z.number().int().min(0),
});
export type Health = z.infer<typeof healthSchema>;

/** The health report; `context` is undefined while the server is still starting. */
export async function checkHealth(
  context: ServerContext | undefined,
  fallback: { version: string; databaseKind: DatabaseKind },
): Promise<Health> {
  if (!context) {
    return { ok: false, version: fallback.version, database: fallback.databaseKind, runnersConnected: 0 };
  }
  let databaseAnswers = true;
  try {
    await context.pingDatabase();
  } catch {
    databaseAnswers = false;
  }
  return healthSchema.parse({
    ok: databaseAnswers,
    version: context.version,
    database: context.databaseKind,
    runnersConnected: context.gateway.runnersConnected,
  });
}

export function sendHealth(response: ServerResponse, health: Health): void {
  // 503 lets load balancers and the start script tell "up" from "starting" without parsing.
  response.writeHead(health.ok ? 200 : 503, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  response.end(JSON.stringify(health));
}
