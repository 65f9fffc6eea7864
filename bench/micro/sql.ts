// Each SQL statement's round trip against a real database (DATABASE_URL), through the
// service's own client: the statement alone, and the write transaction as the service runs
// it (BEGIN; installs.lock + the write pipelined; COMMIT). Skipped without DATABASE_URL.
import { bench, group } from "mitata";
import { connect, type Database } from "../../src/db/client.ts";

export async function sqlBenches(url: string | undefined): Promise<Database | undefined> {
  if (url === undefined) {
    process.stderr.write("SQL round trips: skipped (set DATABASE_URL to a migrated database)\n");
    return undefined;
  }
  const db = connect(url, { poolMax: 1, prepare: true });
  const install = { installId: "bench-micro-i0", tenantId: "bench-micro", extensionId: "bench-ext" };
  const ids = [install.installId, install.tenantId] as const;
  const ns = "settings";
  const value = JSON.stringify({ theme: "dark", recent: Array.from({ length: 40 }, (_, i) => `item-${i}`) });
  const size = value.length + 8;
  await db.run("installs.lock", [install.installId, install.tenantId, install.extensionId]);
  const keys = Array.from({ length: 100 }, (_, i) => `user/${String(i).padStart(3, "0")}`);
  await db.run("records.bulk_put", [
    ...ids,
    install.extensionId,
    ns,
    keys,
    keys.map(() => value),
    keys.map((k) => k.length + value.length),
    keys.map(() => null),
    keys.map(() => null),
    keys.map(() => null),
    keys.map(() => false),
  ]);
  const put = (key: string) => [...ids, install.extensionId, ns, key, value, size, null, null, null, false];
  let n = 0;

  group("SQL round trips (one statement, autocommit)", () => {
    bench("records.get (1 key)", () => db.run("records.get", [...ids, ns, ["user/007"]]));
    bench("records.get (bulk-get, 50 keys)", () => db.run("records.get", [...ids, ns, keys.slice(0, 50)]));
    bench("records.list (page of 20, keys only)", () =>
      db.run("records.list", [...ids, ns, "", "user/", "user0", 21, false]),
    );
    bench("records.list (page of 20, values)", () =>
      db.run("records.list", [...ids, ns, "", "user/", "user0", 21, true]),
    );
    bench("namespaces.list", () => db.run("namespaces.list", [...ids]));
    bench("installs.lock", () => db.run("installs.lock", [...ids, install.extensionId]));
    bench("records.put (replace)", () => db.run("records.put", put("user/001")));
    bench("records.put + records.delete (create, then delete)", async () => {
      const key = `tmp/${n++}`;
      await db.run("records.put", put(key));
      await db.run("records.delete", [...ids, ns, [key], [null]]);
    });
    bench("health.migrations", () => db.run("health.migrations", []));
  });
  group("write transactions as the service runs them", () => {
    bench("PUT: BEGIN; installs.lock + records.put; COMMIT", () =>
      db.transaction(async (q) => {
        await Promise.all([
          q.run("installs.lock", [...ids, install.extensionId]),
          q.run("records.put", put("user/002")),
        ]);
      }),
    );
  });
  return db;
}
