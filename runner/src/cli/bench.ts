import type { Command } from "commander";

// Placeholder until its issue's work lands; replaced by the real command.
export function registerBenchCommand(program: Command): void {
  program.command("bench").description("(not yet available)").action(() => {
    throw new Error("bench is not implemented yet");
  });
}
