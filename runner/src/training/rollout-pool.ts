// Rollouts on every core. The wasm backend computes on one thread, and OpenBLAS gains little
// from a second thread on decode-sized products (64 rows), so a rollout left most of the
// second core idle. Here the rows of a batch are split: this thread decodes its share while
// a worker thread (its own wasm backend and kernels, the same weights) decodes the rest.
// Every row samples from its own seeded stream (sampling.ts), so the completions are the
// same whichever thread decoded them.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { copyTensorValues, setBlasThreads } from "../kernels/index";
import type { ModelConfig } from "./config";
import { type Gpt, namedWeights } from "./model";
import type { DecodeOptions } from "./sampling";

/**
 * The policy's weights as the worker reads them: every variable's values, one after the
 * other in checkpoint order, in a buffer both threads share. Rewritten in place before a
 * request when the weights changed, so a GRPO run allocates nothing per step for them (a
 * fresh copy per step left megabytes of garbage per rollout for the collector).
 */
export interface SharedWeights {
  buffer: SharedArrayBuffer;
  /** [name, offset in floats, length in floats] per variable. */
  layout: Array<[string, number, number]>;
}

/** What a worker is asked to decode: the rows' prompts and seeds. */
export interface RolloutRequest {
  id: number;
  config: ModelConfig;
  /** Set when the weights changed since the worker's last request (or the buffer is new). */
  weights?: SharedWeights;
  prompts: number[][];
  /** Per-row sampling seeds (absent for greedy decoding). */
  rowSeeds?: string[];
  options: DecodeOptions;
}

export type RolloutReply = { id: number; completions: number[][] } | { id: number; error: string };

/** Fewer rows than this decode on one thread: the split would cost more than it saves. */
export const MIN_ROWS_TO_SPLIT = 16;

interface Pending {
  resolve: (completions: number[][]) => void;
  reject: (error: Error) => void;
}

class RolloutWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The weight tensors (by identity) the worker holds: assign() gives a variable a new dataId. */
  private sentWeights: object[] = [];
  private sentConfig = "";
  private weights: SharedWeights | undefined;
  failure: Error | undefined;

  constructor() {
    this.worker = new Worker(new URL("./rollout-worker-entry.mjs", import.meta.url));
    this.worker.unref(); // an idle pool never keeps the process alive
    this.worker.on("message", (reply: RolloutReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if ("error" in reply) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply.completions);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the rollout worker exited (code ${code})`)));
  }

  /** A request is in flight: the shared weights must not be rewritten until it is answered. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Posts the rows to the worker at once, synchronously: the caller decodes its own half
   * right after, and a post deferred to a promise callback would wait for that decode, so
   * the two halves would run one after the other.
   */
  generate(gpt: Gpt, prompts: number[][], rowSeeds: string[] | undefined, options: DecodeOptions): Promise<number[][]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.busy) return Promise.reject(new Error("the rollout worker is busy"));
    const variables = namedWeights(gpt);
    const config = JSON.stringify(gpt.config);
    const current = variables.map(([, v]) => v.dataId);
    const fresh = config !== this.sentConfig || current.length !== this.sentWeights.length || current.some((id, i) => id !== this.sentWeights[i]);
    if (fresh) this.weights = writeWeights(variables, this.weights);
    const request: RolloutRequest = { id: this.nextId++, config: gpt.config, prompts, rowSeeds, options, weights: fresh ? this.weights : undefined };
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.ref(); // a request in flight keeps the process alive until it is answered
      this.worker.postMessage(request);
      this.sentWeights = current;
      this.sentConfig = config;
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Writes the variables into the shared buffer, reusing it when the model has the same size. */
function writeWeights(variables: ReturnType<typeof namedWeights>, previous: SharedWeights | undefined): SharedWeights {
  const layout: SharedWeights["layout"] = [];
  let floats = 0;
  for (const [name, variable] of variables) {
    layout.push([name, floats, variable.size]);
    floats += variable.size;
  }
  const buffer = previous && previous.buffer.byteLength === floats * 4 ? previous.buffer : new SharedArrayBuffer(floats * 4);
  variables.forEach(([, variable], i) => {
    const [, offset, length] = layout[i] ?? ["", 0, 0];
    copyTensorValues(variable, new Float32Array(buffer, offset * 4, length));
  });
  return { buffer, layout };
}

let pool: RolloutWorker | undefined;
let disabledReason: string | undefined;

/**
 * Whether rollouts split across threads here: only on the wasm backend (native backends
 * thread themselves), with a second core, and unless TRANSCEND_ROLLOUT_THREADS=1.
 */
export function rolloutThreads(): number {
  if (disabledReason || tf.getBackend() !== "wasm") return 1;
  const configured = Number(process.env.TRANSCEND_ROLLOUT_THREADS ?? "");
  const wanted = Number.isInteger(configured) && configured >= 1 ? configured : availableParallelism();
  return Math.min(2, wanted);
}

/**
 * Decodes `prompts` with `decode` on this thread and on the worker, half each, and returns
 * the completions in order. Falls back to this thread alone (same results) if the worker fails.
 */
export async function generateSplit(
  gpt: Gpt,
  prompts: number[][],
  rowSeeds: string[] | undefined,
  options: DecodeOptions,
  decode: (prompts: number[][], rowSeeds: string[] | undefined) => number[][],
): Promise<number[][]> {
  pool ??= new RolloutWorker();
  const worker = pool;
  // Overlapping rollouts (not something the engine does) simply decode here.
  if (worker.busy) return decode(prompts, rowSeeds);
  const mine = Math.ceil(prompts.length / 2);
  // Each thread runs its products on one OpenBLAS thread: two single-threaded products side
  // by side beat two threads fighting over both cores.
  const previousThreads = setBlasThreads(1);
  try {
    const theirs = worker.generate(gpt, prompts.slice(mine), rowSeeds?.slice(mine), options);
    // A failed worker must not become an unhandled rejection while this thread is busy.
    theirs.catch(() => undefined);
    const ours = decode(prompts.slice(0, mine), rowSeeds?.slice(0, mine));
    try {
      return [...ours, ...(await theirs)];
    } catch (error) {
      disabledReason = error instanceof Error ? error.message : String(error);
      process.emitWarning(`rollouts continue on one thread: ${disabledReason}`);
      pool = undefined;
      void worker.terminate();
      return [...ours, ...decode(prompts.slice(mine), rowSeeds?.slice(mine))];
    }
  } finally {
    if (previousThreads !== undefined) setBlasThreads(previousThreads);
  }
}

/** Whether the worker is decoding rows right now (the split's two halves overlap). */
export function rolloutWorkerBusy(): boolean {
  return pool?.busy ?? false;
}

/** Stops the worker (tests; a job process simply exits). */
export async function stopRolloutPool(): Promise<void> {
  const worker = pool;
  pool = undefined;
  await worker?.terminate();
}
