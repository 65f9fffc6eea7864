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
//
// Routes ask for admission through one macro (`admission(…)` below): `install`, `namespace`,
// `record` and `adminInstall` each take the scope (and the body schema of a route with a
// body), and resolve what the route acts on, typed, from the token and the raw path.
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Elysia } from "elysia";
import { fail } from "../errors.ts";
import type { InstallRef } from "../records/admin.ts";
import { type ItemFault, invalidItems } from "../records/items.ts";
import { type Authenticate, type InstallPrincipal, requireInstall, type Scope } from "./auth.ts";
import { hasBody, readJson, refuseDeclaredOversize } from "./body.ts";
import { JSON_BODY, type MediaTypes } from "./media-types.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { installRefOf, keyOf, namespaceOf } from "./request.ts";
import { installOf, principalOf, setPrincipal } from "./request-context.ts";
import { admitPath, type Routed } from "./target.ts";
import { meterPrincipal, type WorkBudget } from "./work-budget.ts";

export type Admission = {
  authenticate: Authenticate;
  rateLimit: RateLimiter;
  /** the install's share of this process's work (section 18); charged by body, answer and validation */
  work: WorkBudget;
  maxBodyBytes: number;
};

/** The domain's faults of a bulk body's items, skipping those the schema already named. */
export type ItemCheck = (body: unknown, skip: ReadonlySet<number>) => ItemFault[];

type Hooked = Routed & { body?: unknown; set: { headers: Record<string, unknown> } };

/** The hooks of a route that takes no body. */
function gate(admission: Admission, scope: Scope) {
  return { parse: "none" as const, transform: admitter(admission, scope).transform };
}

/** The hooks of a route that takes a JSON body matching `bodySchema`, sent as one of `types`;
 * a bulk route's `itemCheck` names every failing item. */
function bodyGate(
  admission: Admission,
  scope: Scope,
  bodySchema: TSchema,
  itemCheck?: ItemCheck,
  types: MediaTypes = JSON_BODY,
) {
  const { admit, transform } = admitter(admission, scope, bodySchema, itemCheck);
  // destructured, so that Elysia's inference sees what the hook uses
  const parse = async ({ request, route, server }: Routed): Promise<unknown> => {
    await admit({ request, route, server });
    // the declared length is charged before a byte is read, so that requests sent together
    // cannot all be admitted on one budget; the rest once the body is read
    const principal = principalOf(request) ?? {};
    const declared = Math.min(Number(request.headers.get("content-length")) || 0, admission.maxBodyBytes);
    admission.work.charge(principal, declared);
    return readJson(request, admission.maxBodyBytes, types, (bytes) =>
      admission.work.charge(principal, bytes - declared),
    );
  };
  // the content type is listed so that the OpenAPI document names it (a route taking other
  // types documents its request body itself); Elysia's own JSON parser after this one never
  // runs, as this one always returns a body or throws
  return { parse: [parse, "application/json" as const], transform };
}

/** What a route asks of admission: a scope, or a scope and the JSON body it takes (sent as
 * application/json, unless `types` says otherwise). */
export type Admit = Scope | { scope: Scope; body: TSchema; itemCheck?: ItemCheck; types?: MediaTypes };

// Typed as no hooks at all: Elysia's macro types would check the gate's hooks against a
// context with no schema; at run time they are the route's parse and transform.
function hooksOf(admission: Admission, admit: Admit): object {
  return typeof admit === "string"
    ? gate(admission, admit)
    : bodyGate(admission, admit.scope, admit.body, admit.itemCheck, admit.types);
}

/**
 * The admission macro: `{ record: "storage:read" }` on a route admits it (path, token, rate,
 * scope, body, in the contract's order) and hands its handler `{ install, namespace, key }`;
 * `namespace` and `install` hand less, `adminInstall` the install its path names. What the
 * path names is read after the body is checked, so a malformed body outranks a bad key.
 */
// Not a named plugin: Elysia would de-duplicate two apps' admissions by name and a JSON of the
// seed, which cannot tell one authenticator or rate limiter from another.
export const admission = (deps: Admission) =>
  new Elysia().macro({
    install: (admit: Admit) => ({
      ...hooksOf(deps, admit),
      resolve: ({ request }: { request: Request }) => ({ install: installOf(request) }),
    }),
    namespace: (admit: Admit) => ({
      ...hooksOf(deps, admit),
      resolve: ({ request }: { request: Request }) => ({
        install: installOf(request),
        namespace: namespaceOf(request),
      }),
    }),
    record: (admit: Admit) => ({
      ...hooksOf(deps, admit),
      resolve: ({ request }: { request: Request }): { install: InstallPrincipal; namespace: string; key: string } => ({
        install: installOf(request),
        namespace: namespaceOf(request),
        key: keyOf(request),
      }),
    }),
    adminInstall: (admit: Admit) => ({
      ...hooksOf(deps, admit),
      resolve: ({ request }: { request: Request }): { target: InstallRef } => ({ target: installRefOf(request) }),
    }),
  });

function admitter(
  { authenticate, rateLimit, work, maxBodyBytes }: Admission,
  scope: Scope,
  bodySchema?: TSchema,
  itemCheck?: ItemCheck,
) {
  const check = bodySchema === undefined ? undefined : TypeCompiler.Compile(bodySchema);
  const admin = scope === "storage:admin";
  const admitted = new WeakSet<Request>();

  async function admit(context: Routed): Promise<void> {
    const { request } = context;
    if (admitted.has(request)) return;
    admitPath(context);
    const principal = await authenticate(request.headers.get("authorization"));
    await rateLimit(principal);
    work.admit(principal);
    meterPrincipal(principal, work);
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

  return { admit, transform };
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

/**
 * The hooks of a route whose body is a stream its handler reads itself (an NDJSON import):
 * admitted before a byte is read, then 415 for another content type and 413 for a declared
 * length over `maxBytes`, from the headers alone.
 */
export function streamGate(
  admission: Admission,
  scope: Scope,
  checkType: (request: Request) => void,
  maxBytes: number,
) {
  const { admit } = admitter(admission, scope);
  // both hooks, idempotent: Elysia runs no parse hook for a request without a body
  const transform = async ({ request, route, server }: Routed): Promise<void> => {
    await admit({ request, route, server });
    checkType(request);
    refuseDeclaredOversize(request, maxBytes);
  };
  const parse = async (context: Routed): Promise<unknown> => {
    await transform(context);
    return STREAMED;
  };
  return { parse, transform };
}

/** The body a stream route's hooks hand on: the handler reads request.body itself. */
export const STREAMED = Object.freeze({ streamed: true });
