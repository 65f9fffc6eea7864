// The path a request acts on: read once from the target the client sent, and held to the
// route that matched it, segment for segment (the contract's "paths match exactly").
//
// What the runtimes hand the app (Bun 1.4.5, Deno 2.9):
// - Bun's router matches the target as sent, but request.url is that target normalised by
//   WHATWG URL rules: `.`, `..`, `%2e` segments resolved, `\` turned into `/`. So
//   `POST /v1/namespaces/%2e/bulk-put` matches the bulk-put route while request.url reads
//   `/v1/namespaces/bulk-put`. A target Bun's router does not match reaches Elysia's own
//   router with the normalised URL, which may then match a route the client never named.
// - With no usable Host header (HTTP/1.0 without one, an empty one), Bun's request.url is
//   the raw target alone, with no scheme or host.
// - Deno keeps the target as sent but puts the Host header's text in front of it as is.
// Hence: a Host that is not a host is a 400; the path is split where the URL's authority
// ends; a `.`/`..` or empty segment, or one with a raw `\` (Bun reads it as `/`), names no
// route (404); and on Bun, a request its router did not match is a 404 whatever Elysia's
// router made of the normalised URL.
import { fail } from "../errors.ts";
import { requestFacts } from "./request-context.ts";

// reg-name or IP literal, optional port (RFC 3986 §3.2.2); empty is allowed (RFC 9112 §3.2)
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::\d*)?$/;
const DOT = /^(?:\.|%2e){1,2}$/i;

/** What a hook of the matched route knows: Elysia's pattern and, on Bun, the server. */
export type Routed = {
  request: Request;
  route: string;
  server?: { requestIP(request: Request): unknown } | null;
};

const matched = new WeakMap<Request, ReadonlyMap<string, string>>();

/** The path of request.url, still percent-encoded: from the end of the authority, or all of it. */
function urlPath(url: string): string {
  let start = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const authority = url.indexOf("://");
    start = authority < 0 ? -1 : url.indexOf("/", authority + 3);
    if (start < 0) return "/";
  }
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? undefined : query);
}

/** A segment decoded, or undefined for a bad escape (the route refuses it with its own 400).
 * Without a `%` there is nothing to decode: decodeURIComponent costs Bun ~0.8 µs even then. */
function decoded(segment: string): string | undefined {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Refuses a Host header that is not a host (Deno would read part of it as the path), before
 * routing, on every request. No Host at all is fine: the target is then the path as sent.
 */
export function checkHost(request: Request): void {
  const host = request.headers.get("host");
  if (host !== null && !HOST.test(host)) throw fail("INVALID_REQUEST", "the Host header is not a host name or address");
}

const noRoute = () => fail("NOT_FOUND", "no such route");

/**
 * Checks the request's path against its route's pattern, once, and keeps the raw
 * (percent-encoded) value of each `:param`. Throws 404 for a path that is not exactly the
 * route's.
 */
export function admitPath({ request, route, server }: Routed): ReadonlyMap<string, string> {
  const known = matched.get(request);
  if (known !== undefined) return known;
  const segments = urlPath(request.url).split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment === "" || DOT.test(segment) || segment.includes("\\")) throw noRoute();
  }
  const params = new Map<string, string>();
  if (!route.includes("*")) {
    // Bun's router gives each request it matched the params it read from the target as sent;
    // one without them was routed by Elysia on the normalised URL (a request built
    // in-process, by app.handle, has no socket and no target but its URL). Both hooks that
    // call this do so before their first await, while Bun still knows the request's socket.
    const sent = (request as { params?: Record<string, string> }).params;
    if (sent === undefined && server?.requestIP(request)) throw noRoute();
    const pattern = route.split("/");
    if (pattern.length !== segments.length) throw noRoute();
    for (let i = 1; i < pattern.length; i++) {
      const part = pattern[i] as string;
      const segment = segments[i] as string;
      if (!part.startsWith(":")) {
        if (part !== segment) throw noRoute();
        continue;
      }
      const name = part.slice(1);
      // the same count of segments, yet another value: `x\..\k` normalised to `k`
      const value = sent === undefined ? undefined : decoded(segment);
      if (value !== undefined && sent?.[name] !== value) throw noRoute();
      params.set(name, segment);
    }
  }
  matched.set(request, params);
  requestFacts(request).route = route; // the label of its log line and latency sample
  return params;
}

/**
 * Whether a request's path is exactly one of the route patterns (`/v1/namespaces/:ns`): the
 * same segments, the literal ones equal, no empty, `.`/`..` or `\\` segment. For requests
 * answered before routing (a CORS preflight), which must not answer for a path that is no
 * route.
 */
export function isRoutePath(patterns: readonly string[], url: string): boolean {
  const segments = urlPath(url).split("/");
  if (segments.slice(1).some((s) => s === "" || DOT.test(s) || s.includes("\\"))) return false;
  return patterns.some((pattern) => {
    const parts = pattern.split("/");
    return parts.length === segments.length && parts.every((part, i) => part.startsWith(":") || part === segments[i]);
  });
}

/** A `:param` of the matched path, still percent-encoded. */
export function rawParam(request: Request, name: string): string {
  const value = matched.get(request)?.get(name);
  if (value === undefined) throw new Error(`the route has no checked :${name}`);
  return value;
}
