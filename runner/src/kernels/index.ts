// Fast kernels for the TensorFlow.js wasm backend (issue 8). They replace stock kernels
// by name, so every caller of tf.matMul / tf.fused.matMul gets them without changing.
//
// Why: the stock wasm BatchMatMul sends everything except a plain 2-D, untransposed,
// batch-1 product to a scalar loop (15–30× slower), and its XNNPACK path re-packs every
// fresh right-hand matrix. Ours is one cache-blocked SIMD gemm for every layout, reading
// and writing tensors in the backend's own memory.
import * as tf from "@tensorflow/tfjs";
import { elementwiseKernels } from "./elementwise";
import { adamwKernels } from "./adamw";
import { decoderKernels } from "./decoder";
import { fusedKernels } from "./fused";
import { type Gemm, loadGemm } from "./gemm";
import { loadNativeBlas, setNativeBlasThreads } from "./native-blas";
import { addressOf, currentWasmBackend, type WasmBackend } from "./wasm-backend";

type KernelFunc = tf.KernelConfig["kernelFunc"];
type KernelArgs = Parameters<KernelFunc>[0];

interface MatMulPlan {
  outShape: number[];
  m: number;
  n: number;
  k: number;
  /** Batch index of a and b for each output batch (undefined when strides express it). */
  pairs?: Array<[number, number]>;
  batch: number;
  strideA: number;
  strideB: number;
}

function product(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Output shape and batch walk of op(a)·op(b) with numpy broadcasting over batch dims. */
export function planMatMul(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) throw new Error(`matMul needs rank ≥ 2, got [${aShape.join(",")}] and [${bShape.join(",")}]`);
  const at = (shape: readonly number[], fromEnd: number) => shape[shape.length - fromEnd] ?? 1;
  const m = transposeA ? at(aShape, 1) : at(aShape, 2);
  const kA = transposeA ? at(aShape, 2) : at(aShape, 1);
  const kB = transposeB ? at(bShape, 1) : at(bShape, 2);
  const n = transposeB ? at(bShape, 2) : at(bShape, 1);
  if (kA !== kB)
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${aShape.join(",")} and ${bShape.join(",")} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...new Array<number>(rank - batchA.length).fill(1), ...batchA];
  const padB = [...new Array<number>(rank - batchB.length).fill(1), ...batchB];
  const outBatch = padA.map((d, i) => {
    const e = padB[i] ?? 1;
    if (d !== e && d !== 1 && e !== 1) throw new Error(`matMul: batch shapes [${batchA.join(",")}] and [${batchB.join(",")}] do not broadcast`);
    return Math.max(d, e);
  });
  const batch = product(outBatch);
  const sizeA = product(batchA);
  const sizeB = product(batchB);
  const plan = { outShape: [...outBatch, m, n], m, n, k: kA, batch, strideA: sizeA === 1 ? 0 : m * kA, strideB: sizeB === 1 ? 0 : kA * n };
  // Same size as the output batch means the same shape (up to leading ones), so a plain
  // stride walks it; size 1 broadcasts with stride 0. Anything else ([2,1] × [1,3]) is
  // walked index by index.
  if ((sizeA === batch || sizeA === 1) && (sizeB === batch || sizeB === 1)) return plan;
  const pairs: Array<[number, number]> = [];
  for (let o = 0; o < batch; o++) {
    let rest = o;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const size = outBatch[d] ?? 1;
      const index = rest % size;
      rest = Math.floor(rest / size);
      const da = padA[d] ?? 1;
      const db = padB[d] ?? 1;
      ia += (da === 1 ? 0 : index) * strideA;
      ib += (db === 1 ? 0 : index) * strideB;
      strideA *= da;
      strideB *= db;
    }
    pairs.push([ia, ib]);
  }
  return { ...plan, pairs };
}

