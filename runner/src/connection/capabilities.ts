import { readFileSync } from "node:fs";
import os from "node:os";
import type { RunnerCapabilities } from "@transcend/protocol";
import { selectBackend } from "../backend";

/** What this machine offers, sent in the hello so the server only assigns runs it can run. */
export async function detectCapabilities(): Promise<RunnerCapabilities> {
  const backend = await selectBackend();
  const cpuModel = os.cpus()[0]?.model.trim();
  return {
    backend: backend.name,
    device: cpuModel && cpuModel.length > 0 ? cpuModel.slice(0, 200) : `${os.arch()} CPU`,
    cores: Math.max(1, os.availableParallelism()),
    memoryBytes: os.totalmem(),
  };
}

/** The runner's package version, reported in the hello. */
export function runnerVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof packageJson.version === "string" && packageJson.version !== "" ? packageJson.version : "0.0.0";
}
