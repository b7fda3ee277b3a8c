/**
 * A failure at start that the operator can fix (occupied port, bad DATABASE_URL, missing
 * build). server.ts prints its message on one line and exits 1, without a stack trace.
 */
export class StartupError extends Error {
  override name = "StartupError";
}

/** The first line of an error's message: driver errors can span lines, a startup message must not. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n", 1)[0]?.trim() || "unknown error";
}
