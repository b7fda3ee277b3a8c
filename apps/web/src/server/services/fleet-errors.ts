// Errors of the fleet services (runners, queue) with a code a router or HTTP handler maps
// to its own status, and a message meant for a person.
export type FleetErrorCode =
  | "not_found"
  | "forbidden"
  | "invalid_token"
  | "token_expired"
  | "token_used"
  | "revoked"
  | "stale_attempt"
  | "not_your_run"
  | "terminal"
  | "invalid_transition";

export class FleetError extends Error {
  override name = "FleetError" as const;
  constructor(
    readonly code: FleetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const isFleetError = (error: unknown): error is FleetError => error instanceof FleetError;
