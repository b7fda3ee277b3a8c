import type { Command } from "commander";

// Placeholder until its issue's work lands; replaced by the real command.
export function registerTrainCommand(program: Command): void {
  program.command("train").description("(not yet available)").action(() => {
    throw new Error("train is not implemented yet");
  });
}
