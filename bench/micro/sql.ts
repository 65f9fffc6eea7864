// Each SQL statement's round trip against a real database, through the service's own
// client: the statement alone (autocommit), and the PUT transaction as the service runs it.
// The data is written through the HTTP API (request.ts), whose contract does not change when
// statements do. A statement named here that this build does not have is an error: the
// benchmark must be updated with the statements, not silently measure fewer of them.
import { bench, group } from "mitata";
import type { Database, Queryable } from "../../src/db/client.ts";
import { QUERY_NAMES, type QueryName } from "../../src/db/sql.ts";
import { prepareValue } from "../../src/records/values.ts";

export const BENCH_INSTALL = { installId: "bench-micro-i0", tenantId: "bench-micro", extensionId: "bench-ext" };
export const BENCH_NAMESPACE = "settings";
/** 100 records "user/000" … "user/099" that request.ts writes before the SQL benchmarks run */
export const BENCH_KEYS = Array.from({ length: 100 }, (_, i) => `user/${String(i).padStart(3, "0")}`);
/** the value request.ts writes to every key, and the SQL benchmark's writes replace it with */
export const BENCH_VALUE = { theme: "dark", recent: Array.from({ length: 40 }, (_, i) => `item-${i}`) };

/** Fails the run when a statement named here is not one of this build's. */
export function checkStatementNames(names: readonly string[]): asserts names is readonly QueryName[] {
  const missing = names.filter((name) => !(QUERY_NAMES as readonly string[]).includes(name));
  if (missing.length > 0) {
    throw new Error(`bench/micro/sql.ts names statements this build does not have: ${missing.join(", ")}`);
  }
}

/** Fails the benchmark when a statement returns fewer rows than it must (nothing measured). */
async function rows(q: Queryable, name: QueryName, params: readonly unknown[], atLeast: number) {
  const result = await q.run(name, params);
  if (result.length < atLeast) throw new Error(`${name}: ${result.length} rows, expected at least ${atLeast}`);
  return result;
}

export function sqlBenches(db: Database) {
  const { installId, tenantId, extensionId } = BENCH_INSTALL;
  const ids = [installId, tenantId] as const;
  const ns = BENCH_NAMESPACE;
  // replacing a record with the same value: usage does not change (delta 0)
  const prepared = prepareValue("user/002", BENCH_VALUE, 65_536, "value");
  const upsert = (q: Queryable, key: string, revision: number) =>
    rows(
      q,
      "records.upsert",
      [...ids, extensionId, [ns], [key], [prepared.json], [revision], [prepared.sizeBytes], [null], [null]],
      1,
    );
  const statements: [QueryName, string, () => Promise<unknown>][] = [
    ["records.get", "records.get (1 key)", () => rows(db, "records.get", [...ids, ns, "user/007"], 1)],
    [
      "records.bulk_get",
      "records.bulk_get (50 keys)",
      () => rows(db, "records.bulk_get", [...ids, ns, BENCH_KEYS.slice(0, 50), 1_048_576], 50),
    ],
    ["records.state", "records.state (1 key)", () => rows(db, "records.state", [...ids, [ns], ["user/007"]], 1)],
    [
      "records.list",
      "records.list (page of 20, keys only)",
      () => rows(db, "records.list", [...ids, ns, "", "user/", "user0", 21, false], 21),
    ],
    [
      "records.list",
      "records.list (page of 20, values)",
      () => rows(db, "records.list", [...ids, ns, "", "user/", "user0", 21, true], 21),
    ],
    ["namespaces.list", "namespaces.list", () => rows(db, "namespaces.list", [...ids], 1)],
    ["installs.usage", "installs.usage", () => rows(db, "installs.usage", [...ids], 1)],
    ["installs.lock", "installs.lock", () => rows(db, "installs.lock", [...ids, extensionId], 1)],
    ["health.migrations", "health.migrations", () => db.run("health.migrations", [])],
  ];
  const put = ["installs.lock", "records.state", "records.upsert", "installs.account", "changes.notify"] as const;
  checkStatementNames([...statements.map(([name]) => name), ...put]);

  group("SQL round trips (one statement, autocommit)", () => {
    for (const [, label, fn] of statements) bench(label, fn);
  });
  group("write transactions as the service runs them", () => {
    bench("PUT: BEGIN; installs.lock + records.state; records.upsert + installs.account + changes.notify; COMMIT", () =>
      db.transaction(async (q) => {
        const [[usage]] = await Promise.all([
          rows(q, "installs.lock", [...ids, extensionId], 1),
          rows(q, "records.state", [...ids, [ns], ["user/002"]], 1),
        ]);
        const revision = Number((usage as { last_revision: number | string }).last_revision) + 1;
        await Promise.all([
          upsert(q, "user/002", revision),
          q.run("installs.account", [...ids, 0, 0, revision]),
          q.run("changes.notify", [installId]),
        ]);
      }),
    );
  });
}
