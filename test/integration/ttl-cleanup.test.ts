import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { refreshPending, sweepOnce } from "../../src/background.ts";
import { connect } from "../../src/db/client.ts";
import { createMetrics, hashBucket } from "../../src/metrics.ts";
import { expectUsageExact, sql, storedRows } from "../helpers/db.ts";
import { sample, scrape } from "../helpers/metrics.ts";
import { adminClient, client, newInstall, sleep, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  // every list also sweeps its install, so the sampled sweep can be watched
  server = await startServer({ TTL_LIST_SWEEP_EVERY: "1" });
});
afterAll(() => server.close());

const labels = (install: { tenantId: string; extensionId: string }, trigger: string) => ({
  tenant_hash: hashBucket(install.tenantId),
  extension_hash: hashBucket(install.extensionId),
  trigger,
});

describe("opportunistic cleanup, counted by trigger", () => {
  test("get, list, bulk-get, put, bulk-put, sampling and quota each delete and count expired rows", async () => {
    const install = newInstall("ttl");
    const c = client(server.url, await tokenFor(install));
    const expiring = (key: string) => ({ key, value: 1, ttlSeconds: 1 });
    for (const ns of ["g", "l", "b", "p", "q", "other"]) {
      await c.bulk(ns, "bulk-put", { items: [expiring("x"), expiring("y"), { key: "keep", value: 1 }] });
    }
    await sleep(1300);
    const before = await scrape(server.url);
    const count = (text: string, trigger: string) =>
      sample(text, "ttl_cleanup_deletes_total", labels(install, trigger));

    expect((await c.get("g", "keep")).status).toBe(200); // deletes g's two expired rows
    expect((await c.bulk("b", "bulk-get", { keys: ["keep"] })).status).toBe(200);
    expect((await c.put("p", "x", { value: 2 })).status).toBe(201); // replaces one expired row
    expect(
      (
        await c.bulk("q", "bulk-put", {
          items: [
            { key: "x", value: 2 },
            { key: "y", value: 2 },
          ],
        })
      ).status,
    ).toBe(200);
    expect((await c.list("l")).status).toBe(200); // the namespace's own rows, then the sampled install sweep
    const after = await scrape(server.url);

    expect(count(after, "get") - count(before, "get")).toBe(2);
    expect(count(after, "bulk_get") - count(before, "bulk_get")).toBe(2);
    expect(count(after, "put") - count(before, "put")).toBe(1);
    expect(count(after, "bulk_put") - count(before, "bulk_put")).toBe(2);
    // the sampled sweep runs first and takes every expired row of the install: p's "y" and other's two
    // as well as l's own two
    expect(count(after, "sampling") - count(before, "sampling") + count(after, "list") - count(before, "list")).toBe(5);
    expect(await storedRows(install.installId)).toBe(6 + 3);
    await expectUsageExact(install.installId, expect);
  });

  test("a write that needs room sweeps the install and counts it as quota", async () => {
    const install = newInstall("ttlq");
    const admin = await adminClient(server.url);
    await admin.limits(install, { maxRecords: 2 });
    const c = client(server.url, await tokenFor(install));
    await c.bulk("a", "bulk-put", { items: ["x", "y"].map((key) => ({ key, value: 1, ttlSeconds: 1 })) });
    await sleep(1300);
    const before = sample(await scrape(server.url), "ttl_cleanup_deletes_total", labels(install, "quota"));
    expect((await c.put("b", "z", { value: 1 })).status).toBe(201);
    const after = sample(await scrape(server.url), "ttl_cleanup_deletes_total", labels(install, "quota"));
    expect(after - before).toBe(2);
    await expectUsageExact(install.installId, expect);
  });

  test("a failed write counts no cleanup: its transaction, cleanup included, is rolled back", async () => {
    const install = newInstall("ttlf");
    const c = client(server.url, await tokenFor(install));
    await c.put("p", "x", { value: 1, ttlSeconds: 1 });
    await sleep(1300);
    const before = sample(await scrape(server.url), "ttl_cleanup_deletes_total", labels(install, "put"));
    expect((await c.put("p", "x", { value: 2 }, { "if-match": '"1"' })).status).toBe(412);
    expect(sample(await scrape(server.url), "ttl_cleanup_deletes_total", labels(install, "put"))).toBe(before);
    expect(await storedRows(install.installId)).toBe(1);
  });
});

