// Namespace schemas: a JSON Schema (draft 2020-12) that every write's value must satisfy,
// a default TTL and a per-namespace value size limit.
import type { ValidateFunction } from "ajv/dist/2020.js";
import { BoundedMap } from "../bounded-map.ts";
import { type Database, type Queryable, sentAhead } from "../db/client.ts";
import { type AppError, fail } from "../errors.ts";
import { type Install, writeInInstall } from "./install.ts";
import { prepareValidator, type SchemaLimits } from "./validator.ts";

export { violations } from "./validator.ts";

// Compiled validators by tenant, install, namespace and version: a version is never reused
// within an install's life, so an entry never goes stale; the tenant is in the key because an
// install_id freed by a purge can be taken by another tenant, whose versions start again.
// Bounded; when full, the least recently used goes. Compiling costs milliseconds (bounded
// statically before compiling, src/records/validator.ts), a lookup well under a microsecond. A
// PUT leaves its compiled validator here, so the first write after it does not compile again.
// A stored schema that can no longer be run is kept here as its refusal, so that every write
// to its namespace is refused at once rather than checked and compiled again.
const CACHE_MAX = 1000;
const cache = new BoundedMap<string, ValidateFunction | AppError>(CACHE_MAX);
const counts = { hits: 0, compiles: 0, refusals: 0 };

/** How often a write found its validator (or refusal) cached, and how often one was compiled or refused. */
export const validatorCacheStats = () => ({ ...counts, size: cache.size });

type SchemaRow = {
  json_schema: unknown;
  version: number;
  default_ttl_seconds: number | null;
  max_value_bytes: number | null;
};

const cacheKey = (install: Install, namespace: string, version: number) =>
  `${install.tenantId}\u0000${install.installId}\u0000${namespace}\u0000${version}`;

/**
 * The validator of a namespace's schema version; compiled only when not cached. A schema
 * stored before these checks existed is checked like a new one: one this service can no
 * longer run safely (a backreference, an unbounded cost, too much code to compile) refuses
 * the write with a 400 that asks for a new schema, rather than running it. Only the static
 * checks apply here, never the wall-clock compile bound of a PUT, so the answer does not
 * depend on the machine's load; and the refusal is cached like a validator.
 */
export async function validatorFor(
  q: Queryable,
  limits: SchemaLimits,
  install: Install,
  namespace: string,
  version: number,
) {
  const id = cacheKey(install, namespace, version);
  const hit = cache.get(id);
  if (hit !== undefined) {
    counts.hits++;
    if (typeof hit !== "function") throw hit;
    return hit;
  }
  const [row] = await q.run<SchemaRow>("schemas.get", [install.installId, install.tenantId, namespace]);
  if (row === undefined || row.version !== version) throw new Error("schema version changed under the install lock");
  let validate: ValidateFunction;
  try {
    validate = prepareValidator(
      row.json_schema,
      {
        ...limits,
        maxValueBytes: Math.min(limits.maxValueBytes, row.max_value_bytes ?? Number.POSITIVE_INFINITY),
      },
      { compileBound: false },
    );
  } catch (error) {
    const refusal = fail(
      "INVALID_REQUEST",
      `the namespace's schema (version ${version}) can no longer be run; put a new one. ${(error as Error).message}`,
    );
    counts.refusals++;
    cache.set(id, refusal);
    throw refusal;
  }
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

/** PUT schema: 2 round trips (BEGIN and lock; write, version and COMMIT). It takes the install
 * lock, so no write of the namespace commits under the old version once this one is in force. */
export async function putSchema(
  db: Database,
  limits: SchemaLimits,
  install: Install,
  namespace: string,
  body: SchemaBody,
) {
  // bounded before anything is stored: size, nesting, patterns, validation and compile cost
  // for values up to the namespace's own size limit
  const validate = prepareValidator(body.jsonSchema, {
    ...limits,
    maxValueBytes: Math.min(limits.maxValueBytes, body.maxValueBytes ?? Number.POSITIVE_INFINITY),
  });
  const json = JSON.stringify(body.jsonSchema);
  const result = await writeInInstall(db, install, async (q, lock, end) => {
    const version = (await lock).last_schema_version + 1;
    const writing = sentAhead(
      Promise.all([
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
      ]),
    );
    end();
    const [[row]] = await writing;
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
  cache.set(cacheKey(install, namespace, result.schema.version), validate);
  return result;
}

/** GET schema: 1 round trip. */
export async function getSchema(db: Database, install: Install, namespace: string) {
  const [row] = await db.run<SchemaRow>("schemas.get", [install.installId, install.tenantId, namespace]);
  if (row === undefined) throw fail("NOT_FOUND", "this namespace has no schema");
  return toSchema(row);
}

/** DELETE schema: 2 round trips (BEGIN, lock and delete pipelined; COMMIT). */
export async function deleteSchema(db: Database, install: Install, namespace: string) {
  await writeInInstall(db, install, async (q) => {
    const rows = await q.run("schemas.delete", [install.installId, install.tenantId, namespace]);
    if (rows.length === 0) throw fail("NOT_FOUND", "this namespace has no schema");
  });
}
