// One study run in a child process (`reproduce --parallel N`): the wasm engine computes on one
// thread, so N processes use N cores where one process would use one. The parent sends the
// run, the child reports progress and the results over the IPC channel; SIGTERM aborts.
import type { Recipe, TaskVariant } from "@transcend/protocol";
import type { BackendName } from "../backend";
import { type ProgressEvent, type RunResults, runTrainingJob } from "../training/job";

export interface RunRequest {
  variant: TaskVariant;
  recipe: Recipe;
  seed: number;
  backend: BackendName | "auto";
  originCacheDir: string | false | undefined;
}

export type RunProcessMessage =
  | { type: "progress"; event: ProgressEvent }
  | { type: "finished"; results: RunResults }
  | { type: "failed"; error: string };

function send(message: RunProcessMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error("run-process must be started with an IPC channel"));
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

const controller = new AbortController();
process.once("SIGTERM", () => controller.abort(new Error("cancelled")));

process.once("message", (request: RunRequest) => {
  void (async () => {
    try {
      const results = await runTrainingJob({
        ...request,
        signal: controller.signal,
        onProgress: (event) => void send({ type: "progress", event }).catch(() => {}),
      });
      await send({ type: "finished", results });
    } catch (error) {
      await send({ type: "failed", error: error instanceof Error ? error.message : String(error) }).catch(() => {});
    }
    process.disconnect();
  })();
});
