import { rmSync } from "node:fs";

/** Removes the throwaway database the suite's server used. */
export default function globalTeardown(): void {
  const dataDir = process.env.E2E_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
