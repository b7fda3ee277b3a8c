import type { Command } from "commander";

// Placeholder until its issue's work lands; replaced by the real command.
export function registerDoctorCommand(program: Command): void {
  program.command("doctor").description("(not yet available)").action(() => {
    throw new Error("doctor is not implemented yet");
  });
}
