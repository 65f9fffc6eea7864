// The contract's error vocabulary (spec section 6): every code with its HTTP status, the
// schema of its `details`, the error body, and named factories. Imports nothing of the
// server, so that a client can import it as is.
import { type Static, type TSchema, Type as t } from "@sinclair/typebox";

export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  INVALID_KEY: 400,
  INVALID_NAMESPACE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  QUOTA_EXCEEDED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CURSOR_EXPIRED: 410,
  REVISION_MISMATCH: 412,
  VALUE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SCHEMA_VIOLATION: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

const nonNegative = t.Integer({ minimum: 0 });
const revisionOrNull = t.Union([t.Integer({ minimum: 1 }), t.Null()]);
/** One failing item of a bulk request, by index; each code adds its own fields. */
const failedItem = (fields: Record<string, TSchema> = {}) =>
  t.Object({
    index: nonNegative,
    key: t.Optional(t.String()),
    // an atomic request's checks and ops are numbered each from 0
    in: t.Optional(t.Union([t.Literal("checks"), t.Literal("ops")])),
    namespace: t.Optional(t.String()),
    ...fields,
  });
const failedItems = (fields?: Record<string, TSchema>) => t.Object({ failed: t.Array(failedItem(fields)) });
const itemFaults = failedItems({ code: t.String(), message: t.String() });

/** The `details` of each code; a code absent here carries none. */
export const ErrorDetails = {
  INVALID_REQUEST: itemFaults,
  INVALID_KEY: itemFaults,
  QUOTA_EXCEEDED: t.Object({
    kind: t.Union([t.Literal("bytes"), t.Literal("records")]),
    limit: nonNegative,
    used: nonNegative,
    requested: t.Integer(),
  }),
  CONFLICT: t.Object({
    reason: t.String({ description: "why the operation cannot apply, as a stable word" }),
    failed: t.Optional(
      t.Array(
        t.Object({
          index: nonNegative,
          in: t.Optional(t.Union([t.Literal("checks"), t.Literal("ops")])),
          namespace: t.Optional(t.String()),
          key: t.Optional(t.String()),
          reason: t.String(),
          message: t.String(),
        }),
      ),
    ),
  }),
  REVISION_MISMATCH: t.Union([
    t.Object({ currentRevision: revisionOrNull }),
    failedItems({ currentRevision: revisionOrNull }),
  ]),
  VALUE_TOO_LARGE: t.Union([
    t.Object({ key: t.String(), limit: nonNegative, size: nonNegative }),
    failedItems({ limit: nonNegative, size: nonNegative, message: t.String() }),
  ]),
  SCHEMA_VIOLATION: t.Object({
    errors: t.Array(
      t.Object({
        index: t.Optional(nonNegative),
        in: t.Optional(t.Literal("ops")),
        namespace: t.Optional(t.String()),
        key: t.Optional(t.String()),
        path: t.String(),
        message: t.String(),
      }),
    ),
  }),
  RATE_LIMITED: t.Object({ retryAfterSeconds: t.Integer({ minimum: 1 }) }),
  UNAVAILABLE: t.Object({ pending: t.Array(t.String()) }),
} satisfies Partial<Record<ErrorCode, TSchema>>;

type DetailsOf<C extends ErrorCode> = C extends keyof typeof ErrorDetails ? Static<(typeof ErrorDetails)[C]> : never;

/** The body of every non-2xx answer of one code. */
export const errorBodyOf = (code: ErrorCode) => {
  const details = (ErrorDetails as Partial<Record<ErrorCode, TSchema>>)[code];
  return t.Object({
    error: t.Object({
      code: t.Literal(code),
      message: t.String(),
      ...(details === undefined ? {} : { details: t.Optional(details) }),
    }),
  });
};

/** The body of any non-2xx answer. */
export const ErrorBody = t.Object({
  error: t.Object({
    code: t.Union(ERROR_CODES.map((code) => t.Literal(code))),
    message: t.String(),
    details: t.Optional(t.Record(t.String(), t.Unknown())),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** The body of the answers of the given codes (one HTTP status may have several). */
export const errorBodiesOf = (codes: readonly ErrorCode[]) =>
  codes.length === 1 ? errorBodyOf(codes[0] as ErrorCode) : t.Union(codes.map(errorBodyOf));

// Headers a code always carries unless the error names its own: every 503 tells the client
// when to come back (a 429 computes its own Retry-After).
const DEFAULT_HEADERS: Partial<Record<ErrorCode, Record<string, string>>> = {
  UNAVAILABLE: { "retry-after": "1" },
};

/** An answer of the contract's error shape: code, status, message, details and headers. */
export class AppError extends Error {
  readonly status: number;
  readonly headers?: Record<string, string>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
    this.headers = headers ?? DEFAULT_HEADERS[code];
  }

  body(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** Any code, with free-form details (the domain's general factory). */
export const fail = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new AppError(code, message, details);

/** The named factories, for the codes whose details or headers have a fixed form. */
export const errors = {
  notFound: (message: string) => new AppError("NOT_FOUND", message),
  conflict: (reason: string, message: string) =>
    new AppError("CONFLICT", message, { reason } satisfies DetailsOf<"CONFLICT">),
  cursorExpired: (message: string) => new AppError("CURSOR_EXPIRED", message),
  quotaExceeded: (message: string, details: DetailsOf<"QUOTA_EXCEEDED">) =>
    new AppError("QUOTA_EXCEEDED", message, details),
  rateLimited: (message: string, retryAfterSeconds: number) =>
    new AppError("RATE_LIMITED", message, { retryAfterSeconds } satisfies DetailsOf<"RATE_LIMITED">, {
      "retry-after": String(retryAfterSeconds),
    }),
  unavailable: (message: string, retryAfterSeconds = 1) =>
    new AppError("UNAVAILABLE", message, undefined, { "retry-after": String(retryAfterSeconds) }),
  internal: () => new AppError("INTERNAL", "internal error"),
} as const;
