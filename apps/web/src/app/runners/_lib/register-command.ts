// The exact commands the runners page shows after creating a registration token. Kept
// apart from React so the quoting is tested: a copied command must run as shown.

/** Quotes `value` for a POSIX shell unless it is made only of characters that need none. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** `npx transcend-runner register … && npx transcend-runner start`, one line to paste. */
export function registerCommand(input: { server: string; token: string; name: string }): string {
  const register = [
    "npx transcend-runner register",
    `--server ${shellQuote(input.server)}`,
    `--token ${shellQuote(input.token)}`,
    `--name ${shellQuote(input.name)}`,
  ].join(" ");
  return `${register} && npx transcend-runner start`;
}

/** A default runner name: the browser cannot know the runner's host name, so a short random suffix tells several apart. */
export function defaultRunnerName(random: () => number = Math.random): string {
  const suffix = Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, "0");
  return `runner-${suffix}`;
}
