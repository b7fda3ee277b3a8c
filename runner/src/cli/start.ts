import type { Command } from "commander";

// Placeholder until its issue's work lands; replaced by the real command.
export function registerStartCommand(program: Command): void {
  program.command("start").description("(not yet available)").action(() => {
    throw new Error("start is not implemented yet");
  });
}
