// Entry of a job process: registers tsx's ESM hook (as bin/transcend-runner.js does) so the
// TypeScript job runs without a build step, wherever the daemon was started from.
import { register } from "tsx/esm/api";

register();
await import("./job-process.ts");
