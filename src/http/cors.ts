// CORS for extensions that run in browsers (STORAGE_CORS_ORIGINS). Preflights are answered
// here, before routing, authentication and the rate limit: a preflight carries no token, and
// what it asks is decided again by the request that follows. Every other response to an
// allowed origin says so and exposes the headers a client reads.
import type { Config } from "../config.ts";

const ALLOW_METHODS = "GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS";
const ALLOW_HEADERS =
  "authorization, content-type, if-match, if-none-match, idempotency-key, last-event-id, x-request-id";
const EXPOSE_HEADERS = "etag, x-request-id, retry-after, idempotent-replayed";
// how long a browser may reuse a preflight's answer; Chromium caps it at 7,200 s, and
// Firefox at 86,400 s
const MAX_AGE_SECONDS = "7200";

type Headers = Record<string, string>;

/** Adds a token to a Vary header, keeping the ones it holds. */
export function addVary(headers: Record<string, unknown>, token: string): void {
  const current = typeof headers.vary === "string" && headers.vary !== "" ? headers.vary : undefined;
  headers.vary = current === undefined ? token : `${current}, ${token}`;
}

export function createCors(origins: Config["corsOrigins"]) {
  const listed = origins === undefined || origins === "*" ? undefined : new Set(origins);

  /** The CORS headers of any answer to this request; none when CORS is off. */
  function headersFor(request: Request): Headers {
    if (origins === undefined) return {};
    // "*" answers every caller alike, so nothing varies; a list answers by Origin
    if (origins === "*") return { "access-control-allow-origin": "*", "access-control-expose-headers": EXPOSE_HEADERS };
    const origin = request.headers.get("origin");
    if (origin === null || !listed?.has(origin)) return { vary: "origin" };
    return {
      "access-control-allow-origin": origin,
      "access-control-expose-headers": EXPOSE_HEADERS,
      vary: "origin",
    };
  }

  return {
    /** Merges this request's CORS headers into the response headers Elysia will send. */
    decorate(request: Request, headers: Record<string, unknown>): void {
      if (origins === undefined) return;
      const { vary, ...rest } = headersFor(request);
      Object.assign(headers, rest);
      if (vary !== undefined) addVary(headers, vary);
    },
    /**
     * The answer to a preflight from an allowed origin on a path that is a route: a 204 with
     * what may be sent. Anything else (no CORS, another origin, a plain OPTIONS, a path that
     * is no route: paths match exactly, for every method) goes on to the router.
     */
    preflight(request: Request, requestId: string, isRoute: (url: string) => boolean): Response | undefined {
      if (request.method !== "OPTIONS" || request.headers.get("access-control-request-method") === null) {
        return undefined;
      }
      if (!isRoute(request.url)) return undefined;
      const cors = headersFor(request);
      if (cors["access-control-allow-origin"] === undefined) return undefined;
      const { "access-control-expose-headers": _, ...allow } = cors;
      return new Response(null, {
        status: 204,
        headers: {
          ...allow,
          "access-control-allow-methods": ALLOW_METHODS,
          "access-control-allow-headers": ALLOW_HEADERS,
          "access-control-max-age": MAX_AGE_SECONDS,
          "x-request-id": requestId,
        },
      });
    },
  };
}

export type Cors = ReturnType<typeof createCors>;
