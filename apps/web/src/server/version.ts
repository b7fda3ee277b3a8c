import { readFileSync } from "node:fs";
import { z } from "zod";

/** The web app's version from its package.json, reported by /api/health and in the runner welcome. */
export function readServerVersion(): string {
  const packageJson: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return z.object({ version: z.string().min(1) }).parse(packageJson).version;
}
