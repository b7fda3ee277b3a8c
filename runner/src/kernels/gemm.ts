// Loads gemm.wasm (built from kernels-src/gemm.c) into the wasm backend's memory and
// exposes its batched matmul on byte addresses of that memory.
import { instantiateKernels } from "./module";
import type { WasmBackend } from "./wasm-backend";

interface GemmExports {
  gemm_workspace_bytes(): number;
  batch_matmul(
    batch: number,
    m: number,
    n: number,
    k: number,
    a: number,
    strideA: number,
    transA: number,
    b: number,
    strideB: number,
    transB: number,
    c: number,
    bias: number,
    work: number,
  ): void;
}

export interface Gemm {
  /**
   * out[i] = op(a[i])·op(b[i]) (+ bias[N]) for i < batch, with op = transpose when asked;
   * strides are in floats, 0 broadcasts one matrix over the batch; addresses in bytes.
   */
  batchMatMul(args: {
    batch: number;
    m: number;
    n: number;
    k: number;
    a: number;
    strideA: number;
    transposeA: boolean;
    b: number;
    strideB: number;
    transposeB: boolean;
    out: number;
    bias?: number;
  }): void;
}

function isGemmExports(value: Record<string, unknown>): value is Record<string, unknown> & GemmExports {
  return typeof value.batch_matmul === "function" && typeof value.gemm_workspace_bytes === "function";
}

const loaded = new WeakMap<WasmBackend, Promise<Gemm>>();

/** The gemm for a backend; one instance and one workspace per backend, however often asked. */
export function loadGemm(backend: WasmBackend): Promise<Gemm> {
  let gemm = loaded.get(backend);
  if (!gemm) {
    gemm = instantiateGemm(backend);
    loaded.set(backend, gemm);
  }
  return gemm;
}

async function instantiateGemm(backend: WasmBackend): Promise<Gemm> {
  const exports = await instantiateKernels(backend, "gemm.wasm");
  if (!isGemmExports(exports)) throw new Error("gemm.wasm does not export batch_matmul");
  // Packing buffers for the lifetime of the backend; freed never (one per process, < 1 MB).
  const work = backend.wasm._malloc(exports.gemm_workspace_bytes());
  if (work === 0) throw new Error("fast kernels: the wasm backend could not allocate the gemm workspace");
  return {
    batchMatMul: (p) =>
      exports.batch_matmul(
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
        p.bias ?? 0,
        work,
      ),
  };
}
