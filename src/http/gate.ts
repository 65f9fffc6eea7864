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
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { fail } from "../errors.ts";
import { type ItemFault, invalidItems } from "../records/items.ts";
import { type Authenticate, requireInstall, type Scope } from "./auth.ts";
import { DeferredBodyError } from "./body.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { setPrincipal } from "./request-context.ts";

export type Admission = { authenticate: Authenticate; rateLimit: RateLimiter };

/** The domain's faults of a bulk body's items, skipping those the schema already named. */
export type ItemCheck = (body: unknown, skip: ReadonlySet<number>) => ItemFault[];

export function gate(
  { authenticate, rateLimit }: Admission,
  scope: Scope,
  bodySchema?: TSchema,
  itemCheck?: ItemCheck,
) {
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
      // a bulk body whose only faults are in its items names every failing item
      const faults = itemCheck === undefined ? undefined : itemSchemaFaults(check.Errors(body), body);
      if (faults !== undefined) {
        throw invalidItems([...faults, ...(itemCheck?.(body, new Set(faults.map((f) => f.index))) ?? [])]);
      }
      const first = check.Errors(body).First();
      throw fail(
        "INVALID_REQUEST",
        `body${first?.path ? ` ${first.path}` : ""}: ${first?.message ?? "does not match the schema"}`,
      );
    }
  };
}

// /items/3/ttlSeconds, /keys/3: an error inside one item of a bulk body
const ITEM_PATH = /^\/(items|keys)\/(\d+)(?:\/(.+))?$/;
// a body can hold millions of unknown properties; past this many errors, only the first is told
const MAX_SCHEMA_ERRORS = 10_000;

/**
 * One fault per failing item (its first schema error), or undefined when an error lies
 * outside the items (a missing or unknown top-level field, too many items) or there are
 * too many to look at. Of a union (bulk-delete's keys or items), the variant whose errors
 * all lie inside items is the one the client meant.
 */
function itemSchemaFaults(errors: Iterable<ValueError>, body: unknown): ItemFault[] | undefined {
  const faults = new Map<number, ItemFault>();
  let seen = 0;
  for (const error of errors) {
    if (++seen > MAX_SCHEMA_ERRORS) return undefined;
    if (error.type === ValueErrorType.Union) {
      if (seen > 1) return undefined;
      for (const variant of error.errors) {
        const found = itemSchemaFaults(variant, body);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    const match = ITEM_PATH.exec(error.path);
    if (match === null) return undefined;
    const [, list = "", position = "", field] = match;
    const index = Number(position);
    if (faults.has(index)) continue;
    const item = (body as Record<string, unknown[]>)[list]?.[index];
    const key = list === "keys" ? item : (item as { key?: unknown } | null)?.key;
    const name = field ?? (list === "keys" ? "key" : "item");
    faults.set(index, {
      index,
      ...(typeof key === "string" ? { key } : {}),
      code: "INVALID_REQUEST",
      message: `${name}: ${error.message}`,
    });
  }
  return [...faults.values()];
}
