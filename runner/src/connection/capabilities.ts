import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { RunnerCapabilities } from "@transcend/protocol";
import { type BackendName, selectBackend, type SelectedBackend } from "../backend";

/** The proof of speed the hello carries: measured once at start, so it must be quick. */
export const CAPABILITIES_MATMUL_BUDGET_MS = 1_500;

export interface MatmulMeasurement {
  /** Largest square size timed (n × n times n × n). */
  size: number;
  reps: number;
  ms: number;
  gflops: number;
  /** Where the product ran, e.g. "libtensorflow (CUDA)", "openblas (4 threads)". */
  path: string;
}

/**
 * Times n×n·n×n products on the current backend: proof of what the device really does
 * (tfjs-node-gpu falls back to the CPU silently when libcudnn is missing; the GFLOP/s
 * tell). Sizes grow from 256 to `maxSize` while the budget allows; reading the result
 * back to the host is part of each product, so asynchronous GPU work is counted.
 */
export async function measureMatmul(
  backend: SelectedBackend,
  { maxSize = 1024, reps = 3, budgetMs = CAPABILITIES_MATMUL_BUDGET_MS }: { maxSize?: number; reps?: number; budgetMs?: number } = {},
): Promise<MatmulMeasurement> {
  const started = performance.now();
  let best: MatmulMeasurement | undefined;
  for (let size = 256; size <= maxSize; size *= 2) {
    const a = tf.randomUniform([size, size], -1, 1, "float32", 1);
    const b = tf.randomUniform([size, size], -1, 1, "float32", 2);
    try {
      const product = async () => {
        const c = tf.matMul(a, b);
        await c.data();
        c.dispose();
      };
      await product(); // warm-up: kernel selection, packing, device transfer
      const t0 = performance.now();
      let done = 0;
      while (done < reps) {
        await product();
        done += 1;
        // Keep the proof inside its budget on slow devices: fewer reps beat a slow start.
        if (performance.now() - started > budgetMs) break;
      }
      const ms = performance.now() - t0;
      best = { size, reps: done, ms, gflops: round((2 * size ** 3 * done) / (ms / 1000) / 1e9), path: backend.matmul.slice(0, 100) };
    } finally {
      a.dispose();
      b.dispose();
    }
    const spent = performance.now() - started;
    // The next size costs 8× as much per product.
    if (spent + (best.ms / best.reps) * 8 * (reps + 1) > budgetMs) break;
  }
  if (!best) throw new Error("matmul measurement did not run");
  return best;
}

function round(x: number): number {
  return x >= 100 ? Math.round(x) : Math.round(x * 10) / 10;
}

/** The GPU's name from nvidia-smi, when there is one. */
export function nvidiaGpuName(): string | undefined {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { timeout: 5_000, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const names = out.split("\n").map((line) => line.trim()).filter((line) => line !== "");
    return names.length > 0 ? names.join(", ") : undefined;
  } catch {
    return undefined;
  }
}

/** What this machine offers, sent in the hello so the server only assigns runs it can run. */
export async function detectCapabilities(preference: BackendName | "auto" = "auto"): Promise<RunnerCapabilities> {
  const backend = await selectBackend(preference);
  const cpuModel = os.cpus()[0]?.model.trim();
  const gpu = backend.name === "tfjs-node-gpu" ? nvidiaGpuName() : undefined;
  const device = gpu ?? (cpuModel && cpuModel.length > 0 ? cpuModel : `${os.arch()} CPU`);
  const matmul = await measureMatmul(backend);
  return {
    backend: backend.name,
    device: device.slice(0, 200),
    cores: Math.max(1, os.availableParallelism()),
    memoryBytes: os.totalmem(),
    matmul: { gflops: matmul.gflops, path: matmul.path },
  };
}

/** The runner's package version, reported in the hello. */
export function runnerVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof packageJson.version === "string" && packageJson.version !== "" ? packageJson.version : "0.0.0";
}
