// The one place a /v1 request is admitted, in the contract's order of errors:
// 401 (token) → 403 (scope) → 415/413/400 found while reading the body.
// Runs as the route's transform hook, after Elysia's parse and before its validation.
import { type Authenticate, requireInstall, type Scope } from "./auth.ts";
import { DeferredBodyError } from "./body.ts";
import { setPrincipal } from "./request-context.ts";

export const gate =
  (authenticate: Authenticate, scope: Scope) =>
  async ({ request, body }: { request: Request; body: unknown }): Promise<void> => {
    const principal = await authenticate(request.headers.get("authorization"));
    setPrincipal(request, requireInstall(principal, scope));
    if (body instanceof DeferredBodyError) throw body.error;
  };
