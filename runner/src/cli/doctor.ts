// `transcend-runner doctor`: which TensorFlow.js backend this machine runs, why the
// others do not load, and what the chosen one really computes: a timed 1024×1024×1024
// matmul in GFLOP/s. That number is the proof a GPU is used — tfjs-node-gpu falls back
// to the CPU silently when CUDA or cuDNN libraries are missing.
import os from "node:os";
import type { Command } from "commander";
import { probeBackends, selectBackend } from "../backend";
import { measureMatmul, nvidiaGpuName } from "../connection/capabilities";

/** A doctor may take a while; on the pure-JS backend one 1024³ product alone takes seconds. */
const DOCTOR_MATMUL_BUDGET_MS = 20_000;
/**
 * Below this a "GPU" is computing at CPU speed: any CUDA GPU tfjs-node-gpu supports does
 * hundreds of GFLOP/s on this product, a CPU core tens.
 */
export const GPU_MIN_GFLOPS = 200;

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("Report which compute backend loads here and why the others do not.")
    .option("--json", "print a JSON report")
    .action(async (options: { json?: boolean }) => {
      const backends = await probeBackends();
      const selected = await selectBackend("auto");
      const matmul = await measureMatmul(selected, { maxSize: 1024, reps: 5, budgetMs: DOCTOR_MATMUL_BUDGET_MS });
      const gpu = nvidiaGpuName();
      const report = {
        selected: selected.name,
        engine: selected.engine,
        threads: selected.threads,
        matmul: selected.matmul,
        matmulProof: matmul,
        gpu: gpu ?? null,
        backends,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: os.cpus().length,
      };
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const lines = [`node ${report.node} on ${report.platform}, ${report.cpus} CPUs`, ""];
      for (const probe of backends) {
        const mark = probe.name === selected.name ? "→" : probe.loads ? "✓" : "✗";
        lines.push(`${mark} ${probe.name.padEnd(14)} ${probe.loads ? "loads" : `does not load: ${probe.reason ?? "unknown"}`}`);
      }
      lines.push(
        "",
        `training runs on ${selected.name} (${selected.engine}), matrix products on ${selected.matmul}; choose another with --backend.`,
        `measured: ${matmul.size}×${matmul.size}×${matmul.size} matmul, ${matmul.reps} reps in ${Math.round(matmul.ms)} ms: ${matmul.gflops} GFLOP/s on ${matmul.path}`,
      );
      lines.push(`device: ${selected.name === "tfjs-node-gpu" && gpu ? gpu : (os.cpus()[0]?.model.trim() ?? `${os.arch()} CPU`)}`);
      if (gpu && selected.name !== "tfjs-node-gpu") lines.push(`GPU: ${gpu} (nvidia-smi)`);
      if (selected.name === "tfjs-node-gpu" && matmul.gflops < GPU_MIN_GFLOPS)
        lines.push(
          `warning: ${matmul.gflops} GFLOP/s is CPU speed: libtensorflow did not find the GPU and fell back to the CPU.`,
          "check that CUDA 11.2 and cuDNN 8.1 are installed and on the loader path (ldconfig -p | grep -E 'libcudart|libcudnn'),",
          "and look above for libtensorflow's own lines (\"Could not load dynamic library ...\" or \"Created TensorFlow device ... GPU:0\").",
        );
      else if (selected.name === "tfjs-node-gpu") lines.push("the GPU is doing the work: this is GPU speed, not CPU speed.");
      else if (gpu) lines.push("a GPU is present but not used: install @tensorflow/tfjs-node-gpu (see README, \"Hosting a runner on a GPU box\").");
      if (selected.name === "wasm" && !selected.matmul.startsWith("openblas") && process.platform === "linux")
        lines.push("faster: install Debian's OpenBLAS (apt-get install libopenblas0-pthread) for native matrix products on every core.");
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
