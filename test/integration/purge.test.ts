// Purge keeps a tombstone, not data (spec section 12): records, schemas and usage figures go,
// the install stays its tenant's and its revision and schema-version counters keep growing.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, sql, storedRows } from "../helpers/db.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
let admin: Awaited<ReturnType<typeof adminClient>>;
beforeAll(async () => {
  server = await startServer();
  admin = await adminClient(server.url);
});
afterAll(() => server.close());

const ALL = "storage:read storage:write storage:schema";
const as = async (install = newInstall()) => client(server.url, await tokenFor(install, ALL));
const revisionOf = (res: { headers: Headers }) => Number(JSON.parse(res.headers.get("etag") ?? "0"));

describe("purge", () => {
  test("revisions keep growing: a stale If-Match still fails after a purge", async () => {
    const install = newInstall();
    const c = await as(install);
    const first = await c.put("ns", "k", { value: 1 });
    expect(first.status).toBe(201);
    const before = revisionOf(first);
    expect((await admin.purge(install)).status).toBe(204);
    expect((await c.get("ns", "k")).status).toBe(404);

    const again = await c.put("ns", "k", { value: 2 });
    expect(again.status).toBe(201);
    expect(revisionOf(again)).toBeGreaterThan(before);
    const stale = await c.put("ns", "k", { value: 3 }, { "if-match": `"${before}"` });
    expect([stale.status, stale.body.error.code]).toEqual([412, "REVISION_MISMATCH"]);
    const staleDelete = await c.del("ns", "k", { "if-match": `"${before}"` });
    expect(staleDelete.status).toBe(412);

    const bulk = await c.bulk("ns", "bulk-put", { items: [{ key: "b", value: 1 }] });
    expect(bulk.body.items[0].revision).toBeGreaterThan(revisionOf(again));
    expect((await c.get("ns", "k")).body.value).toBe(2);
    await expectUsageExact(install.installId, expect);
  });

  test("schema versions keep growing across a purge", async () => {
    const install = newInstall();
    const c = await as(install);
    const path = "/v1/namespaces/ns/schema";
    const v1 = await c.call("PUT", path, { jsonSchema: { type: "string" } });
    const v2 = await c.call("PUT", path, { jsonSchema: { type: "number" } });
    expect([v1.status, v2.status]).toEqual([201, 200]);
    await admin.purge(install);
    expect((await c.call("GET", path)).status).toBe(404);
    // the purged schema no longer applies
    expect((await c.put("ns", "k", { value: "text" })).status).toBe(201);
    const v3 = await c.call("PUT", path, { jsonSchema: { type: "string" } });
    expect(v3.status).toBe(201);
    expect(v3.body.version).toBeGreaterThan(v2.body.version);
  });

  test("a schema put after a purge is the one enforced, never a validator cached for an old version", async () => {
    const install = newInstall();
    const c = await as(install);
    const path = "/v1/namespaces/ns/schema";
    await c.call("PUT", path, { jsonSchema: { type: "string" } });
    expect((await c.put("ns", "k", { value: 5 })).status).toBe(422);
    await admin.purge(install);
    await c.call("PUT", path, { jsonSchema: { type: "number" } });
    expect((await c.put("ns", "k", { value: 5 })).status).toBe(201);
    expect((await c.put("ns", "k", { value: "text" })).status).toBe(422);
  });

  test("the install stays its tenant's: another tenant sees it empty and cannot write it", async () => {
    const install = newInstall();
    const owner = await as(install);
    await owner.put("ns", "k", { value: 1 });
    await admin.purge(install);
    const intruder = await as({ ...newInstall(), installId: install.installId });
    expect((await intruder.get("ns", "k")).status).toBe(404);
    expect((await intruder.list("ns")).body.items).toEqual([]);
    expect((await intruder.call("GET", "/v1/usage")).body).toMatchObject({ bytesUsed: 0, recordCount: 0 });
    for (const res of [
      await intruder.put("ns", "k", { value: 2 }),
      await intruder.bulk("ns", "bulk-put", { items: [{ key: "x", value: 1 }] }),
      await intruder.call("PUT", "/v1/namespaces/ns/schema", { jsonSchema: {} }),
      await intruder.call("DELETE", "/v1/namespaces/ns"),
    ]) {
      expect([res.status, res.body.error.code]).toEqual([403, "FORBIDDEN"]);
    }
    const limits = await admin.limits({ ...install, tenantId: "another-tenant" }, { maxBytes: 1 });
    expect(limits.status).toBe(403);
    // the owner writes again
    expect((await owner.put("ns", "k", { value: 3 })).status).toBe(201);
    expect(await storedRows(install.installId)).toBe(1);
  });

  test("usage of a purged install is zeros and its limit overrides go back to the defaults", async () => {
    const install = newInstall();
    const c = await as(install);
    expect((await admin.limits(install, { maxBytes: 1000, maxRecords: 5 })).status).toBe(200);
    await c.bulk("ns", "bulk-put", { items: ["a", "b", "c"].map((key) => ({ key, value: key })) });
    await c.bulk("other", "bulk-put", { items: [{ key: "x", value: 1, ttlSeconds: 60 }] });
    expect((await admin.usage(install)).body.recordCount).toBe(4);
    expect((await admin.purge(install)).status).toBe(204);
    const defaults = (await admin.usage(newInstall())).body;
    expect((await admin.usage(install)).body).toEqual({ ...defaults, bytesUsed: 0, recordCount: 0 });
    expect((await c.call("GET", "/v1/usage")).body).toEqual(defaults);
    expect((await c.call("GET", "/v1/namespaces")).body).toEqual({ namespaces: [] });
    const [row] = await sql`select bytes_used::int, record_count::int, max_bytes, max_records
      from ext_storage_usage where install_id = ${install.installId}`;
    expect(row).toEqual({ bytes_used: 0, record_count: 0, max_bytes: null, max_records: null });
    // purging again changes nothing and is still a 204
    expect((await admin.purge(install)).status).toBe(204);
    expect((await admin.usage(install)).body).toEqual(defaults);
    await expectUsageExact(install.installId, expect);
  });
});
