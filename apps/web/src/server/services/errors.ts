// Errors of the account and catalogue services (tokens, variants, recipes, runs) with a
// code that routers map to a tRPC code, and a message meant for a person.
import { TRPCError } from "@trpc/server";
import { VersioningError } from "@transcend/db";

export type ServiceErrorCode = "unauthorized" | "not_found" | "forbidden" | "conflict" | "invalid" | "limit" | "quota";

export class ServiceError extends Error {
  override name = "ServiceError" as const;
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const TRPC_CODE = {
  unauthorized: "UNAUTHORIZED",
  not_found: "NOT_FOUND",
  forbidden: "FORBIDDEN",
  conflict: "CONFLICT",
  invalid: "BAD_REQUEST",
  limit: "BAD_REQUEST",
  quota: "TOO_MANY_REQUESTS",
} as const satisfies Record<ServiceErrorCode, TRPCError["code"]>;

const VERSIONING_CODE = {
  invalid_spec: "BAD_REQUEST",
  not_found: "NOT_FOUND",
  forbidden: "FORBIDDEN",
  slug_taken: "CONFLICT",
} as const satisfies Record<VersioningError["code"], TRPCError["code"]>;

/** Runs `work`, turning known service errors into TRPCErrors with the same message. */
export async function asTrpc<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ServiceError) throw new TRPCError({ code: TRPC_CODE[error.code], message: error.message, cause: error });
    if (error instanceof VersioningError) {
      throw new TRPCError({ code: VERSIONING_CODE[error.code], message: error.message, cause: error });
    }
    if (error instanceof Error && error.name === "FleetError" && "code" in error) {
      // services/fleet-errors.ts (queue, runners): same idea, its own codes.
      const code = String(error.code);
      const trpcCode: TRPCError["code"] =
        code === "not_found" ? "NOT_FOUND" : code === "forbidden" || code === "not_your_run" ? "FORBIDDEN" : "CONFLICT";
      throw new TRPCError({ code: trpcCode, message: error.message, cause: error });
    }
    throw error;
  }
}
