// Namespace schemas: a JSON Schema (draft 2020-12) that every write's value must satisfy,
// a default TTL and a per-namespace value size limit.
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { BoundedMap } from "../bounded-map.ts";
import type { Database, Queryable } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type Install, writeInInstall } from "./install.ts";
import { valueProblem } from "./values.ts";

/**
 * Compiles a schema, or refuses it with the compiler's reason. A fresh Ajv instance each
 * time: one instance refuses a second schema with an $id it already holds, and a shared one
 * would let an install's schema $ref another install's. Unknown keywords are ignored, as
 * JSON Schema says; "format" is an annotation only (no format vocabulary is loaded).
 */
export function compileSchema(jsonSchema: unknown): ValidateFunction {
  try {
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: true, loadSchema: undefined });
    return ajv.compile(jsonSchema as object);
  } catch (error) {
    throw fail("INVALID_REQUEST", `jsonSchema is not a valid JSON Schema (draft 2020-12): ${(error as Error).message}`);
  }
}

const MAX_REPORTED_ERRORS = 20;

export const violations = (errors: readonly ErrorObject[] | null | undefined) =>
  (errors ?? [])
    .slice(0, MAX_REPORTED_ERRORS)
    .map((e) => ({ path: e.instancePath, message: e.message ?? "is invalid" }));

// Compiled validators by tenant, install, namespace and version: a version is never reused
// within an install's life, so an entry never goes stale; the tenant is in the key because an
// install_id freed by a purge can be taken by another tenant, whose versions start again.
// Bounded; when full, the least recently used goes. Compiling costs milliseconds, a lookup
// well under a microsecond.
const CACHE_MAX = 1000;
const cache = new BoundedMap<string, ValidateFunction>(CACHE_MAX);
const counts = { hits: 0, compiles: 0 };

/** How often a write found its validator cached, and how often one was compiled. */
export const validatorCacheStats = () => ({ ...counts, size: cache.size });

type SchemaRow = {
  json_schema: unknown;
  version: number;
  default_ttl_seconds: number | null;
  max_value_bytes: number | null;
};

/** The validator of a namespace's schema version; compiled only when not cached. */
export async function validatorFor(q: Queryable, install: Install, namespace: string, version: number) {
  const id = `${install.tenantId}\u0000${install.installId}\u0000${namespace}\u0000${version}`;
  const hit = cache.get(id);
  if (hit !== undefined) {
    counts.hits++;
    return hit;
  }
  const [row] = await q.run<SchemaRow>("schemas.get", [install.installId, install.tenantId, namespace]);
  if (row === undefined || row.version !== version) throw new Error("schema version changed under the install lock");
  const validate = compileSchema(row.json_schema);
  counts.compiles++;
  cache.set(id, validate);
  return validate;
}

export type SchemaBody = { jsonSchema: unknown; defaultTtlSeconds?: number; maxValueBytes?: number };

const toSchema = (row: SchemaRow) => ({
  jsonSchema: row.json_schema,
  version: row.version,
  defaultTtlSeconds: row.default_ttl_seconds,
  maxValueBytes: row.max_value_bytes,
});

/** PUT schema: 4 round trips (BEGIN, lock, write + version, COMMIT). It takes the install
 * lock, so no write of the namespace commits under the old version once this one is in force. */
export async function putSchema(db: Database, install: Install, namespace: string, body: SchemaBody) {
  // stored as jsonb like a value, so held to the same rules: a U+0000 or an unpaired
  // surrogate in a string or key is refused by PostgreSQL, and 1e400 would become null
  const problem = valueProblem(body.jsonSchema);
  if (problem !== undefined) throw fail("INVALID_REQUEST", `jsonSchema: ${problem}`);
  compileSchema(body.jsonSchema);
  const json = JSON.stringify(body.jsonSchema);
  return writeInInstall(db, install, async (q, lock) => {
    const version = (await lock).last_schema_version + 1;
    const [[row]] = await Promise.all([
      q.run<{ created: boolean }>("schemas.put", [
        install.installId,
        install.tenantId,
        install.extensionId,
        namespace,
        json,
        version,
        body.defaultTtlSeconds ?? null,
        body.maxValueBytes ?? null,
      ]),
      q.run("installs.bump_schema_version", [install.installId, install.tenantId, version]),
    ]);
    return {
      created: row?.created ?? false,
      schema: toSchema({
        json_schema: body.jsonSchema,
        version,
        default_ttl_seconds: body.defaultTtlSeconds ?? null,
        max_value_bytes: body.maxValueBytes ?? null,
      }),
    };
  });
}

/** GET schema: 1 round trip. */
export async function getSchema(db: Database, install: Install, namespace: string) {
  const [row] = await db.run<SchemaRow>("schemas.get", [install.installId, install.tenantId, namespace]);
  if (row === undefined) throw fail("NOT_FOUND", "this namespace has no schema");
  return toSchema(row);
}

/** DELETE schema: 3 round trips. */
export async function deleteSchema(db: Database, install: Install, namespace: string) {
  await writeInInstall(db, install, async (q) => {
    const rows = await q.run("schemas.delete", [install.installId, install.tenantId, namespace]);
    if (rows.length === 0) throw fail("NOT_FOUND", "this namespace has no schema");
  });
}
