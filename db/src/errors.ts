/**
 * A problem the person starting Transcend can fix (bad configuration, a database that
 * is not there). Entry points print only its message — one line saying what is wrong
 * and what to do — instead of a stack trace.
 */
export class UserError extends Error {
  override name = "UserError" as const;
}

export const isUserError = (error: unknown): error is Error =>
  error instanceof Error && error.name === "UserError";
