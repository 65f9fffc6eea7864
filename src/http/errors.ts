// The one place errors become responses: the contract's shape and status for every failure,
// x-request-id on each, and never a stack trace or SQL text in a body.
import { mapDatabaseError } from "../db/errors.ts";
import { AppError, errors } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { bodyLeftUnread } from "./body.ts";
import { requestFacts } from "./request-context.ts";

type ValidationLike = { type?: string; all?: Array<{ path?: string; summary?: string; message?: string }> };

function validationMessage(error: ValidationLike): string {
  const first = error.all?.[0];
  const where = `${error.type ?? "request"}${first?.path ? ` ${first.path}` : ""}`;
  return `${where}: ${first?.summary ?? first?.message ?? "does not match the schema"}`;
}

function toAppError(code: string | number, error: unknown): AppError {
  if (error instanceof AppError) return error;
  // what a route's parse hook threw (the gate's 401/403, the body's 415/413/400) comes wrapped
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (code === "PARSE" && cause instanceof AppError) return cause;
  if (code === "NOT_FOUND") return errors.notFound("no such route");
  if (code === "VALIDATION") return new AppError("INVALID_REQUEST", validationMessage(error as ValidationLike));
  if (code === "PARSE") return new AppError("INVALID_REQUEST", "the request body could not be parsed");
  return mapDatabaseError(error) ?? errors.internal();
}

function errorResponse(request: Request, appError: AppError): Response {
  return new Response(JSON.stringify(appError.body()), {
    status: appError.status,
    headers: {
      "content-type": "application/json",
      "x-request-id": requestFacts(request).id,
      // a refused body is not read on: close rather than let the server drain it
      ...(bodyLeftUnread(request) ? { connection: "close" } : {}),
      ...appError.headers,
    },
  });
}

export const renderError =
  (log: Logger, metrics: Metrics) =>
  ({ code, error, request }: { code: string | number; error: unknown; request: Request }): Response => {
    const appError = toAppError(code, error);
    requestFacts(request).status = appError.status;
    metrics.countRejection(appError.code);
    if (appError.status >= 500) {
      const e = error as { message?: string; code?: string; stack?: string };
      log.error("request failed", {
        requestId: requestFacts(request).id,
        status: appError.status,
        error: e?.message,
        sqlstate: e?.code,
        stack: appError.code === "INTERNAL" ? e?.stack : undefined,
      });
    }
    return errorResponse(request, appError);
  };
