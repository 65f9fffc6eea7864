// Compiled validators of namespace schemas, by tenant, install, namespace and version: the
// write pipeline finds a namespace's validator here, a PUT of a schema leaves its own here.
import type { ValidateFunction } from "ajv/dist/2020.js";
import { BoundedMap } from "../bounded-map.ts";
import type { Queryable } from "../db/client.ts";
import { type AppError, fail } from "../errors.ts";
import type { Install } from "./install.ts";
import { prepareValidator, type SchemaLimits } from "./validator.ts";

// A version is never reused within an install's life, so an entry never goes stale; the
// tenant is in the key because an install_id freed by a purge can be taken by another tenant,
// whose versions start again. Bounded; when full, the least recently used goes. Compiling
// costs milliseconds (bounded statically before compiling, src/records/validator.ts), a
// lookup well under a microsecond. A PUT leaves its compiled validator here, so the first
// write after it does not compile again. A stored schema that can no longer be run is kept
// here as its refusal, so that every write to its namespace is refused at once rather than
// checked and compiled again.
const CACHE_MAX = 1000;
const cache = new BoundedMap<string, ValidateFunction | AppError>(CACHE_MAX);
const counts = { hits: 0, compiles: 0, refusals: 0 };

/** How often a write found its validator (or refusal) cached, and how often one was compiled or refused. */
export const validatorCacheStats = () => ({ ...counts, size: cache.size });

/** A namespace's schema as schemas.get returns it. */
export type SchemaRow = {
  json_schema: unknown;
  version: number;
  default_ttl_seconds: number | null;
  max_value_bytes: number | null;
};

const cacheKey = (install: Install, namespace: string, version: number) =>
  `${install.tenantId}\u0000${install.installId}\u0000${namespace}\u0000${version}`;

/** Leaves the validator a PUT of a schema compiled (under the compile bound) in the cache, as
 * that namespace's validator at `version`. */
export function cacheValidator(install: Install, namespace: string, version: number, validate: ValidateFunction) {
  cache.set(cacheKey(install, namespace, version), validate);
}

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
