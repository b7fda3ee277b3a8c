// transcend-runner: one sub-command per file in ./cli, wired here.
import { Command } from "commander";
import { registerBenchCommand } from "./cli/bench";
import { registerDoctorCommand } from "./cli/doctor";
import { registerRegisterCommand } from "./cli/register";
import { registerStartCommand } from "./cli/start";
import { registerReproduceCommand } from "./cli/reproduce";
import { registerTasksCommand } from "./cli/tasks";
import { registerTrainCommand } from "./cli/train";

export function buildProgram(): Command {
  const program = new Command("transcend-runner")
    .description("Pretrain, GRPO-train and evaluate small transformers for Transcend.")
    .showHelpAfterError();
  registerDoctorCommand(program);
  registerRegisterCommand(program);
  registerStartCommand(program);
  registerTasksCommand(program);
  registerTrainCommand(program);
  registerBenchCommand(program);
  registerReproduceCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    // Expected failures (bad input, unreachable server) are UserErrors: one clear line, no stack.
    if (error instanceof Error && error.name === "UserError") {
      console.error(`transcend-runner: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
