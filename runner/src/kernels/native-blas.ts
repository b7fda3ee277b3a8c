// The optional native matmul (kernels-src/native/blas.c): OpenBLAS on the backend's memory.
// Loaded only on linux-x64 where a prebuilt binary is committed; anywhere it cannot load
// (another platform, no libopenblas0) the wasm kernels are used and the reason is kept.
import { createRequire } from "node:module";
import type { Gemm } from "./gemm";
import type { WasmBackend } from "./wasm-backend";

interface BlasAddon {
  matmul(
    memory: ArrayBuffer,
    batch: number,
    m: number,
    n: number,
    k: number,
    aByte: number,
    strideA: number,
    transA: number,
    bByte: number,
    strideB: number,
    transB: number,
    outByte: number,
    biasByte: number,
  ): void;
  threads(count?: number): number;
}

function isBlasAddon(value: unknown): value is BlasAddon {
  return typeof value === "object" && value !== null && "matmul" in value && typeof value.matmul === "function" && "threads" in value;
}

export type NativeBlas = { ok: true; gemm: Gemm; threads: number } | { ok: false; reason: string };

let addon: BlasAddon | { reason: string } | undefined;

function loadAddon(): BlasAddon | { reason: string } {
  if (addon) return addon;
  const file = `./blas-${process.platform}-${process.arch}.node`;
  try {
    const loaded: unknown = createRequire(import.meta.url)(file);
    addon = isBlasAddon(loaded) ? loaded : { reason: `${file} is not the expected addon` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    addon = { reason: message.includes("Cannot find module") ? `no prebuilt native BLAS for ${process.platform}-${process.arch}` : message.split("\n")[0] ?? message };
  }
  return addon;
}

/** OpenBLAS matmul on the backend's memory, with `threads` OpenBLAS threads (default: all cores). */
export function loadNativeBlas(backend: WasmBackend, threads?: number): NativeBlas {
  const loaded = loadAddon();
  if ("reason" in loaded) return { ok: false, reason: loaded.reason };
  const actualThreads = threads === undefined ? loaded.threads() : loaded.threads(threads);
  const memory = backend.wasm.asm.memory;
  return {
    ok: true,
    threads: actualThreads,
    gemm: {
      batchMatMul: (p) => {
        // The buffer is fetched per call: growing the wasm memory replaces it.
        const buffer = memory.buffer;
        if (!(buffer instanceof ArrayBuffer)) throw new Error("native BLAS needs an unshared wasm memory");
        loaded.matmul(
          buffer,
          p.batch,
          p.m,
          p.n,
          p.k,
          p.a,
          p.strideA,
          p.transposeA ? 1 : 0,
          p.b,
          p.strideB,
          p.transposeB ? 1 : 0,
          p.out,
          p.bias ?? -1,
        );
      },
    },
  };
}

/** Sets OpenBLAS's thread count for every later product (process-wide); returns the previous count. */
export function setNativeBlasThreads(count: number): number | undefined {
  const loaded = loadAddon();
  if ("reason" in loaded) return undefined;
  const previous = loaded.threads();
  loaded.threads(count);
  return previous;
}
