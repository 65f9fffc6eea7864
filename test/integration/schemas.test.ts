import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { validatorCacheStats } from "../../src/records/schema-cache.ts";
import { storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const ALL = "storage:read storage:write storage:schema";
const as = async (install = newInstall(), scope = ALL) => client(server.url, await tokenFor(install, scope));
const schemaPath = (ns: string) => `/v1/namespaces/${ns}/schema`;

const todo = {
  type: "object",
  required: ["title", "done"],
  properties: {
    title: { type: "string", maxLength: 20 },
    done: { type: "boolean" },
    tags: { type: "array", items: { type: "string" } },
  },
  additionalProperties: false,
};

describe("namespace schemas", () => {
  test("put (201, then 200), get with a growing version, delete; versions are never reused", async () => {
    const c = await as();
    expect((await c.call("GET", schemaPath("todos"))).status).toBe(404);
    const first = await c.call("PUT", schemaPath("todos"), { jsonSchema: todo });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      jsonSchema: todo,
      version: expect.any(Number),
      defaultTtlSeconds: null,
      maxValueBytes: null,
    });
    const second = await c.call("PUT", schemaPath("todos"), {
      jsonSchema: todo,
      defaultTtlSeconds: 60,
      maxValueBytes: 1000,
    });
    expect(second.status).toBe(200);
    expect(second.body.version).toBeGreaterThan(first.body.version);
    expect((await c.call("GET", schemaPath("todos"))).body).toEqual(second.body);
    expect((await c.call("DELETE", schemaPath("todos"))).status).toBe(204);
    expect((await c.call("DELETE", schemaPath("todos"))).status).toBe(404);
    expect((await c.call("GET", schemaPath("todos"))).status).toBe(404);
    const third = await c.call("PUT", schemaPath("todos"), { jsonSchema: true });
    expect(third.status).toBe(201);
    expect(third.body.version).toBeGreaterThan(second.body.version);
  });

  test("an invalid schema is a 400 with the compiler's reason", async () => {
    const c = await as();
    for (const jsonSchema of [
      { type: "nonsense" },
      { properties: { a: { minimum: "x" } } },
      { $ref: "https://example.com/s.json" },
    ]) {
      const res = await c.call("PUT", schemaPath("ns"), { jsonSchema });
      expect([res.status, res.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
      expect(res.body.error.message).toContain("JSON Schema");
    }
    for (const body of [
      {},
      { jsonSchema: "x" },
      { jsonSchema: {}, defaultTtlSeconds: 0 },
      { jsonSchema: {}, maxValueBytes: 70_000 },
      { jsonSchema: {}, extra: 1 },
    ]) {
      expect((await c.call("PUT", schemaPath("ns"), body)).status).toBe(400);
    }
    expect((await c.call("GET", schemaPath("ns"))).status).toBe(404);
  });

  test("a schema jsonb cannot hold is a 400, not a 500 (found by the fuzzer)", async () => {
    const c = await as();
    for (const body of [
      '{"jsonSchema": {"a": {"\\u0000": 1}}}',
      '{"jsonSchema": {"description": "a\\u0000b"}}',
      '{"jsonSchema": {"description": "\\ud800"}}',
      '{"jsonSchema": {"maximum": 1e400}}',
    ]) {
      const res = await c.call("PUT", schemaPath("ns"), JSON.parse(body));
      expect([body, res.status, res.body.error.code]).toEqual([body, 400, "INVALID_REQUEST"]);
    }
    expect((await c.call("GET", schemaPath("ns"))).status).toBe(404);
  });

  test("writes are checked: 422 with JSON Pointer paths, bulk items with their index", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.call("PUT", schemaPath("todos"), { jsonSchema: todo });
    expect((await c.put("todos", "t1", { value: { title: "milk", done: false } })).status).toBe(201);
    const bad = await c.put("todos", "t2", { value: { title: 7, done: "no", extra: 1 } });
    expect([bad.status, bad.body.error.code]).toEqual([422, "SCHEMA_VIOLATION"]);
    // the first violation found, not all: collecting every one costs in proportion to the
    // value times the schema (docs/decisions.md, "Fairness between installs")
    expect(bad.body.error.details.errors).toEqual([{ path: expect.any(String), message: expect.any(String) }]);
    const one = await c.put("todos", "t3", { value: { title: 7, done: false } });
    expect(one.body.error.details.errors).toEqual([{ path: "/title", message: expect.any(String) }]);
    const bulk = await c.bulk("todos", "bulk-put", {
      items: [
        { key: "a", value: { title: "ok", done: true } },
        { key: "b", value: { title: "x".repeat(21), done: true } },
        { key: "c", value: [] },
      ],
    });
    expect(bulk.status).toBe(422);
    expect(bulk.body.error.details.errors).toEqual([
      { index: 1, path: "/title", message: expect.any(String) },
      { index: 2, path: "", message: expect.any(String) },
    ]);
    expect(await storedRows(install.installId)).toBe(1);
    // other namespaces are free
    expect((await c.put("free", "x", { value: 1 })).status).toBe(201);
  });

  test("the default TTL and maxValueBytes of a namespace apply", async () => {
    const c = await as();
    await c.call("PUT", schemaPath("cache"), { jsonSchema: {}, defaultTtlSeconds: 300, maxValueBytes: 20 });
    const put = await c.put("cache", "k", { value: "x".repeat(18) }); // 20 bytes of JSON
    expect(put.status).toBe(201);
    const ttl = Date.parse(put.body.expiresAt) - Date.parse(put.body.updatedAt);
    expect(ttl).toBeGreaterThan(299_000);
    expect(ttl).toBeLessThan(301_000);
    expect((await c.put("cache", "k2", { value: 1, ttlSeconds: 10 })).body.expiresAt).toEqual(expect.any(String));
    const big = await c.put("cache", "k3", { value: "x".repeat(19) });
    expect([big.status, big.body.error.code, big.body.error.details]).toEqual([
      413,
      "VALUE_TOO_LARGE",
      { key: "k3", limit: 20, size: 21 },
    ]);
    const bulk = await c.bulk("cache", "bulk-put", {
      items: [
        { key: "a", value: 1 },
        { key: "b", value: "x".repeat(30) },
      ],
    });
    expect([bulk.status, bulk.body.error.details]).toEqual([
      413,
      { failed: [{ index: 1, key: "b", limit: 20, size: 32, message: expect.any(String) }] },
    ]);
  });

  test("the schema scope is required", async () => {
    const install = newInstall();
    const rw = await as(install, "storage:read storage:write");
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await rw.call(method, schemaPath("ns"), method === "PUT" ? { jsonSchema: {} } : undefined);
      expect([method, res.status, res.body.error.code]).toEqual([method, 403, "FORBIDDEN"]);
    }
    const schemaOnly = await as(install, "storage:schema");
    expect((await schemaOnly.call("PUT", schemaPath("ns"), { jsonSchema: {} })).status).toBe(201);
    expect((await schemaOnly.get("ns", "k")).status).toBe(403);
  });

  test("validators are compiled once per version, at PUT, not per write", async () => {
    const c = await as();
    await c.call("PUT", schemaPath("todos"), { jsonSchema: todo });
    const before = validatorCacheStats();
    for (let i = 0; i < 5; i++) await c.put("todos", `k${i}`, { value: { title: `t${i}`, done: false } });
    const after = validatorCacheStats();
    expect(after.compiles - before.compiles).toBe(0);
    expect(after.hits - before.hits).toBe(5);
  });

  test("a schema change racing writes: no write that starts after the change slips through under the old version", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.call("PUT", schemaPath("race"), { jsonSchema: { type: "number" } });
    let changed = false;
    let stop = false;
    const slipped: number[] = [];
    const writer = async (w: number) => {
      for (let i = 0; i < 200 && !stop; i++) {
        const startedAfterChange = changed;
        const res = await c.put("race", `w${w}`, { value: i });
        if (startedAfterChange && res.status !== 422) slipped.push(res.status);
        if (!startedAfterChange && ![200, 201, 422].includes(res.status)) slipped.push(res.status);
      }
    };
    const writers = Array.from({ length: 6 }, (_, w) => writer(w));
    await Bun.sleep(50);
    const change = await c.call("PUT", schemaPath("race"), { jsonSchema: { type: "string" } });
    expect(change.status).toBe(200);
    changed = true;
    await Bun.sleep(100);
    stop = true;
    await Promise.all(writers);
    expect(slipped).toEqual([]);
    expect((await c.put("race", "late", { value: 1 })).status).toBe(422);
    expect((await c.put("race", "late", { value: "s" })).status).toBe(201);
  });
});
