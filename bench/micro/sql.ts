// Each SQL statement's round trip against a real database (DATABASE_URL), through the
// service's own client: the statement alone (autocommit), and the PUT transaction as the
// service runs it. The data is written through the HTTP API (request.ts), whose contract
// does not change when statements do; a statement this build does not have is skipped, and
// said so, instead of failing the run.
import { bench, group } from "mitata";
import type { Database } from "../../src/db/client.ts";
import { QUERY_NAMES, type QueryName } from "../../src/db/sql.ts";

export const BENCH_INSTALL = { installId: "bench-micro-i0", tenantId: "bench-micro", extensionId: "bench-ext" };
export const BENCH_NAMESPACE = "settings";
/** 100 records "user/000" … "user/099" that request.ts writes before the SQL benchmarks run */
export const BENCH_KEYS = Array.from({ length: 100 }, (_, i) => `user/${String(i).padStart(3, "0")}`);

const has = (name: string): name is QueryName => (QUERY_NAMES as readonly string[]).includes(name);

export function sqlBenches(db: Database) {
  const { installId, tenantId, extensionId } = BENCH_INSTALL;
  const ids = [installId, tenantId] as const;
  const ns = BENCH_NAMESPACE;
  const value = JSON.stringify({ theme: "dark", recent: Array.from({ length: 40 }, (_, i) => `item-${i}`) });
  const put = (key: string) => [
    ...ids,
    extensionId,
    ns,
    key,
    value,
    key.length + value.length,
    null,
    null,
    null,
    false,
  ];
  const statements: [string, string, () => Promise<unknown>][] = [
    ["records.get", "records.get (1 key)", () => db.run("records.get", [...ids, ns, ["user/007"]])],
    [
      "records.get",
      "records.get (bulk-get, 50 keys)",
      () => db.run("records.get", [...ids, ns, BENCH_KEYS.slice(0, 50)]),
    ],
    [
      "records.list",
      "records.list (page of 20, keys only)",
      () => db.run("records.list", [...ids, ns, "", "user/", "user0", 21, false]),
    ],
    [
      "records.list",
      "records.list (page of 20, values)",
      () => db.run("records.list", [...ids, ns, "", "user/", "user0", 21, true]),
    ],
    ["namespaces.list", "namespaces.list", () => db.run("namespaces.list", [...ids])],
    ["installs.lock", "installs.lock", () => db.run("installs.lock", [...ids, extensionId])],
    ["records.put", "records.put (replace)", () => db.run("records.put" as QueryName, put("user/001"))],
    ["health.migrations", "health.migrations", () => db.run("health.migrations", [])],
  ];
  const missing = [...new Set(statements.map(([name]) => name).filter((name) => !has(name)))];
  if (missing.length > 0) {
    process.stderr.write(`SQL round trips: ${missing.join(", ")} skipped (not statements of this build)\n`);
  }
  group("SQL round trips (one statement, autocommit)", () => {
    for (const [name, label, fn] of statements) if (has(name)) bench(label, fn);
  });
  if (has("records.put")) {
    group("write transactions as the service runs them", () => {
      bench("PUT: BEGIN; installs.lock + records.put; COMMIT", () =>
        db.transaction(async (q) => {
          await Promise.all([
            q.run("installs.lock", [...ids, extensionId]),
            q.run("records.put" as QueryName, put("user/002")),
          ]);
        }),
      );
    });
  }
}