function runMatMul(
  backend: WasmBackend,
  gemm: Gemm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: tf.TensorInfo | undefined,
): tf.TensorInfo {
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const out = backend.makeOutput(plan.outShape, "float32");
  if (product(plan.outShape) === 0) return out;
  const common = { m: plan.m, n: plan.n, k: plan.k, transposeA, transposeB, bias: bias ? addressOf(backend, bias) : undefined };
  const [aAddress, bAddress, outAddress] = [addressOf(backend, a), addressOf(backend, b), addressOf(backend, out)];
  if (!plan.pairs) {
    gemm.batchMatMul({ ...common, batch: plan.batch, a: aAddress, strideA: plan.strideA, b: bAddress, strideB: plan.strideB, out: outAddress });
    return out;
  }
  const bytesA = 4 * plan.m * plan.k;
  const bytesB = 4 * plan.k * plan.n;
  const bytesOut = 4 * plan.m * plan.n;
  plan.pairs.forEach(([ia, ib], o) => {
    gemm.batchMatMul({ ...common, batch: 1, a: aAddress + ia * bytesA, strideA: 0, b: bAddress + ib * bytesB, strideB: 0, out: outAddress + o * bytesOut });
  });
  return out;
}

interface Installed {
  backend: WasmBackend;
  /** Matmuls run on OpenBLAS (native, all cores) rather than the wasm gemm. */
  native: boolean;
  /** Names of our own kernels (fused ops), unregistered on uninstall. */
  added: string[];
  /** Stock configs we replaced, to restore and to fall back to for cases we do not cover. */
  stock: Map<string, tf.KernelConfig>;
}

let installed: Installed | undefined;
let preferXnnpackForPlain = true;

export interface FastKernelOptions {
  /**
   * Run matmuls on OpenBLAS through the committed Node-API addon when it loads (linux-x64
   * with libopenblas0): 4–10× the wasm gemm and both cores. Default true; false or a
   * failed load uses the wasm kernels.
   */
  nativeBlas?: boolean;
  /** Replace Pow, Tanh, Sum and Transpose too (default true). */
  elementwise?: boolean;
  /** Register the kernels of the fused ops in fused.ts (default true). */
  fused?: boolean;

  /** OpenBLAS threads (default: OpenBLAS's choice, all cores). */
  blasThreads?: number;
  /**
   * Leave plain 2-D untransposed products to the stock XNNPACK kernel, which measured
   * faster on them (bench-kernels.ts); default true. False sends every matmul to ours.
   */
  preferXnnpackForPlain?: boolean;
}

function fallback(name: string, args: KernelArgs): ReturnType<KernelFunc> {
  const stock = installed?.stock.get(name);
  if (!stock) throw new Error(`fast kernels: no stock ${name} to fall back to`);
  return stock.kernelFunc(args);
}

/**
 * Whether the stock kernel's XNNPACK path takes this product (2-D, untransposed, batch 1)
 * and is the faster choice for it.
 */
function stockIsFaster(a: tf.TensorInfo, b: tf.TensorInfo, attrs: tf.NamedAttrMap): boolean {
  if (installed?.native || !preferXnnpackForPlain || attrs.transposeA === true || attrs.transposeB === true) return false;
  // XNNPACK returns garbage for an empty inner dimension; ours writes zeros.
  if ((a.shape.at(-1) ?? 0) === 0) return false;
  return product(a.shape.slice(0, -2)) === 1 && product(b.shape.slice(0, -2)) === 1;
}

function batchMatMulKernel(backend: WasmBackend, gemm: Gemm): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs;
    const attrs = args.attrs ?? {};
    if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32" || stockIsFaster(a, b, attrs)) return fallback(tf.BatchMatMul, args);
    return runMatMul(backend, gemm, a, b, attrs.transposeA === true, attrs.transposeB === true, undefined);
  };
}

function fusedMatMulKernel(backend: WasmBackend, gemm: Gemm): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const attrs = args.attrs ?? {};
    const activation = attrs.activation ?? "linear";
    const n = b ? (attrs.transposeB === true ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]) : undefined;
    // Covered: a bias along the output columns, no activation. The rest (relu, prelu, …)
    // is rare in this model and goes to the stock kernel.
    const biasFits = !bias || (bias.dtype === "float32" && bias.shape.length === 1 && bias.shape[0] === n);
    if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32" || activation !== "linear" || preluActivationWeights || !biasFits)
      return fallback(tf._FusedMatMul, args);
    if (stockIsFaster(a, b, attrs)) return fallback(tf._FusedMatMul, args);
    return runMatMul(backend, gemm, a, b, attrs.transposeA === true, attrs.transposeB === true, bias);
  };
}

