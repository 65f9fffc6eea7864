// The one place a /v1 request is admitted, in the contract's order of errors:
// 401 (token) → 429 (the install's rate) → 403 (scope) → 415/413/400 found while reading the
// body → 400 for a body that does not match its schema. Runs as the route's transform hook,
// after Elysia's parse.
//
// The body is checked here with a strict compiled TypeBox check rather than left to
// Elysia's validator, which coerces ("5" passes as the integer 5) and lets an own
// "__proto__" key through; the contract wants both refused. Elysia's check still runs
// after this one and only ever sees bodies that passed the stricter one.
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { fail } from "../errors.ts";
import { type Authenticate, requireInstall, type Scope } from "./auth.ts";
import { DeferredBodyError } from "./body.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { setPrincipal } from "./request-context.ts";

export type Admission = { authenticate: Authenticate; rateLimit: RateLimiter };

export function gate({ authenticate, rateLimit }: Admission, scope: Scope, bodySchema?: TSchema) {
  const check = bodySchema === undefined ? undefined : TypeCompiler.Compile(bodySchema);
  const admin = scope === "storage:admin";
  return async ({ request, body }: { request: Request; body: unknown }): Promise<void> => {
    const principal = await authenticate(request.headers.get("authorization"));
    rateLimit(principal);
    // admin routes name the install in their path; every other route acts on the token's
    if (admin && !principal.scopes.has(scope)) throw fail("FORBIDDEN", `the token lacks the ${scope} scope`);
    setPrincipal(request, admin ? principal : requireInstall(principal, scope));
    if (body instanceof DeferredBodyError) throw body.error;
    if (check !== undefined && !check.Check(body)) {
      const first = check.Errors(body).First();
      throw fail(
        "INVALID_REQUEST",
        `body${first?.path ? ` ${first.path}` : ""}: ${first?.message ?? "does not match the schema"}`,
      );
    }
  };
}
