// The one place a request to a /v1 or admin route is admitted, in the contract's order of
// errors: the path (404 for one that is not exactly the route's; a bad Host was a 400 before
// routing) → 401 (token) → 429 (the install's rate) → 403 (scope) → 415/413/400 found while
// reading the body → 400 for a body that does not match its schema.
//
// Elysia runs a route's parse hook before its transform hooks, so a route with a body is
// admitted in its parse hook, before a byte of the body is read: an unauthenticated or
// out-of-scope request never has its body read, and a malformed body never outranks 401/403.
// A route without a body never parses one (parse "none"), whatever the method or headers.
//
// The body is checked here with a strict compiled TypeBox check rather than left to
// Elysia's validator, which coerces ("5" passes as the integer 5) and lets an own
// "__proto__" key through; the contract wants both refused. Elysia's check still runs
// after this one and only ever sees bodies that passed the stricter one.
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { fail } from "../errors.ts";
import { type Authenticate, requireInstall, type Scope } from "./auth.ts";
import { hasBody, readJson, refuseDeclaredOversize } from "./body.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { setPrincipal } from "./request-context.ts";
import { admitPath, type Routed } from "./target.ts";

export type Admission = { authenticate: Authenticate; rateLimit: RateLimiter; maxBodyBytes: number };

type Hooked = Routed & { body?: unknown; set: { headers: Record<string, unknown> } };

/** The hooks of a route that takes no body. */
export function gate(admission: Admission, scope: Scope) {
  return { parse: "none" as const, transform: admitter(admission, scope).transform };
}

/** The hooks of a route that takes a JSON body matching `bodySchema`. */
export function bodyGate(admission: Admission, scope: Scope, bodySchema: TSchema) {
  const { admit, transform } = admitter(admission, scope, bodySchema);
  // destructured, so that Elysia's inference sees what the hook uses
  const parse = async ({ request, route, server }: Routed): Promise<unknown> => {
    await admit({ request, route, server });
    return readJson(request, admission.maxBodyBytes);
  };
  // the content type is listed so that the OpenAPI document names it; Elysia's own JSON
  // parser after this one never runs, as this one always returns a body or throws
  return { parse: [parse, "application/json" as const], transform };
}

function admitter({ authenticate, rateLimit, maxBodyBytes }: Admission, scope: Scope, bodySchema?: TSchema) {
  const check = bodySchema === undefined ? undefined : TypeCompiler.Compile(bodySchema);
  const admin = scope === "storage:admin";
  const admitted = new WeakSet<Request>();

  async function admit(context: Routed): Promise<void> {
    const { request } = context;
    if (admitted.has(request)) return;
    admitPath(context);
    const principal = await authenticate(request.headers.get("authorization"));
    if (principal.installId !== undefined) rateLimit(principal.installId);
    // admin routes name the install in their path; every other route acts on the token's
    if (admin && !principal.scopes.has(scope)) throw fail("FORBIDDEN", `the token lacks the ${scope} scope`);
    setPrincipal(request, admin ? principal : requireInstall(principal, scope));
    admitted.add(request);
  }

  const transform = async ({ request, route, server, body, set }: Hooked): Promise<void> => {
    await admit({ request, route, server });
    if (check === undefined) {
      // a body this route does not take is not read: refused when declared over the limit,
      // else left unread and the connection closed after the answer
      if (hasBody(request)) {
        refuseDeclaredOversize(request, maxBodyBytes);
        set.headers.connection = "close";
      }
      return;
    }
    if (!check.Check(body)) {
      const first = check.Errors(body).First();
      throw fail(
        "INVALID_REQUEST",
        `body${first?.path ? ` ${first.path}` : ""}: ${first?.message ?? "does not match the schema"}`,
      );
    }
  };

  return { admit, transform };
}
