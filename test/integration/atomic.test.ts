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

describe("POST /v1/atomic", () => {
  test("checks and ops over several namespaces, one shared revision, items in ops order", async () => {
    const install = newInstall();
    const c = await as(install);
    const k1 = await c.put("a", "k1", { value: { done: false, n: 1 } });
    await c.put("b", "x", { value: 1 });
    const res = await c.atomic({
      checks: [
        { namespace: "a", key: "k1", revision: k1.body.revision },
        { namespace: "a", key: "k2", revision: null },
      ],
      ops: [
        { op: "set", namespace: "a", key: "k2", value: { v: 1 }, ttlSeconds: 600 },
        { op: "delete", namespace: "b", key: "x" },
        { op: "increment", namespace: "c", key: "hits", path: "/daily/mon", by: 2 },
        { op: "merge", namespace: "a", key: "k1", patch: { done: true } },
        { op: "delete", namespace: "b", key: "never" },
      ],
    });
    expect(res.status).toBe(200);
    const revision = res.body.items[0].revision;
    expect(revision).toBeGreaterThan(k1.body.revision);
    expect(res.body.items).toEqual([
      { namespace: "a", key: "k2", revision, created: true, deleted: false },
      { namespace: "b", key: "x", revision, created: false, deleted: true },
      { namespace: "c", key: "hits", revision, created: true, deleted: false },
      { namespace: "a", key: "k1", revision, created: false, deleted: false },
      { namespace: "b", key: "never", revision: null, created: false, deleted: false },
    ]);
    expect((await c.get("c", "hits")).body.value).toEqual({ daily: { mon: 2 } });
    expect((await c.get("a", "k1")).body.value).toEqual({ done: true, n: 1 });
    expect((await c.get("a", "k2")).body.expiresAt).not.toBeNull();
    expect((await c.get("b", "x")).status).toBe(404);
    const again = await c.atomic({
      ops: [{ op: "increment", namespace: "c", key: "hits", path: "/daily/mon", by: 0.5 }],
    });
    expect(again.status).toBe(200);
    expect((await c.get("c", "hits")).body.value).toEqual({ daily: { mon: 2.5 } });
    const whole = await c.atomic({ ops: [{ op: "increment", namespace: "c", key: "n", by: 3 }] });
    expect(whole.body.items[0].created).toBe(true);
    expect((await c.get("c", "n")).body.value).toBe(3);
    const merged = await c.atomic({ ops: [{ op: "merge", namespace: "c", key: "m", patch: { a: 1, b: null } }] });
    expect(merged.status).toBe(200);
    expect((await c.get("c", "m")).body.value).toEqual({ a: 1 });
    await expectUsageExact(install.installId, expect);
  });

  test("a failing check writes nothing and names every failing check (412)", async () => {
    const install = newInstall();
    const c = await as(install);
    const k = await c.put("a", "k", { value: 1 });
    const res = await c.atomic({
      checks: [
        { namespace: "a", key: "k", revision: k.body.revision + 5 },
        { namespace: "a", key: "k", revision: k.body.revision },
        { namespace: "a", key: "k", revision: null },
      ],
      ops: [{ op: "set", namespace: "a", key: "new", value: 1 }],
    });
    expect([res.status, res.body.error.code]).toEqual([412, "REVISION_MISMATCH"]);
    expect(res.body.error.details.failed).toEqual([
      { in: "checks", index: 0, namespace: "a", key: "k", currentRevision: k.body.revision },
      { in: "checks", index: 2, namespace: "a", key: "k", currentRevision: k.body.revision },
    ]);
    expect((await c.get("a", "new")).status).toBe(404);
  });

  test("increment of a non-number or through a non-object is a 409 naming the op, after 412", async () => {
    const c = await as();
    await c.put("a", "s", { value: { t: "text", arr: [1] } });
    const res = await c.atomic({
      ops: [
        { op: "set", namespace: "a", key: "other", value: 1 },
        { op: "increment", namespace: "a", key: "s2", by: 1 },
      ],
    });
    expect(res.status).toBe(200);
    const conflict = await c.atomic({
      ops: [
        { op: "increment", namespace: "a", key: "s", path: "/t", by: 1 },
        { op: "set", namespace: "a", key: "z", value: 1 },
        { op: "increment", namespace: "a", key: "other", path: "/x", by: 1 },
      ],
    });
    expect([conflict.status, conflict.body.error.code, conflict.body.error.details.reason]).toEqual([
      409,
      "CONFLICT",
      "operation_conflict",
    ]);
    expect(conflict.body.error.details.failed).toEqual([
      expect.objectContaining({ in: "ops", index: 0, key: "s", reason: "not_a_number" }),
      expect.objectContaining({ in: "ops", index: 2, key: "other", reason: "not_an_object" }),
    ]);
    expect((await c.get("a", "z")).status).toBe(404);
    // 412 wins over 409
    const both = await c.atomic({
      checks: [{ namespace: "a", key: "z", revision: 1 }],
      ops: [{ op: "increment", namespace: "a", key: "s", path: "/t", by: 1 }],
    });
    expect(both.status).toBe(412);
  });

  test("malformed checks and ops are 400s naming every index; duplicates too", async () => {
    const c = await as();
    const res = await c.atomic({
      checks: [
        { namespace: "a", key: "k" },
        { namespace: "a", key: "k", revision: null },
        { namespace: "bad ns", key: "k", revision: 1 },
      ],
      ops: [
        { op: "set", namespace: "a", key: "k", value: 1 },
        { op: "frob", namespace: "a", key: "k" },
        { op: "increment", namespace: "a", key: "j", path: "no-slash", by: 1 },
        { op: "increment", namespace: "a", key: "q", by: "1" },
        { op: "set", namespace: "a", key: "k", value: 2 },
        { op: "set", namespace: "a", key: "t", value: 1, ttlSeconds: 5, expiresAt: "2099-01-01T00:00:00Z" },
        { op: "delete", namespace: "a", key: ".." },
        { op: "merge", namespace: "a", key: "m", patch: { a: "\u0000" } },
        { op: "increment", namespace: "a", key: "p", path: "/a~2", by: 1 },
      ],
    });
    expect([res.status, res.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    const failed = res.body.error.details.failed.map((f: { in: string; index: number }) => `${f.in}:${f.index}`);
    expect(failed).toEqual([
      "checks:0",
      "checks:2",
      "ops:1",
      "ops:2",
      "ops:3",
      "ops:4",
      "ops:5",
      "ops:6",
      "ops:7",
      "ops:8",
    ]);
    expect((await c.atomic({ ops: [] })).status).toBe(400);
    expect((await c.atomic({ ops: [{ op: "delete", namespace: "a", key: "k" }], extra: 1 })).status).toBe(400);
    const many = await c.atomic({
      ops: Array.from({ length: 501 }, (_, i) => ({ op: "delete", namespace: "a", key: `k${i}` })),
    });
    expect(many.status).toBe(400);
    expect((await c.get("a", "k")).status).toBe(404);
  });

  test("schemas, value limits and quotas apply to every written value", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.call("PUT", "/v1/namespaces/typed/schema", {
      jsonSchema: { type: "object", properties: { n: { type: "number" } } },
      maxValueBytes: 50,
    });
    const invalid = await c.atomic({
      ops: [
        { op: "set", namespace: "free", key: "a", value: "ok" },
        { op: "set", namespace: "typed", key: "b", value: { n: "x" } },
        { op: "merge", namespace: "typed", key: "c", patch: { n: "y" } },
      ],
    });
    expect([invalid.status, invalid.body.error.code]).toEqual([422, "SCHEMA_VIOLATION"]);
    expect(invalid.body.error.details.errors.map((e: { index: number }) => e.index)).toEqual([1, 2]);
    const large = await c.atomic({
      ops: [
        { op: "set", namespace: "typed", key: "b", value: { s: "x".repeat(100) } },
        { op: "set", namespace: "typed", key: "ok", value: { n: 1 } },
      ],
    });
    expect([large.status, large.body.error.code, large.body.error.details.failed[0].index]).toEqual([
      413,
      "VALUE_TOO_LARGE",
      0,
    ]);
    const admin = await fetch(
      `${server.url}/admin/v1/tenants/${install.tenantId}/installs/${install.installId}/limits`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${await tokenFor({}, "storage:admin")}`, "content-type": "application/json" },
        body: JSON.stringify({ maxRecords: 2 }),
      },
    );
    expect(admin.status).toBe(200);
    const quota = await c.atomic({
      ops: [1, 2, 3].map((i) => ({ op: "increment", namespace: "free", key: `n${i}`, by: i })),
    });
    expect([quota.status, quota.body.error.code, quota.body.error.details.kind]).toEqual([
      403,
      "QUOTA_EXCEEDED",
      "records",
    ]);
    await expectUsageExact(install.installId, expect);
  });

  test("merge and increment keep a live record's expiry; set takes the namespace default", async () => {
    const c = await as();
    await c.put("a", "k", { value: { n: 1 }, ttlSeconds: 1000 });
    const before = (await c.get("a", "k")).body.expiresAt;
    await c.atomic({ ops: [{ op: "increment", namespace: "a", key: "k", path: "/n", by: 1 }] });
    const after = await c.get("a", "k");
    expect([after.body.value, after.body.expiresAt]).toEqual([{ n: 2 }, before]);
  });

  test("needs the write scope", async () => {
    const install = newInstall();
    const reader = client(server.url, await tokenFor(install, "storage:read"));
    const res = await reader.atomic({ ops: [{ op: "delete", namespace: "a", key: "k" }] });
    expect([res.status, res.body.error.code]).toEqual([403, "FORBIDDEN"]);
  });
});
