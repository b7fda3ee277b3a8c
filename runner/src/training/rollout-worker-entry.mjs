// Entry of a rollout worker thread (rollout-pool.ts): registers tsx's ESM hook, as the CLI
// and job processes do, so the TypeScript worker runs without a build step.
import { register } from "tsx/esm/api";

register();
await import("./rollout-worker.ts");
