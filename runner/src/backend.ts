// Which TensorFlow.js backend the runner computes on. The first that loads wins:
// CUDA (tfjs-node-gpu) → native CPU (tfjs-node) → WebAssembly → pure JS. The native
// packages are optional dependencies (their install downloads libtensorflow), so on most
// volunteer machines the wasm backend is the working path.
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export const backendNames = ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"] as const;
export type BackendName = (typeof backendNames)[number];

export interface BackendProbe {
  name: BackendName;
  loads: boolean;
  /** Why it does not load (absent when it does). */
  reason?: string;
}

export interface SelectedBackend {
  name: BackendName;
  /** The engine label recorded with every result and bench, e.g. "tfjs-wasm". */
  engine: string;
  /** Threads the backend computes on (the wasm build tfjs ships runs one thread under Node). */
  threads: number;
  /**
   * Where matrix products run: on wasm, our kernels' OpenBLAS or SIMD path (results differ
   * in the last bits between them, so it is recorded with every result).
   */
  matmul: string;
}

const require = createRequire(import.meta.url);

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

/** The native packages register the "tensorflow" backend when imported. */
async function loadNative(pkg: "@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node"): Promise<void> {
  try {
    require.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed (optional dependency; its install downloads libtensorflow)`);
  }
  await import(pkg);
  if (!tf.findBackendFactory("tensorflow")) throw new Error(`${pkg} loaded but registered no "tensorflow" backend`);
}

let wasmPathsSet = false;
function pointWasmAtItsFiles(): void {
  if (wasmPathsSet) return;
  // In Node the wasm backend would look for its .wasm files beside the current directory;
  // point it at the package's dist folder wherever npm put it.
  const distDir = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  setWasmPaths(distDir + path.sep);
  wasmPathsSet = true;
}

function tfBackendOf(name: BackendName): string {
  return name === "tfjs-node-gpu" || name === "tfjs-node" ? "tensorflow" : name;
}

async function activate(name: BackendName): Promise<void> {
  if (name === "tfjs-node-gpu" || name === "tfjs-node") await loadNative(`@tensorflow/${name}`);
  if (name === "wasm") pointWasmAtItsFiles();
  // setBackend resolves false (and logs) instead of throwing when initialisation fails.
  const ok = await withQuietConsole(() => tf.setBackend(tfBackendOf(name)));
  if (!ok) throw new Error(`tf.setBackend("${tfBackendOf(name)}") failed to initialise`);
  await tf.ready();
  if (name === "wasm") {
    // TRANSCEND_NATIVE_BLAS=0 keeps the products on the wasm kernels even where OpenBLAS
    // loads (to compare, or to rule OpenBLAS out when a result looks wrong).
    const nativeBlas = process.env.TRANSCEND_NATIVE_BLAS !== "0";
    const report = await (await import("./kernels/index")).installFastKernels({ nativeBlas });
    wasmMatmul = report.matmul;
    wasmMatmulThreads = /openblas \((\d+) threads?\)/.exec(report.matmul)?.[1];
  }
}

// What installFastKernels reported when the wasm backend was last activated.
let wasmMatmul = "stock";
let wasmMatmulThreads: string | undefined;

/** The wasm loader prints several lines per failed attempt; a probe reports one reason instead. */
async function withQuietConsole<T>(f: () => Promise<T>): Promise<T> {
  const { log, warn, error } = console;
  const silent = (): void => undefined;
  console.log = silent;
  console.warn = silent;
  console.error = silent;
  try {
    return await f();
  } finally {
    Object.assign(console, { log, warn, error });
  }
}

function describe(name: BackendName): SelectedBackend {
  switch (name) {
    case "tfjs-node-gpu":
      return { name, engine: "tfjs-node-gpu", threads: 0, matmul: "libtensorflow (CUDA)" };
    case "tfjs-node":
      return { name, engine: "tfjs-node", threads: 0, matmul: "libtensorflow" };
    case "wasm":
      // Everything but the matrix products runs on one thread; OpenBLAS puts those on more.
      return { name, engine: "tfjs-wasm", threads: Number(wasmMatmulThreads ?? 1), matmul: wasmMatmul };
    case "cpu":
      return { name, engine: "tfjs-cpu", threads: 1, matmul: "stock" };
  }
}

/** Tries every backend in order of preference and says, for each, whether it loads and why not. */
export async function probeBackends(): Promise<BackendProbe[]> {
  const previous = tf.getBackend();
  const probes: BackendProbe[] = [];
  for (const name of backendNames) {
    try {
      await activate(name);
      probes.push({ name, loads: true });
    } catch (error) {
      probes.push({ name, loads: false, reason: errorMessage(error) });
    }
  }
  if (previous) await tf.setBackend(previous);
  return probes;
}

let selected: SelectedBackend | undefined;

/**
 * Makes a backend current for all TensorFlow.js work in this process and says which.
 * `auto` (the default) takes the first that loads; a named backend must load or this throws.
 */
export async function selectBackend(preference: BackendName | "auto" = "auto"): Promise<SelectedBackend> {
  if (selected && (preference === "auto" || preference === selected.name)) return selected;
  if (preference !== "auto") {
    try {
      await activate(preference);
    } catch (error) {
      throw new Error(`backend ${preference} does not load: ${errorMessage(error)}`);
    }
    selected = describe(preference);
    return selected;
  }
  const reasons: string[] = [];
  for (const name of backendNames) {
    try {
      await activate(name);
      selected = describe(name);
      return selected;
    } catch (error) {
      reasons.push(`${name}: ${errorMessage(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend loads (${reasons.join("; ")})`);
}

export function isBackendName(value: string): value is BackendName | "auto" {
  return value === "auto" || (backendNames as readonly string[]).includes(value);
}
