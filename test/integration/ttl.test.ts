import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, sql, storedRows } from "../helpers/db.ts";
import { client, newInstall, sleep, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) => client(server.url, await tokenFor(install));

describe("TTL", () => {
  test("expired records are absent everywhere, and each read cleans its namespace", async () => {
    const install = newInstall();
    const c = await as(install);
    for (const ns of ["g", "l", "b", "n"]) {
      const res = await c.bulk(ns, "bulk-put", {
        items: [
          { key: "short", value: 1, ttlSeconds: 1 },
          { key: "at", value: 2, expiresAt: new Date(Date.now() + 1000).toISOString() },
          { key: "long", value: 3, ttlSeconds: 3600 },
          { key: "forever", value: 4 },
        ],
      });
      expect(res.status).toBe(200);
    }
    expect((await c.get("g", "short")).status).toBe(200);
    await sleep(1300);
    expect(await storedRows(install.installId)).toBe(16);

    // get
    expect((await c.get("g", "short")).status).toBe(404);
    expect((await c.get("g", "at")).status).toBe(404);
    expect((await c.get("g", "long")).body.value).toBe(3);
    expect(await storedRows(install.installId, "g")).toBe(2);
    // list
    const listed = await c.list("l");
    expect(listed.body.items.map((i: { key: string }) => i.key)).toEqual(["forever", "long"]);
    expect(await storedRows(install.installId, "l")).toBe(2);
    // bulk-get
    const got = await c.bulk("b", "bulk-get", { keys: ["short", "at", "long", "forever"] });
    expect(got.body.missing).toEqual(["short", "at"]);
    expect(await storedRows(install.installId, "b")).toBe(2);
    // namespaces count live rows only, even before any cleanup of "n"
    expect(await storedRows(install.installId, "n")).toBe(4);
    const namespaces = await c.call("GET", "/v1/namespaces");
    expect(
      namespaces.body.namespaces.map((n: { namespace: string; recordCount: number }) => [n.namespace, n.recordCount]),
    ).toEqual([
      ["b", 2],
      ["g", 2],
      ["l", 2],
      ["n", 2],
    ]);
    await expectUsageExact(install.installId, expect);
  });

  test("writes treat an expired row as absent and replace it", async () => {
    const install = newInstall();
    const c = await as(install);
    const old = await c.put("ns", "k", { value: "old", ttlSeconds: 1 });
    await c.put("ns", "m", { value: "old", ttlSeconds: 1 });
    await c.put("ns", "d", { value: "old", ttlSeconds: 1 });
    await sleep(1300);
    const stale = await c.put("ns", "k", { value: "x" }, { "if-match": `"${old.body.revision}"` });
    expect([stale.status, stale.body.error.details]).toEqual([412, { currentRevision: null }]);
    const again = await c.put("ns", "k", { value: "new" }, { "if-none-match": "*" });
    expect(again.status).toBe(201);
    expect(again.body.expiresAt).toBeNull();
    expect(Date.parse(again.body.createdAt)).toBeGreaterThan(Date.parse(old.body.createdAt));
    const bulk = await c.bulk("ns", "bulk-put", { items: [{ key: "m", value: "new", ifAbsent: true }] });
    expect(bulk.body.items[0].created).toBe(true);
    expect((await c.del("ns", "d")).status).toBe(404);
    expect(await storedRows(install.installId)).toBe(3);
    await expectUsageExact(install.installId, expect);
  });

  test("a write without a TTL clears an earlier expiry", async () => {
    const c = await as();
    expect((await c.put("ns", "k", { value: 1, ttlSeconds: 1 })).body.expiresAt).toEqual(expect.any(String));
    expect((await c.put("ns", "k", { value: 2 })).body.expiresAt).toBeNull();
    await sleep(1200);
    expect((await c.get("ns", "k")).body.value).toBe(2);
  });

  test("a namespace's default TTL applies to writes that give none", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.put("cache", "seed", { value: 0 });
    await sql`insert into ext_storage_schemas (tenant_id, extension_id, install_id, namespace, json_schema, version, default_ttl_seconds)
      values (${install.tenantId}, ${install.extensionId}, ${install.installId}, 'cache', '{}', 1, 120)`;
    const put = await c.put("cache", "k", { value: 1 });
    const expires = Date.parse(put.body.expiresAt) - Date.parse(put.body.updatedAt);
    expect(expires).toBeGreaterThan(119_000);
    expect(expires).toBeLessThan(121_000);
    const explicit = await c.put("cache", "k2", { value: 1, ttlSeconds: 5 });
    expect(Date.parse(explicit.body.expiresAt) - Date.parse(explicit.body.updatedAt)).toBeLessThan(6000);
    const bulk = await c.bulk("cache", "bulk-put", { items: [{ key: "k3", value: 1 }] });
    expect(Date.parse(bulk.body.items[0].expiresAt)).toBeGreaterThan(Date.now() + 100_000);
  });

  test("ttlSeconds and expiresAt are checked", async () => {
    const c = await as();
    for (const body of [
      { value: 1, ttlSeconds: 0 },
      { value: 1, ttlSeconds: 31_536_001 },
      { value: 1, ttlSeconds: 1.5 },
      { value: 1, ttlSeconds: "10" },
      { value: 1, expiresAt: "2020-01-01T00:00:00Z" },
      { value: 1, expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() },
      { value: 1, expiresAt: "soon" },
      { value: 1, ttlSeconds: 10, expiresAt: new Date(Date.now() + 60_000).toISOString() },
    ]) {
      const res = await c.put("ns", "k", body);
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([
        JSON.stringify(body),
        400,
        "INVALID_REQUEST",
      ]);
    }
    expect((await c.put("ns", "k", { value: 1, ttlSeconds: 31_536_000 })).status).toBe(201);
  });
});
