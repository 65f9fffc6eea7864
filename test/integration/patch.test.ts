import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) =>
  client(server.url, await tokenFor(install, "storage:read storage:write storage:schema"));

describe("PATCH (JSON Merge Patch)", () => {
  test("merges into the live value and answers the whole record with its ETag", async () => {
    const c = await as();
    await c.put("ns", "k", { value: { a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, ttlSeconds: 3600 });
    const before = await c.get("ns", "k");
    const res = await c.patch("ns", "k", { b: { c: null, x: true }, e: "now a string", f: 5 });
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual({ a: 1, b: { d: 3, x: true }, e: "now a string", f: 5 });
    expect(res.body.key).toBe("k");
    expect(res.body.revision).toBeGreaterThan(before.body.revision);
    expect(res.headers.get("etag")).toBe(`"${res.body.revision}"`);
    // the expiry is kept
    expect(res.body.expiresAt).toBe(before.body.expiresAt);
    expect(res.body.createdAt).toBe(before.body.createdAt);
    const read = await c.get("ns", "k");
    expect(read.body.value).toEqual(res.body.value);
    expect(read.body.revision).toBe(res.body.revision);
  });

  test("a non-object patch replaces the value; application/json is accepted too", async () => {
    const c = await as();
    await c.put("ns", "k", { value: { a: 1 } });
    const res = await c.patch("ns", "k", [1, 2], { "content-type": "application/json" });
    expect([res.status, res.body.value]).toEqual([200, [1, 2]]);
    const text = await c.patch("ns", "k", "x", { "content-type": "text/plain" });
    expect(text.status).toBe(415);
  });

  test("absent or expired is a 404; If-Match is honoured", async () => {
    const c = await as();
    const absent = await c.patch("ns", "nope", { a: 1 });
    expect([absent.status, absent.body.error.code]).toEqual([404, "NOT_FOUND"]);
    const put = await c.put("ns", "k", { value: { n: 1 } });
    const stale = await c.patch("ns", "k", { n: 2 }, { "if-match": `"${put.body.revision + 1000}"` });
    expect([stale.status, stale.body.error.code, stale.body.error.details]).toEqual([
      412,
      "REVISION_MISMATCH",
      { currentRevision: put.body.revision },
    ]);
    const good = await c.patch("ns", "k", { n: 2 }, { "if-match": `"${put.body.revision}"` });
    expect([good.status, good.body.value]).toEqual([200, { n: 2 }]);
    const absentMatch = await c.patch("ns", "gone", { n: 2 }, { "if-match": '"1"' });
    expect([absentMatch.status, absentMatch.body.error.details]).toEqual([412, { currentRevision: null }]);
  });

  test("the merged value is sized, validated and charged like a PUT", async () => {
    const install = newInstall();
    const c = await as(install);
    const schemaRes = await c.call("PUT", "/v1/namespaces/typed/schema", {
      jsonSchema: { type: "object", properties: { n: { type: "number" } } },
      maxValueBytes: 100,
    });
    expect(schemaRes.status).toBe(201);
    await c.put("typed", "k", { value: { n: 1 } });
    const invalid = await c.patch("typed", "k", { n: "x" });
    expect([invalid.status, invalid.body.error.code]).toEqual([422, "SCHEMA_VIOLATION"]);
    const large = await c.patch("typed", "k", { s: "x".repeat(200) });
    expect([large.status, large.body.error.code]).toEqual([413, "VALUE_TOO_LARGE"]);
    expect((await c.get("typed", "k")).body.value).toEqual({ n: 1 });
    await expectUsageExact(install.installId, expect);
  });

  test("bad patches are 400s", async () => {
    const c = await as();
    await c.put("ns", "k", { value: {} });
    const deep = await c.patch("ns", "k", JSON.parse(`${"[".repeat(33)}${"]".repeat(33)}`));
    expect([deep.status, deep.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    const nul = await c.patch("ns", "k", { a: "\u0000" });
    expect(nul.status).toBe(400);
    const none = await c.patch("ns", "k", undefined);
    expect(none.status).toBe(400);
    const inm = await c.patch("ns", "k", { a: 1 }, { "if-none-match": "*" });
    expect(inm.status).toBe(400);
  });
});
