// Turns a rejected save (a tRPC error) into messages for the form: field problems next to
// their fields (the server sends each with its path), the rest for the whole form.
export interface SaveProblem {
  path?: string;
  message: string;
}

interface ErrorLike {
  message: string;
  data?: { code?: string; issues?: { path: string; message: string }[] | null } | null;
}

/** `prefix` is the input field that holds the form's values (e.g. `spec.`), stripped from paths. */
export function saveProblems(error: unknown, options: { prefix?: string; conflictPath?: string } = {}): SaveProblem[] {
  const { prefix = "", conflictPath } = options;
  const { message, data } = (error ?? {}) as ErrorLike;
  const issues = data?.issues ?? [];
  if (issues.length > 0) {
    return issues.map((issue) => {
      const path = issue.path.startsWith(prefix) ? issue.path.slice(prefix.length) : issue.path;
      return path === "" ? { message: issue.message } : { path, message: issue.message };
    });
  }
  if (data?.code === "CONFLICT" && conflictPath) return [{ path: conflictPath, message: message || "already taken" }];
  if (data?.code === "UNAUTHORIZED") return [{ message: "Your session has ended. Sign in again (in another tab) and save once more." }];
  return [{ message: message || "Could not save. Try again." }];
}
