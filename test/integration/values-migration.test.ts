// The migration that keeps values' canonical text (value_json) goes onto a populated table
// with `db:migrate --safe` while the previous release's writes and reads run, blocks none of
// them past its 2 s lock bound, and the rows written before it read back canonical.
import "../helpers/test-database.ts";
import { afterEach, expect, test } from "bun:test";
import postgres from "postgres";
import { migrationVersions } from "../../src/db/migrate.ts";
import { type FreshDatabase, freshDatabase, json, runScript } from "../helpers/databases.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService } from "../helpers/service.ts";

const VALUE_JSON = "20261129190000";
const AFTER = migrationVersions().filter((v) => v >= VALUE_JSON);
const ROWS = 5_000;
const TINY = `[${Array(9362).fill("5e-324").join(",")}]`;
const ORDERED = '{"b":1,"a":[1e300,-0,0.1]}';

let db: FreshDatabase | undefined;
let service: Service | undefined;
afterEach(async () => {
  await service?.kill();
  service = undefined;
  await db?.drop();
  db = undefined;
});

test("db:migrate --safe adds value_json under live writes, and older rows read back canonical", async () => {
  db = await freshDatabase("values_migrate");
  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  for (const _ of AFTER) expect((await runScript("db:rollback", [], db.url)).code).toBe(0);
  const columns = await db.sql`select column_name from information_schema.columns where column_name = 'value_json'`;
  expect(columns.length).toBe(0);

  // a populated table, written as the previous release writes: the value as jsonb only
  const install = newInstall("mig");
  const { tenantId, installId, extensionId } = install;
  await db.sql`insert into ext_storage_usage (install_id, tenant_id, extension_id) values (${installId}, ${tenantId}, ${extensionId})`;
  await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
    select ${tenantId}, ${extensionId}, ${installId}, 'bulk', 'k' || lpad(g::text, 5, '0'),
           jsonb_build_object('n', g, 'tiny', 5e-324, 'text', repeat('x', 200)), g, 1
    from generate_series(1, ${ROWS}) g`;
  const old = [
    ["tiny", TINY],
    ["ordered", ORDERED],
  ] as const;
  for (const [key, text] of old) {
    await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
      values (${tenantId}, ${extensionId}, ${installId}, 'old', ${key}, ${text}::text::jsonb, 1, 1)`;
  }
  await db.sql`update ext_storage_records set size_bytes = octet_length(key) + 1 where install_id = ${installId} and namespace = 'bulk'`;
  await db.sql`update ext_storage_usage set (bytes_used, record_count, last_revision) =
    (select sum(size_bytes), count(*), ${ROWS}::bigint from ext_storage_records where install_id = ${installId})
    where install_id = ${installId}`;

  // the previous release's traffic: each statement may wait for a lock at most 2 s, so one
  // that the migration held up longer fails and is counted
  const traffic = postgres(db.url, { max: 4, onnotice: () => {}, connection: { lock_timeout: 2000 } });
  let stop = false;
  let done = 0;
  const failures: string[] = [];
  const worker = async (w: number) => {
    for (let i = 0; i < 20_000 && !stop; i++) {
      const key = `k${String(1 + ((i * 4 + w) % ROWS)).padStart(5, "0")}`;
      try {
        if (i % 2 === 0) {
          await traffic`update ext_storage_records set value = ${JSON.stringify({ n: i, w })}::text::jsonb, updated_at = now()
                        where install_id = ${installId} and tenant_id = ${tenantId} and namespace = 'bulk' and key = ${key}`;
        } else {
          await traffic`select value::text from ext_storage_records
                        where install_id = ${installId} and tenant_id = ${tenantId} and namespace = 'bulk' and key = ${key}`;
        }
        done++;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  const deadline = setTimeout(() => {
    stop = true;
  }, 120_000);
  const workers = [0, 1, 2, 3].map(worker);
  try {
    const before = done;
    const migrated = await runScript("db:migrate", ["--safe"], db.url);
    const during = done - before;
    expect(migrated.code).toBe(0);
    const record = json(migrated);
    expect(record).toMatchObject({ ok: true, versions: AFTER });
    for (const attempt of record.attempts) expect(attempt.outcome).toBe("done");
    // the traffic really ran while the migration did
    expect(during).toBeGreaterThan(0);
  } finally {
    stop = true;
    clearTimeout(deadline);
    await Promise.all(workers);
    await traffic.end({ timeout: 5 });
  }
  expect(failures).toEqual([]);
  const [{ n } = { n: 0 }] =
    await db.sql`select count(*)::int as n from ext_storage_records where value_json is not null`;
  expect(n).toBe(0);

  // the service of this release on the migrated database
  service = await startService(db.url);
  const token = await tokenFor(install);
  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(service?.url + path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    return res.text();
  };
  const tiny = await get("/v1/namespaces/old/records/tiny");
  expect(tiny).toContain(`"value":${TINY},"revision":`);
  const ordered = await get("/v1/namespaces/old/records/ordered");
  // jsonb kept neither the order nor -0; the numbers are JavaScript's
  expect(ordered).toContain(`"value":{"a":[1e+300,0,0.1],"b":1},"revision":`);
  const page = await get("/v1/namespaces/old/records");
  expect(page).toBe(JSON.stringify(JSON.parse(page)));
  expect(page).toContain(`"value":${TINY},"revision":`);

  // written again by this release, the order sent is kept
  await get("/v1/namespaces/old/records/ordered", { method: "PUT", body: `{"value":${ORDERED}}` });
  expect(await get("/v1/namespaces/old/records/ordered")).toContain(`"value":{"b":1,"a":[1e+300,0,0.1]},"revision":`);
});
