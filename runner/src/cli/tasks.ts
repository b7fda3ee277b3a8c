import type { Command } from "commander";

// Placeholder until its issue's work lands; replaced by the real command.
export function registerTasksCommand(program: Command): void {
  program.command("tasks").description("(not yet available)").action(() => {
    throw new Error("tasks is not implemented yet");
  });
}
