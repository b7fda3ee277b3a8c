// `transcend-runner doctor`: which TensorFlow.js backend this machine runs, and why the
// others do not load.
import os from "node:os";
import type { Command } from "commander";
import { probeBackends, selectBackend } from "../backend";

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("Report which compute backend loads here and why the others do not.")
    .option("--json", "print a JSON report")
    .action(async (options: { json?: boolean }) => {
      const backends = await probeBackends();
      const selected = await selectBackend("auto");
      const report = {
        selected: selected.name,
        engine: selected.engine,
        threads: selected.threads,
        matmul: selected.matmul,
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
      );
      if (selected.name === "wasm" && !selected.matmul.startsWith("openblas") && process.platform === "linux")
        lines.push("faster: install Debian's OpenBLAS (apt-get install libopenblas0-pthread) for native matrix products on every core.");
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
