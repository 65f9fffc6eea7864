// bench:migrate, small: crud-mix runs while db:migrate --safe applies the newest migration
// to a table of 20,000 records. No request may fail, the migration must be applied, and the
// usage the seeding recorded must still be the sums over the rows. The same code as the
// benchmark (bench/migrate/run.ts), only smaller and shorter.
import "../helpers/test-database.ts";
import { afterEach, expect, test } from "bun:test";
import { parseOptions } from "../../bench/load/options.ts";
import { renderReport, runMigrationBench } from "../../bench/migrate/run.ts";
import { migrationVersions } from "../../src/db/migrate.ts";
import { type FreshDatabase, freshDatabase } from "../helpers/databases.ts";

let db: FreshDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

test("crud-mix answers every request while db:migrate --safe applies the newest migration", async () => {
  db = await freshDatabase("bench_migrate");
  const report = await runMigrationBench({
    databaseUrl: db.url,
    records: 20_000,
    holdBack: 1,
    // 30 installs at the seed's 200 ops per minute each: 100 ops/s
    load: parseOptions(["--sub", "crud-mix", "--tenants", "10", "--warmup", "1", "--prefix", "bm"]),
    beforeSec: 2,
    afterSec: 1,
    migrationBoundSec: 60,
    say: () => {},
  });
  process.stderr.write(`${renderReport(report)}\n`);

  expect(report.failedRequests).toBe(0);
  expect(report.driverChecks.filter((c) => !c.ok)).toEqual([]);
  expect(report.requests).toBeGreaterThan(200);
  expect(report.migration.exitCode).toBe(0);
  expect(report.migration.versions).toEqual(migrationVersions().slice(-1));
  expect(report.migration.applied).toBe(true);
  expect(report.latency.during.seconds).toBeGreaterThan(0);
  expect(report.locks.samples).toBeGreaterThan(10);

  const applied = await db.sql`select version from schema_migrations order by version`;
  expect(applied.map((r) => String(r.version))).toEqual(migrationVersions());
  const [rows] = await db.sql`select count(*)::int as n from ext_storage_records where namespace = 'archive'`;
  expect(rows?.n).toBe(20_000);
  // usage is still exact: the seeding's sums plus every write and delete of the load
  const drift = await db.sql`
    select u.install_id from ext_storage_usage u
    left join (select install_id, sum(size_bytes) as bytes, count(*) as n from ext_storage_records group by install_id) r
      using (install_id)
    where u.bytes_used <> coalesce(r.bytes, 0) or u.record_count <> coalesce(r.n, 0)`;
  expect(drift.map((r) => r.install_id)).toEqual([]);
}, 90_000);
