// Compiles kernels-src/*.c to runner/src/kernels/*.wasm with Debian's clang-14 + lld-14,
// and kernels-src/native/blas.c to the optional OpenBLAS addon with gcc and Node's headers
// (Debian: nodejs's /usr/include/node) — `npm run build:kernels -w @transcend/runner`.
// The outputs are committed, so installing and running the runner never needs a compiler.
/* global WebAssembly */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, "..", "src", "kernels");
const clang = process.env.CLANG ?? "clang-14";

for (const file of readdirSync(here).filter((f) => f.endsWith(".c"))) {
  // Headers (simd_math.h) are included by the .c files, not built on their own.
  const out = path.join(outDir, file.replace(/\.c$/, ".wasm"));
  execFileSync(
    clang,
    [
      "--target=wasm32",
      "-msimd128",
      "-O3",
      "-ffast-math", // lets clang reassociate reductions into SIMD lanes; results are checked against tfjs in tests
      "-fno-builtin",
      "-nostdlib",
      "-Wall",
      "-Werror",
      "-Wl,--no-entry",
      "-Wl,--import-memory", // the backend's memory: tensors are read and written in place
      "-Wl,--strip-all",
      `-fuse-ld=${process.env.LLD ?? "lld"}`,
      "-o",
      out,
      path.join(here, file),
    ],
    { stdio: "inherit", env: { ...process.env, PATH: `/usr/lib/llvm-14/bin:${process.env.PATH ?? ""}` } },
  );
  check(out);
  console.log(`built ${path.relative(process.cwd(), out)}`);
}

// The optional native BLAS addon (linux-x64 only; committed prebuilt). Node-API, so the
// binary does not depend on the Node version; OpenBLAS is dlopen'ed at load time, so it
// has no link-time dependency either.
if (process.platform === "linux" && process.arch === "x64") {
  const out = path.join(outDir, "blas-linux-x64.node");
  const headers = process.env.NODE_HEADERS ?? "/usr/include/node";
  execFileSync(
    process.env.CC ?? "gcc",
    ["-O2", "-shared", "-fPIC", "-Wall", "-Werror", "-DNODE_GYP_MODULE_NAME=transcend_blas", `-I${headers}`, path.join(here, "native", "blas.c"), "-o", out],
    { stdio: "inherit" },
  );
  console.log(`built ${path.relative(process.cwd(), out)}`);
}

/**
 * The module runs inside the backend's memory, so it must own none of it: no data
 * segments (they would overwrite the Emscripten heap at low addresses) and no use of the
 * shadow stack (same reason). Both are checked on the binary.
 */
function check(file) {
  const bytes = readFileSync(file);
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module);
  if (!imports.some((i) => i.kind === "memory")) throw new Error(`${file}: does not import memory`);
  // Section ids: 6 = globals (the stack pointer lives there), 11 = data.
  let offset = 8;
  while (offset < bytes.length) {
    const id = bytes[offset++];
    let size = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[offset++];
      size |= (byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    if (id === 11 && size > 1) throw new Error(`${file}: has data segments; kernels must not own memory`);
    offset += size;
  }
  // lld always defines a __stack_pointer global; what matters is that no code touches it.
  const disassembly = execFileSync(process.env.OBJDUMP ?? "llvm-objdump-14", ["-d", file], { encoding: "utf8" });
  if (/global\.(get|set)/.test(disassembly)) throw new Error(`${file}: uses the shadow stack; kernels must not`);
}