describe("the scheduled sweeper", () => {
  test("drains 100,000 expired rows across 1,000 installs in bounded batches, two instances at once", async () => {
    const prefix = `sweep-${process.pid}-${Date.now().toString(36)}`;
    // 1,000 installs × 100 expired rows, with usage rows that match them
    await sql`insert into ext_storage_usage (install_id, tenant_id, extension_id, bytes_used, record_count)
      select ${prefix} || '-' || i, 'sweep-tenant-' || (i % 37), 'sweep-ext', 100 * 12, 100 from generate_series(1, 1000) i`;
    await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes, expires_at)
      select 'sweep-tenant-' || (i % 37), 'sweep-ext', ${prefix} || '-' || i, 'cache', 'k' || j, '1', j, 12, now() - interval '1 second'
      from generate_series(1, 1000) i, generate_series(1, 100) j`;

    const config = { ...server.config, ttl: { ...server.config.ttl, sweepMaxInstalls: 100, sweepMaxRows: 40 } };
    const metrics = [createMetrics(), createMetrics()];
    const dbs = [0, 1].map((i) =>
      connect(process.env.DATABASE_URL as string, { poolMax: 2, prepare: true }, metrics[i]?.observeQuery),
    );
    try {
      expect(await refreshPending(dbs[0] as never, config, metrics[0] as never)).toBeGreaterThanOrEqual(100_000);
      const started = performance.now();
      let deleted = 0;
      for (let run = 0; run < 200; run++) {
        // both instances sweep at the same time; the advisory lock makes one of them skip
        const got = await Promise.all(dbs.map((db, i) => sweepOnce(db, config, metrics[i] as never, 60_000)));
        deleted += got[0] as number;
        deleted += got[1] as number;
        const [left] =
          await sql`select count(*)::int as n from ext_storage_records where install_id like ${`${prefix}-%`}`;
        if (left?.n === 0) break;
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `sweeper: ${deleted} rows in ${seconds.toFixed(2)} s (${Math.round(deleted / seconds)} rows/s), batches of ≤ 100 installs × 40 rows`,
      );
      // the sweeper is global: it may also take expired rows other tests left behind
      expect(deleted).toBeGreaterThanOrEqual(100_000);
      const [left] =
        await sql`select count(*)::int as n from ext_storage_records where install_id like ${`${prefix}-%`}`;
      expect(left?.n).toBe(0);
      const [drift] = await sql`select count(*)::int as n from ext_storage_usage where install_id like ${`${prefix}-%`}
        and (bytes_used <> 0 or record_count <> 0)`;
      expect(drift?.n).toBe(0);
      const texts = await Promise.all(metrics.map((m) => m.registry.metrics()));
      const swept = texts.reduce(
        (sum, t) =>
          sum +
          sample(t, "ttl_cleanup_deletes_total", {
            tenant_hash: hashBucket("sweep-tenant-1"),
            extension_hash: hashBucket("sweep-ext"),
            trigger: "sweep",
          }),
        0,
      );
      expect(swept).toBeGreaterThan(0);
      expect(await refreshPending(dbs[0] as never, config, metrics[0] as never)).toBe(0);
      expect(sample((await metrics[0]?.registry.metrics()) as string, "ttl_expired_rows_pending")).toBe(0);
    } finally {
      await sql`delete from ext_storage_usage where install_id like ${`${prefix}-%`}`;
      await Promise.all(dbs.map((db) => db.close()));
    }
  }, 120_000);

  test("a batch is bounded: at most max installs, at most max rows each", async () => {
    const prefix = `bound-${process.pid}-${Date.now().toString(36)}`;
    await sql`insert into ext_storage_usage (install_id, tenant_id, extension_id, bytes_used, record_count)
      select ${prefix} || '-' || i, 't', 'e', 50 * 10, 50 from generate_series(1, 5) i`;
    await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes, expires_at)
      select 't', 'e', ${prefix} || '-' || i, 'ns', 'k' || j, '1', j, 10, now() - interval '1 second'
      from generate_series(1, 5) i, generate_series(1, 50) j`;
    const rows = await sql`select * from ext_storage_sweep_expired(3, 7) where swept_install_id like ${`${prefix}-%`}`;
    expect(rows.length).toBeLessThanOrEqual(3);
    for (const row of rows) expect(Number(row.deleted)).toBeLessThanOrEqual(7);
    await sql`select * from ext_storage_sweep_expired(1000, 1000)`;
    for (let i = 1; i <= 5; i++) await expectUsageExact(`${prefix}-${i}`, expect);
    await sql`delete from ext_storage_usage where install_id like ${`${prefix}-%`}`;
  });
});
