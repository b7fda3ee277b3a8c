// Entry of a study run's child process: registers tsx's ESM hook (as bin/transcend-runner.js
// does) so the TypeScript runs without a build step.
import { register } from "tsx/esm/api";

register();
await import("./run-process.ts");
