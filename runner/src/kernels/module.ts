// Instantiates one of the committed kernel modules (built from kernels-src/) against the
// wasm backend's memory, so its functions take byte addresses of tensors in place.
import { readFile } from "node:fs/promises";
import { type WasmBackend, webAssembly } from "./wasm-backend";

const compiled = new Map<string, Promise<object>>();

export async function instantiateKernels(backend: WasmBackend, file: string): Promise<Record<string, unknown>> {
  let module = compiled.get(file);
  if (!module) {
    module = readFile(new URL(`./${file}`, import.meta.url)).then((bytes) => webAssembly.compile(bytes));
    compiled.set(file, module);
  }
  const instance = await webAssembly.instantiate(await module, { env: { memory: backend.wasm.asm.memory } });
  return instance.exports;
}

/** An exported function, or a load-time error naming what is missing. */
export function exported<F extends (...args: never[]) => unknown>(exports: Record<string, unknown>, name: string, file: string): F {
  const f = exports[name];
  if (typeof f !== "function") throw new Error(`${file} does not export ${name}`);
  return f as F;
}
