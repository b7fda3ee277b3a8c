// The engine's own bench (cli/bench.ts) with and without the fast kernels, in one process
// so all variants see the same machine load. Run: npx tsx runner/src/kernels/bench-engine.ts
//   [--config tiny small base] [--steps 5] [--only stock fast fast-wasm]
// stock: tfjs's wasm kernels; fast: ours with OpenBLAS matmuls where it loads; fast-wasm:
// ours with the wasm SIMD gemm only (what a machine without libopenblas0 gets).
import { selectBackend } from "../backend";
import { BENCH_CONFIGS, benchConfig, type BenchResult } from "../cli/bench";
import { installFastKernels, uninstallFastKernels } from "./index";

function listArg(name: string): string[] {
  const i = process.argv.indexOf(name);
  if (i < 0) return [];
  const out: string[] = [];
  for (const value of process.argv.slice(i + 1)) {
    if (value.startsWith("--")) break;
    out.push(value);
  }
  return out;
}

async function main(): Promise<void> {
  const names = listArg("--config").length > 0 ? listArg("--config") : Object.keys(BENCH_CONFIGS);
  const steps = Number(listArg("--steps")[0] ?? "5");
  const only = listArg("--only");
  await selectBackend("wasm");
  const variants = (only.length > 0 ? only : ["stock", "fast", "fast-wasm"]) as Array<"stock" | "fast" | "fast-wasm">;
  const results: Record<string, Record<string, BenchResult>> = {};
  for (const name of names) {
    const config = BENCH_CONFIGS[name];
    if (!config) throw new Error(`unknown config ${name}`);
    for (const variant of variants) {
      if (variant === "stock") uninstallFastKernels();
      else await installFastKernels({ nativeBlas: variant === "fast" });
      const result = await benchConfig(config, steps);
      results[variant] = { ...results[variant], [name]: result };
      process.stderr.write(`${name} ${variant} ${JSON.stringify(result)}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

await main();
