// What the router cannot be trusted with: path parameters decoded exactly once from the
// path as sent (Bun's router turns an invalid escape into U+FFFD; see target.ts for what the
// runtimes normalise), a strict query string, and the conditional-request headers.
import { ID_PATTERN, S } from "../contract/index.ts";
import { fail } from "../errors.ts";
import type { InstallRef } from "../records/admin.ts";
import { checkKey, checkNamespace, decodeSegment, keyProblem } from "../records/keys.ts";
import { rawParam } from "./target.ts";

// The path parameters routes name: /v1/namespaces/:ns/records/:key and
// /admin/v1/tenants/:tid/installs/:iid; each read here, from the raw path, and nowhere else.

// /v1/namespaces/:ns/...
export const namespaceOf = (request: Request) =>
  checkNamespace(decodeSegment(rawParam(request, "ns"), "INVALID_NAMESPACE"));

// /v1/namespaces/:ns/records/:key
export const keyOf = (request: Request) => checkKey(decodeSegment(rawParam(request, "key"), "INVALID_KEY"));

/**
 * The query string as a map, strictly: every name known, none repeated, every escape valid.
 * (URLSearchParams would quietly replace a bad escape and keep the last of two values.)
 */
export function strictQuery(request: Request, known: readonly string[]): Map<string, string> {
  const url = request.url;
  const q = url.indexOf("?");
  const out = new Map<string, string>();
  if (q < 0) return out;
  for (const part of url.slice(q + 1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replaceAll("+", " "));
      } catch {
        throw fail("INVALID_REQUEST", "the query string is not valid percent-encoded UTF-8");
      }
    };
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = decode(eq < 0 ? "" : part.slice(eq + 1));
    if (!known.includes(name)) throw fail("INVALID_REQUEST", `unknown query parameter "${name}"`);
    if (out.has(name)) throw fail("INVALID_REQUEST", `query parameter "${name}" is given twice`);
    out.set(name, value);
  }
  return out;
}

// /admin/v1/tenants/:tid/installs/:iid/...
export function installRefOf(request: Request): InstallRef {
  const id = (raw: string, what: string) => {
    const value = decodeSegment(raw, "INVALID_KEY");
    if (!ID_PATTERN.test(value)) throw fail("INVALID_REQUEST", `${what} must be 1–128 characters of [A-Za-z0-9._:-]`);
    return value;
  };
  return {
    tenantId: id(rawParam(request, "tid"), "the tenant id"),
    installId: id(rawParam(request, "iid"), "the install id"),
  };
}

const LIST_PARAMETERS = Object.keys(S.ListQuery.properties);

export type ListQuery = { prefix: string; limit: number; cursor: string | undefined; values: boolean };

export function listQuery(request: Request, maxLimit: number): ListQuery {
  const q = strictQuery(request, LIST_PARAMETERS);
  const prefix = q.get("prefix") ?? "";
  if (prefix !== "" && prefix !== "." && prefix !== ".." && keyProblem(prefix) !== undefined) {
    throw fail("INVALID_REQUEST", `prefix: ${keyProblem(prefix)}`);
  }
  const rawLimit = q.get("limit");
  const limit = rawLimit === undefined ? Math.min(100, maxLimit) : Number(rawLimit);
  if (!/^\d{1,6}$/.test(rawLimit ?? "1") || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw fail("INVALID_REQUEST", `limit must be an integer from 1 to ${maxLimit}`);
  }
  const values = q.get("values") ?? "true";
  if (values !== "true" && values !== "false") throw fail("INVALID_REQUEST", "values must be true or false");
  const cursor = q.get("cursor");
  return { prefix, limit, cursor: cursor === "" ? undefined : cursor, values: values === "true" };
}

const ETAG = /^(?:W\/)?"(\d{1,16})"$/;

function revisionFrom(header: string, name: string): number {
  const match = ETAG.exec(header.trim()) ?? /^(\d{1,16})$/.exec(header.trim());
  const n = Number(match?.[1]);
  if (!Number.isSafeInteger(n) || n < 1) throw fail("INVALID_REQUEST", `${name} must be a revision ETag like "12"`);
  return n;
}

export function preconditionOf(request: Request): { ifMatch?: number; ifNoneMatch?: boolean } {
  const ifMatch = request.headers.get("if-match");
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifMatch !== null && ifNoneMatch !== null) {
    throw fail("INVALID_REQUEST", "give If-Match or If-None-Match, not both");
  }
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() !== "*") throw fail("INVALID_REQUEST", "If-None-Match supports only *");
    return { ifNoneMatch: true };
  }
  return ifMatch === null ? {} : { ifMatch: revisionFrom(ifMatch, "If-Match") };
}
