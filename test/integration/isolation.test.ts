import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe("install isolation", () => {
  test("an install sees, changes and counts only its own records", async () => {
    const a = newInstall("a");
    const b = { ...newInstall("b"), tenantId: a.tenantId };
    const ca = client(server.url, await tokenFor(a));
    const cb = client(server.url, await tokenFor(b));
    await ca.bulk("shared", "bulk-put", { items: ["k1", "k2"].map((key) => ({ key, value: `a-${key}` })) });
    await cb.put("shared", "k1", { value: "b-k1" });

    expect((await cb.get("shared", "k1")).body.value).toBe("b-k1");
    expect((await cb.get("shared", "k2")).status).toBe(404);
    expect((await cb.list("shared")).body.items.map((i: { key: string }) => i.key)).toEqual(["k1"]);
    expect((await cb.bulk("shared", "bulk-get", { keys: ["k1", "k2"] })).body.missing).toEqual(["k2"]);
    expect((await cb.call("GET", "/v1/namespaces")).body.namespaces).toEqual([
      { namespace: "shared", recordCount: 1, bytesUsed: expect.any(Number) },
    ]);
    expect((await cb.del("shared", "k2")).status).toBe(404);
    expect((await cb.bulk("shared", "bulk-delete", { keys: ["k1", "k2"] })).body).toEqual({ deleted: 1 });
    expect((await cb.call("DELETE", "/v1/namespaces/shared")).body).toEqual({ deleted: 0 });
    // a's data is untouched
    expect((await ca.get("shared", "k1")).body.value).toBe("a-k1");
    expect(await storedRows(a.installId)).toBe(2);
  });

  test("the same install_id under another tenant reads an empty install and cannot write", async () => {
    const owner = newInstall("owner");
    const intruder = { ...owner, tenantId: `${owner.tenantId}-other` };
    const co = client(server.url, await tokenFor(owner));
    const ci = client(server.url, await tokenFor(intruder));
    await co.put("ns", "secret", { value: "mine" });

    expect((await ci.get("ns", "secret")).status).toBe(404);
    expect((await ci.list("ns")).body).toEqual({ items: [], cursor: null });
    expect((await ci.bulk("ns", "bulk-get", { keys: ["secret"] })).body).toEqual({
      items: [],
      missing: ["secret"],
      unprocessed: [],
    });
    expect((await ci.call("GET", "/v1/namespaces")).body).toEqual({ namespaces: [] });
    for (const res of [
      await ci.put("ns", "secret", { value: "stolen" }),
      await ci.put("ns", "other", { value: "x" }),
      await ci.del("ns", "secret"),
      await ci.bulk("ns", "bulk-put", { items: [{ key: "secret", value: 1 }] }),
      await ci.bulk("ns", "bulk-delete", { keys: ["secret"] }),
      await ci.call("DELETE", "/v1/namespaces/ns"),
    ]) {
      expect([res.status, res.body.error.code]).toEqual([403, "FORBIDDEN"]);
      expect(JSON.stringify(res.body)).not.toContain(owner.tenantId);
    }
    expect((await co.get("ns", "secret")).body.value).toBe("mine");
    expect(await storedRows(owner.installId)).toBe(1);
  });

  test("nothing in the URL or body widens the token's install", async () => {
    const a = newInstall("a");
    const b = newInstall("b");
    const cb = client(server.url, await tokenFor(b));
    await client(server.url, await tokenFor(a)).put("ns", "k", { value: "a" });
    const res = await cb.call("GET", `/v1/namespaces/ns/records/k?install_id=${a.installId}`);
    expect(res.status).toBe(404);
    const put = await cb.put("ns", "k", { value: "b", install_id: a.installId });
    expect(put.status).toBe(400);
  });
});
