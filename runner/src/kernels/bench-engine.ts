// The engine's own bench (cli/bench.ts) with and without the fast kernels, in one process
// so both see the same machine load. Run: npx tsx runner/src/kernels/bench-engine.ts
//   [--config tiny small base] [--steps 5] [--only fast|stock]
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
  const only = listArg("--only")[0];
  await selectBackend("wasm");
  const results: Record<string, Record<string, BenchResult>> = { stock: {}, fast: {} };
  for (const name of names) {
    const config = BENCH_CONFIGS[name];
    if (!config) throw new Error(`unknown config ${name}`);
    for (const variant of ["stock", "fast"] as const) {
      if (only && only !== variant) continue;
      if (variant === "fast") await installFastKernels();
      else uninstallFastKernels();
      const result = await benchConfig(config, steps);
      const table = results[variant];
      if (table) table[name] = result;
      process.stderr.write(`${name} ${variant} ${JSON.stringify(result)}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

await main();
