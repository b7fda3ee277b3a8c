// A rollout worker thread: its own wasm backend and kernels, a copy of the policy's weights
// (refreshed when they change), and the same decoding code as the main thread.
import { parentPort } from "node:worker_threads";
import { createRng } from "@transcend/tasks";
import { selectBackend } from "../backend";
import { assignWeights, disposeGpt, type Gpt, gptFromValues } from "./model";
import type { RolloutReply, RolloutRequest } from "./rollout-pool";
import { decodeRows } from "./sampling";

if (!parentPort) throw new Error("rollout-worker.ts runs as a worker thread");
const port = parentPort;
const ready = selectBackend("wasm");
let gpt: Gpt | undefined;
let gptConfig = "";

function loadWeights(request: RolloutRequest): Gpt {
  const config = JSON.stringify(request.config);
  const sameModel = gpt !== undefined && gptConfig === config;
  if (!request.weights) {
    if (!gpt || !sameModel) throw new Error("the rollout worker holds no weights for this model");
    return gpt;
  }
  const { buffer, layout } = request.weights;
  // Views on the shared buffer: tf.tensor copies them into this thread's wasm memory.
  const values = new Map(layout.map(([name, offset, length]) => [name, new Float32Array(buffer, offset * 4, length)]));
  if (gpt && sameModel) {
    assignWeights(gpt, values);
    return gpt;
  }
  if (gpt) disposeGpt(gpt);
  gpt = gptFromValues(request.config, values, false);
  gptConfig = config;
  return gpt;
}

port.on("message", (request: RolloutRequest) => {
  void (async () => {
    let reply: RolloutReply;
    try {
      await ready;
      const model = loadWeights(request);
      const rowRngs = request.rowSeeds?.map((seed) => createRng(seed));
      reply = { id: request.id, completions: decodeRows(model, request.prompts, rowRngs, request.options) };
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  })();
});
