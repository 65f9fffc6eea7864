// Namespace schemas: a JSON Schema (draft 2020-12) that every write's value must satisfy,
// a default TTL and a per-namespace value size limit.
import { type Database, sentAhead } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { Install } from "./install.ts";
import { writeInInstall } from "./pipeline.ts";
import { cacheValidator, type SchemaRow } from "./schema-cache.ts";
import { prepareValidator, type SchemaLimits } from "./validator.ts";

export { violations } from "./validator.ts";

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
  cacheValidator(install, namespace, result.schema.version, validate);
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
