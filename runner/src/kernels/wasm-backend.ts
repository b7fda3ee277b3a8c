// The parts of @tensorflow/tfjs-backend-wasm's BackendWasm that fast kernels use. They are
// not in its public typings, so they are described here and checked at run time once.
import * as tf from "@tensorflow/tfjs";

/** The slice of the WebAssembly JS API used here (the project's TypeScript lib has no DOM/wasm types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Record<string, Record<string, unknown>>): Promise<{ exports: Record<string, unknown> }>;
}
export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface WasmTensorData {
  /** Byte address of the tensor's values in the backend's memory. */
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
}

export interface WasmBackend {
  wasm: {
    /** Emscripten's exports; `memory` is the WebAssembly.Memory every tensor lives in. */
    asm: { memory: WasmMemory };
    _malloc(bytes: number): number;
    _free(address: number): void;
  };
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The current backend as a WasmBackend, or undefined when it is not the (unthreaded) wasm one. */
export function currentWasmBackend(): WasmBackend | undefined {
  if (tf.getBackend() !== "wasm") return undefined;
  const backend: unknown = tf.backend();
  if (!isRecord(backend) || !isRecord(backend.wasm) || !isRecord(backend.wasm.asm)) return undefined;
  const memory = backend.wasm.asm.memory;
  // A shared memory means the threaded build, whose memory our kernels would need to
  // import as shared; not supported (tfjs does not load that build under Node anyway).
  if (!(memory instanceof webAssembly.Memory) || !(memory.buffer instanceof ArrayBuffer)) return undefined;
  if (typeof backend.wasm._malloc !== "function" || typeof backend.wasm._free !== "function") return undefined;
  if (!isRecord(backend.dataIdMap) || typeof backend.dataIdMap.get !== "function") return undefined;
  if (typeof backend.makeOutput !== "function" || typeof backend.disposeData !== "function") return undefined;
  return backend as unknown as WasmBackend;
}

/** Byte address of a tensor's values. */
export function addressOf(backend: WasmBackend, tensor: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (!data) throw new Error("fast kernels: tensor has no data on the wasm backend");
  return data.memoryOffset;
}

/**
 * Copies a float32 tensor's values into `target` without allocating: straight from the wasm
 * memory on this backend (dataSync would make a fresh copy per call), through dataSync elsewhere.
 */
export function copyTensorValues(tensor: tf.Tensor, target: Float32Array): void {
  if (tensor.dtype !== "float32" || target.length !== tensor.size) throw new Error("copyTensorValues: a float32 target of the tensor's size");
  const backend = currentWasmBackend();
  const data = backend?.dataIdMap.get(tensor.dataId);
  if (!backend || !data) {
    target.set(tensor.dataSync() as Float32Array);
    return;
  }
  const memory = backend.wasm.asm.memory.buffer;
  target.set(new Float32Array(memory, data.memoryOffset, tensor.size));
}
