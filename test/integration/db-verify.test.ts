// db:verify on plain PostgreSQL, each case on a database of its own; and, when CITUS_URL is
// set, on the Citus coordinator the run is using.
import "../helpers/test-database.ts";
import { afterEach, expect, test } from "bun:test";
import { CITUS_URL, citusTest, noteCitusSkipped } from "../helpers/citus.ts";
import { type FreshDatabase, freshDatabase, json, runScript } from "../helpers/databases.ts";

noteCitusSkipped("db-verify.test.ts");

let db: FreshDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: checks are JSON
const statuses = (checks: any[]) => Object.fromEntries(checks.map((c) => [c.name, c.status]));

test("a migrated database verifies: tables, columns, indexes, migrations and a rolled-back smoke CRUD", async () => {
  db = await freshDatabase("ops_verify");
  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);

  const result = await runScript("db:verify", ["--json"], db.url);
  expect(result.code).toBe(0);
  const v = json(result);
  expect(v).toMatchObject({ engine: "postgresql", ok: true });
  expect(statuses(v.checks)).toEqual({
    migrations: "ok",
    "table ext_storage_records": "ok",
    "table ext_storage_schemas": "ok",
    "table ext_storage_usage": "ok",
    "table ext_storage_rate_buckets": "ok",
    "table ext_storage_idempotency": "ok",
    "index ext_storage_records_pkey": "ok",
    "index ext_storage_schemas_pkey": "ok",
    "index ext_storage_usage_pkey": "ok",
    "index ext_storage_rate_buckets_pkey": "ok",
    "index ext_storage_idempotency_pkey": "ok",
    "index ext_storage_idempotency_expires_idx": "ok",
    "index ext_storage_records_namespace_scan_idx": "ok",
    "index ext_storage_records_ttl_idx": "ok",
    "ttl sweeper": "ok",
    "idempotency sweeper": "ok",
    "citus placement": "skip",
    "smoke CRUD": "ok",
  });
  // the smoke CRUD left nothing behind
  const [rows] =
    await db.sql`select (select count(*) from ext_storage_records) + (select count(*) from ext_storage_usage) as n`;
  expect(Number(rows?.n)).toBe(0);

  const human = await runScript("db:verify", [], db.url);
  expect(human.code).toBe(0);
  expect(human.stdout).toContain("ok    smoke CRUD");
  expect(human.stdout).toMatch(/17 ok, 0 failed, 1 skipped: VERIFIED\n$/);
});

test("an unmigrated database fails verification, naming what is missing", async () => {
  db = await freshDatabase("ops_verify_empty");
  const result = await runScript("db:verify", [], db.url);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain("fail  table ext_storage_records");
  expect(result.stdout).toContain("missing");
  expect(result.stdout).toContain("FAILED");
});

test("a missing index, a changed column or a pending migration each fail verification", async () => {
  db = await freshDatabase("ops_verify_drift");
  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  await db.sql`drop index ext_storage_records_ttl_idx`;
  await db.sql`drop function ext_storage_sweep_expired(integer, integer)`;
  await db.sql`alter table ext_storage_records alter column key type text collate "default"`;
  await db.sql`insert into schema_migrations (version) values ('29990101000000')`;
  await db.sql`delete from schema_migrations where version = (select min(version) from schema_migrations)`;

  const result = await runScript("db:verify", ["--json"], db.url);
  expect(result.code).toBe(1);
  const v = json(result);
  expect(v.ok).toBe(false);
  // biome-ignore lint/suspicious/noExplicitAny: checks are JSON
  const failed = v.checks.filter((c: any) => c.status === "fail");
  // biome-ignore lint/suspicious/noExplicitAny: checks are JSON
  expect(failed.map((c: any) => [c.name, c.detail])).toEqual([
    ["migrations", expect.stringContaining("pending:")],
    ["table ext_storage_records", 'key is text not null, expected text not null collate "C"'],
    ["index ext_storage_records_ttl_idx", "missing"],
    ["ttl sweeper", "ext_storage_sweep_expired(integer, integer) missing"],
  ]);
});

citusTest("on Citus: every table hash-distributed on install_id, colocated, shards on every worker", async () => {
  const result = await runScript("db:verify", ["--json"], CITUS_URL as string);
  expect(result.code).toBe(0);
  const v = json(result);
  expect(v).toMatchObject({ engine: "citus", ok: true });
  const s = statuses(v.checks);
  expect(s["citus distribution ext_storage_records"]).toBe("ok");
  expect(s["citus distribution ext_storage_schemas"]).toBe("ok");
  expect(s["citus distribution ext_storage_usage"]).toBe("ok");
  expect(s["citus distribution ext_storage_rate_buckets"]).toBe("ok");
  expect(s["citus colocation"]).toBe("ok");
  // biome-ignore lint/suspicious/noExplicitAny: checks are JSON
  const shards = v.checks.find((c: any) => c.name === "citus shards per node").data as Record<
    string,
    Record<string, number>
  >;
  const workers = Object.keys(shards);
  expect(workers.length).toBeGreaterThanOrEqual(2);
  for (const counts of Object.values(shards)) {
    expect(counts.ext_storage_records).toBeGreaterThan(0);
    expect(counts.ext_storage_usage).toBe(counts.ext_storage_records);
    expect(counts.ext_storage_schemas).toBe(counts.ext_storage_records);
    expect(counts.ext_storage_rate_buckets).toBe(counts.ext_storage_records);
  }
});
