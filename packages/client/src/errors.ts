import type { ErrorCode, ErrorDetails } from "./contract.ts";

/**
 * Codes the client gives an error that no answer of the service carries: `TIMEOUT` (the
 * request's timeout passed), `NETWORK` (no answer: refused, reset, offline, blocked by CORS),
 * `BAD_RESPONSE` (an answer that is not the contract's, such as a proxy's error page).
 */
export type ClientErrorCode = "TIMEOUT" | "NETWORK" | "BAD_RESPONSE";

/** The `details` an error of this code carries, as the contract defines them. */
export type DetailsOf<C extends string> = C extends keyof ErrorDetails ? ErrorDetails[C] : undefined;

/**
 * Every failure of a call, except the caller's own abort (which rejects with the signal's
 * reason, as `fetch` does). `status` is the HTTP status (0 when no answer came), `code` the
 * contract's error code or a {@link ClientErrorCode}, `details` the error's details when the
 * code has some, `requestId` the answer's `x-request-id` (quote it when reporting a problem).
 */
export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly status: number,
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether this error has the given code; narrows `details` to that code's shape. */
  is<C extends ErrorCode | ClientErrorCode>(code: C): this is StorageError & { code: C; details?: DetailsOf<C> } {
    return this.code === code;
  }
}
