import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall(), scope?: string) => client(server.url, await tokenFor(install, scope));

describe("single records", () => {
  test("put creates (201), get reads it back with an ETag, put again replaces (200)", async () => {
    const install = newInstall();
    const c = await as(install);
    const created = await c.put("settings", "theme", { value: { mode: "dark" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      key: "theme",
      revision: expect.any(Number),
      expiresAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(created.headers.get("etag")).toBe(`"${created.body.revision}"`);
    expect(created.headers.get("x-request-id")).toBeTruthy();

    const read = await c.get("settings", "theme");
    expect(read.status).toBe(200);
    expect(read.body.value).toEqual({ mode: "dark" });
    expect(read.headers.get("etag")).toBe(`"${created.body.revision}"`);

    const replaced = await c.put("settings", "theme", { value: ["light", 1, null, true] });
    expect(replaced.status).toBe(200);
    expect(replaced.body.revision).toBeGreaterThan(created.body.revision);
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect((await c.get("settings", "theme")).body.value).toEqual(["light", 1, null, true]);
    await expectUsageExact(install.installId, expect);
  });

  test("every JSON type is a value, and numbers come back as doubles", async () => {
    const c = await as();
    const values = [null, true, false, 0, -12.5, 1e21, "", "text é 𝄞", [], {}, { nested: [1, { a: "b" }] }];
    for (const [i, value] of values.entries()) {
      expect((await c.put("types", `k${i}`, { value })).status).toBe(201);
      expect((await c.get("types", `k${i}`)).body.value).toEqual(value);
    }
  });

  test("If-None-Match: * creates only when absent", async () => {
    const c = await as();
    expect((await c.put("ns", "k", { value: 1 }, { "if-none-match": "*" })).status).toBe(201);
    const again = await c.put("ns", "k", { value: 2 }, { "if-none-match": "*" });
    expect(again.status).toBe(412);
    expect(again.body.error.code).toBe("REVISION_MISMATCH");
    expect(again.body.error.details.currentRevision).toEqual(expect.any(Number));
    expect((await c.get("ns", "k")).body.value).toBe(1);
  });

  test("If-Match writes only over the revision it names", async () => {
    const c = await as();
    const first = await c.put("ns", "k", { value: "a" });
    const stale = `"${first.body.revision}"`;
    const second = await c.put("ns", "k", { value: "b" }, { "if-match": stale });
    expect(second.status).toBe(200);
    const conflict = await c.put("ns", "k", { value: "c" }, { "if-match": stale });
    expect(conflict.status).toBe(412);
    expect(conflict.body.error.details).toEqual({ currentRevision: second.body.revision });
    const absent = await c.put("ns", "nope", { value: "c" }, { "if-match": '"1"' });
    expect(absent.status).toBe(412);
    expect(absent.body.error.details).toEqual({ currentRevision: null });
    expect((await c.get("ns", "nope")).status).toBe(404);
    for (const bad of ["abc", '"0"', '"-1"', '"1", "2"']) {
      expect((await c.put("ns", "k", { value: 1 }, { "if-match": bad })).body.error.code).toBe("INVALID_REQUEST");
    }
    expect((await c.put("ns", "k", { value: 1 }, { "if-none-match": '"3"' })).status).toBe(400);
  });

  test("delete: 204, then 404; If-Match honoured", async () => {
    const install = newInstall();
    const c = await as(install);
    const put = await c.put("ns", "k", { value: 1 });
    expect((await c.del("ns", "k", { "if-match": `"${put.body.revision + 1}"` })).status).toBe(412);
    const del = await c.del("ns", "k", { "if-match": `"${put.body.revision}"` });
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect((await c.get("ns", "k")).status).toBe(404);
    const again = await c.del("ns", "k");
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("NOT_FOUND");
    expect(await storedRows(install.installId)).toBe(0);
    await expectUsageExact(install.installId, expect);
  });

  test("a revision is never reused after delete and re-create, so a stale If-Match cannot succeed", async () => {
    const c = await as();
    const seen = new Set<number>();
    let last = 0;
    for (let i = 0; i < 5; i++) {
      const put = await c.put("ns", "k", { value: i });
      expect(put.status).toBe(201);
      expect(put.body.revision).toBeGreaterThan(last);
      last = put.body.revision;
      seen.add(last);
      expect((await c.del("ns", "k")).status).toBe(204);
    }
    expect(seen.size).toBe(5);
    await c.put("ns", "k", { value: "new" });
    for (const stale of seen) {
      expect((await c.put("ns", "k", { value: "x" }, { "if-match": `"${stale}"` })).status).toBe(412);
    }
  });

  test("keys with / % _ \\ ... spaces é 𝄞 round-trip unchanged", async () => {
    const c = await as();
    const keys = [
      "a/b/c",
      "100%",
      "%2F",
      "a_b",
      "back\\slash",
      "...",
      "with space",
      "é",
      "𝄞",
      "?#&=+",
      "x".repeat(512),
    ];
    for (const key of keys) {
      expect([key, (await c.put("keys", key, { value: key })).status]).toEqual([key, 201]);
    }
    for (const key of keys) {
      const read = await c.get("keys", key);
      expect([read.body.key, read.body.value]).toEqual([key, key]);
    }
    const listed = await c.list("keys", "limit=100");
    expect(listed.body.items.map((i: { key: string }) => i.key).sort()).toEqual([...keys].sort());
  });

  test("invalid escapes, control characters and overlong keys are INVALID_KEY", async () => {
    const c = await as();
    for (const raw of ["%ZZ", "%", "a%2", "%FF", "%C3%28", "%00", "a%0Ab", "x".repeat(513)]) {
      const res = await c.call("GET", `/v1/namespaces/ns/records/${raw}`);
      expect([raw, res.status, res.body.error.code]).toEqual([raw, 400, "INVALID_KEY"]);
    }
    const bad = await c.call("PUT", "/v1/namespaces/ns/records/%ZZ", { value: 1 });
    expect(bad.body.error.code).toBe("INVALID_KEY");
  });

  test("invalid namespaces are INVALID_NAMESPACE", async () => {
    const c = await as();
    for (const ns of [".hidden", "-x", "a%20b", "%ZZ", "é", "x".repeat(64)]) {
      const res = await c.call("GET", `/v1/namespaces/${ns}/records/k`);
      expect([ns, res.status, res.body.error.code]).toEqual([ns, 400, "INVALID_NAMESPACE"]);
    }
  });
});
