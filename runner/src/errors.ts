/** A failure the user can fix; the CLI prints its message on one line, without a stack. */
export class UserError extends Error {
  override name = "UserError";
}