export interface FastKernelsReport {
  /** Kernel names now served by ours. */
  installed: string[];
  /** What runs the matmuls: "openblas (N threads)", "wasm-simd" or "stock". */
  matmul: string;
  /** Why native BLAS (or anything) is not in use, for the runner's doctor/bench output. */
  reason?: string;
}

/**
 * Replaces the wasm backend's matmul kernels with ours. Call after the wasm backend is
 * selected (tf.setBackend("wasm") + tf.ready()); on any other backend it installs nothing.
 * Calling it again re-installs with the new options.
 */
export async function installFastKernels(options: FastKernelOptions = {}): Promise<FastKernelsReport> {
  preferXnnpackForPlain = options.preferXnnpackForPlain ?? true;
  const backend = currentWasmBackend();
  if (!backend) return { installed: [], matmul: "stock", reason: "the current backend is not the unthreaded wasm one" };
  if (installed) uninstallFastKernels();
  const native = options.nativeBlas === false ? undefined : loadNativeBlas(backend, options.blasThreads);
  const gemm = native?.ok ? native.gemm : await loadGemm(backend);
  const replacements: Array<[string, KernelFunc]> = [
    [tf.BatchMatMul, batchMatMulKernel(backend, gemm)],
    [tf._FusedMatMul, fusedMatMulKernel(backend, gemm)],
  ];
  if (options.elementwise !== false)
    replacements.push(...(await elementwiseKernels(backend, (name) => (args) => fallback(name, args))));
  // Kernels of our own ops (fused.ts); only registered, nothing to restore.
  const added: Array<[string, KernelFunc]> = options.fused === false ? [] : [...(await fusedKernels(backend, gemm)), ...(await decoderKernels(backend, gemm)), ...(await adamwKernels(backend))];
  const stock = new Map<string, tf.KernelConfig>();
  for (const [kernelName, kernelFunc] of replacements) {
    const original = tf.getKernel(kernelName, "wasm");
    if (!original) continue;
    stock.set(kernelName, original);
    tf.unregisterKernel(kernelName, "wasm");
    // No setupFunc: the stock kernel's setup already ran when the backend initialised, and
    // ours captured what it needs above.
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
  }
  for (const [kernelName, kernelFunc] of added) tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
  installed = { backend, stock, native: native?.ok === true, added: added.map(([name]) => name) };
  return {
    installed: [...stock.keys(), ...installed.added],
    matmul: native?.ok ? `openblas (${native.threads} threads)` : "wasm-simd",
    reason: native && !native.ok ? native.reason : undefined,
  };
}

/**
 * OpenBLAS threads for the products that follow, when our kernels run them on OpenBLAS
 * (process-wide: every thread's products). Returns the previous count, or undefined when
 * OpenBLAS is not in use.
 */
export function setBlasThreads(count: number): number | undefined {
  return installed?.native ? setNativeBlasThreads(count) : undefined;
}

/** Puts the stock kernels back (for comparisons and tests). */
export function uninstallFastKernels(): void {
  if (!installed) return;
  for (const [kernelName, config] of installed.stock) {
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel(config);
  }
  for (const kernelName of installed.added) tf.unregisterKernel(kernelName, "wasm");
  installed = undefined;
}

export { type AttentionOptions, fusedAttention, fusedGelu, fusedLayerNorm, fusedTokenLogprobs } from "./fused";
export { type FusedAdamWResult, type FusedAdamWSettings, fusedAdamW } from "./adamw";
export { DecodeCache, type DecoderBlockWeights, fusedDecoderAvailable, fusedDecoderBlock } from "./decoder";
export { copyTensorValues } from "./wasm-backend";
