import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) => client(server.url, await tokenFor(install));

describe("namespaces", () => {
  test("lists namespaces holding live records with their count and bytes", async () => {
    const c = await as();
    expect((await c.call("GET", "/v1/namespaces")).body).toEqual({ namespaces: [] });
    await c.put("b", "k1", { value: "é" }); // 2 + 4 bytes
    await c.put("b", "k2", { value: [1, 2] }); // 2 + 5 bytes
    await c.put("a", "key", { value: null }); // 3 + 4 bytes
    await c.put("c", "gone", { value: 1 });
    await c.del("c", "gone");
    const res = await c.call("GET", "/v1/namespaces");
    expect(res.body).toEqual({
      namespaces: [
        { namespace: "a", recordCount: 1, bytesUsed: 7 },
        { namespace: "b", recordCount: 2, bytesUsed: 13 },
      ],
    });
  });

  test("deleting a namespace removes all its records atomically and only them", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.bulk("doomed", "bulk-put", { items: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i })) });
    await c.put("doomed", "short", { value: 1, ttlSeconds: 1 });
    await c.put("kept", "k", { value: 1 });
    await Bun.sleep(1100);
    const res = await c.call("DELETE", "/v1/namespaces/doomed");
    expect([res.status, res.body]).toEqual([200, { deleted: 30 }]);
    expect(await storedRows(install.installId, "doomed")).toBe(0);
    expect((await c.get("kept", "k")).status).toBe(200);
    expect((await c.call("DELETE", "/v1/namespaces/doomed")).body).toEqual({ deleted: 0 });
    expect((await c.call("DELETE", "/v1/namespaces/never")).body).toEqual({ deleted: 0 });
    expect((await c.call("DELETE", "/v1/namespaces/bad%20ns")).body.error.code).toBe("INVALID_NAMESPACE");
    await expectUsageExact(install.installId, expect);
  });

  test("a read-only token cannot delete a namespace", async () => {
    const install = newInstall();
    const writer = await as(install);
    await writer.put("ns", "k", { value: 1 });
    const reader = client(server.url, await tokenFor(install, "storage:read"));
    expect((await reader.call("DELETE", "/v1/namespaces/ns")).status).toBe(403);
    const writeOnly = client(server.url, await tokenFor(install, "storage:write"));
    expect((await writeOnly.get("ns", "k")).status).toBe(403);
    expect((await reader.get("ns", "k")).status).toBe(200);
  });
});
