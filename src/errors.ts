// One error vocabulary: each contract code with its HTTP status, one class, one renderer.

export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  INVALID_KEY: 400,
  INVALID_NAMESPACE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  QUOTA_EXCEEDED: 403,
  NOT_FOUND: 404,
  REVISION_MISMATCH: 412,
  CONFLICT: 409,
  VALUE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SCHEMA_VIOLATION: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export type ErrorBody = {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
};

// Headers a code always carries unless the error names its own: every 503 tells the client
// when to come back (a 429 computes its own Retry-After).
const DEFAULT_HEADERS: Partial<Record<ErrorCode, Record<string, string>>> = {
  UNAVAILABLE: { "retry-after": "1" },
};

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

export const fail = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new AppError(code, message, details);
