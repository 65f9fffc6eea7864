// Per-request facts shared between hooks and handlers, keyed by the Request itself.
import { ID_PATTERN } from "../contract/schemas.ts";
import type { InstallPrincipal, Principal } from "./auth.ts";

type RequestFacts = { id: string; start: number; principal?: Principal; route?: string; status?: number };
const facts = new WeakMap<Request, RequestFacts>();

/** Echoes a well-formed incoming x-request-id, else makes a fresh one. */
export function beginRequest(request: Request): RequestFacts {
  const incoming = request.headers.get("x-request-id");
  const entry = {
    id: incoming !== null && ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID(),
    start: performance.now(),
  };
  facts.set(request, entry);
  return entry;
}

export const requestFacts = (request: Request): RequestFacts => facts.get(request) ?? beginRequest(request);

export function setPrincipal(request: Request, principal: Principal): void {
  requestFacts(request).principal = principal;
}

/** The principal the gate admitted, if any. */
export const principalOf = (request: Request): Principal | undefined => requestFacts(request).principal;

/** The install principal the gate admitted; a route without a gate has none. */
export function installOf(request: Request): InstallPrincipal {
  const principal = requestFacts(request).principal;
  if (principal?.installId === undefined) throw new Error("route has no install gate");
  return principal as InstallPrincipal;
}
