// The exact commands the runners page shows after creating a registration token.

/**
 * The two lines a runner's owner pastes: the server's `transcend-runner register …` (it
 * knows its public address and quotes the token and name) run through npx, which finds the
 * runner's bin in a checkout of Transcend, then `start`.
 */
export function runnerCommands(registerCommand: string): string {
  const register = registerCommand.trim().replace(/^(npx\s+)?/, "npx ");
  return `${register}\nnpx transcend-runner start`;
}

/** A default runner name: the browser cannot know the runner's host name, so a short random suffix tells several apart. */
export function defaultRunnerName(random: () => number = Math.random): string {
  const suffix = Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, "0");
  return `runner-${suffix}`;
}
