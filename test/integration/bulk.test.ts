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

describe("bulk-get", () => {
  test("returns found records in request order and names the missing ones", async () => {
    const c = await as();
    await c.bulk("ns", "bulk-put", { items: ["a", "b", "c"].map((key) => ({ key, value: key.toUpperCase() })) });
    const res = await c.bulk("ns", "bulk-get", { keys: ["c", "x", "a", "y"] });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { key: string; value: string }) => [i.key, i.value])).toEqual([
      ["c", "C"],
      ["a", "A"],
    ]);
    expect(res.body.missing).toEqual(["x", "y"]);
    expect(res.body.items[0]).toEqual({
      key: "c",
      value: "C",
      revision: expect.any(Number),
      expiresAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  test("limits and bad keys", async () => {
    const c = await as();
    expect((await c.bulk("ns", "bulk-get", { keys: [] })).status).toBe(400);
    expect((await c.bulk("ns", "bulk-get", { keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) })).status).toBe(
      400,
    );
    expect((await c.bulk("ns", "bulk-get", { keys: Array.from({ length: 1000 }, (_, i) => `k${i}`) })).status).toBe(
      200,
    );
    const dup = await c.bulk("ns", "bulk-get", { keys: ["a", "b", "a"] });
    expect([dup.status, dup.body.error.code, dup.body.error.details]).toEqual([
      400,
      "INVALID_REQUEST",
      { failed: [{ index: 2, key: "a", code: "INVALID_REQUEST", message: expect.stringContaining("item 0") }] },
    ]);
    for (const key of [".", "..", "", "a\u0000"]) {
      const res = await c.bulk("ns", "bulk-get", { keys: ["ok", key] });
      expect([key, res.status, res.body.error.code]).toEqual([key, 400, "INVALID_KEY"]);
      expect(res.body.error.details).toEqual({
        failed: [{ index: 1, key, code: "INVALID_KEY", message: expect.any(String) }],
      });
    }
  });
});

describe("bulk-put", () => {
  test("values of more than 256 KiB go in several statements of one transaction: all written, usage exact", async () => {
    const install = newInstall();
    const c = await as(install);
    const value = (i: number) => ({ i, text: `${i}`.padEnd(40_000, "z") });
    // 30 values of 40 KB: five statements of at most 256 KiB of values
    const items = Array.from({ length: 30 }, (_, i) => ({ key: `k${String(i).padStart(2, "0")}`, value: value(i) }));
    const put = await c.bulk("ns", "bulk-put", { items });
    expect(put.status).toBe(200);
    expect(new Set(put.body.items.map((i: { revision: number }) => i.revision)).size).toBe(30);
    expect(put.body.items.map((i: { key: string }) => i.key)).toEqual(items.map((i) => i.key));
    const got = await c.bulk("ns", "bulk-get", { keys: items.map((i) => i.key) });
    expect(got.body.items.map((r: { value: unknown }) => r.value)).toEqual(items.map((i) => i.value));
    expect(await storedRows(install.installId, "ns")).toBe(30);
    await expectUsageExact(install.installId, expect);
    // over the install's record quota: refused whole, nothing of any statement written
    const more = Array.from({ length: 30 }, (_, i) => ({ key: `m${i}`, value: value(i) }));
    const quiet = await startServer({ STORAGE_QUOTA_RECORDS: "40" });
    try {
      const q = client(quiet.url, await tokenFor(install));
      expect((await q.bulk("ns", "bulk-put", { items: more })).status).toBe(403);
    } finally {
      await quiet.close();
    }
    expect(await storedRows(install.installId, "ns")).toBe(30);
    await expectUsageExact(install.installId, expect);
  });

  test("writes all, reporting created and revisions in request order", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.put("ns", "b", { value: "old" });
    const res = await c.bulk("ns", "bulk-put", {
      items: [
        { key: "a", value: 1 },
        { key: "b", value: 2 },
        { key: "c", value: 3, ttlSeconds: 600 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { key: string; created: boolean }) => [i.key, i.created])).toEqual([
      ["a", true],
      ["b", false],
      ["c", true],
    ]);
    const revisions = res.body.items.map((i: { revision: number }) => i.revision);
    expect(new Set(revisions).size).toBe(3);
    expect(res.body.items[0].expiresAt).toBeNull();
    expect(Date.parse(res.body.items[2].expiresAt)).toBeGreaterThan(Date.now() + 590_000);
    expect((await c.get("ns", "b")).body.value).toBe(2);
    await expectUsageExact(install.installId, expect);
  });

  test("one failed precondition writes nothing and names every failing item", async () => {
    const install = newInstall();
    const c = await as(install);
    const a = await c.put("ns", "a", { value: "a0" });
    await c.put("ns", "b", { value: "b0" });
    const before = await storedRows(install.installId);
    const res = await c.bulk("ns", "bulk-put", {
      items: [
        { key: "a", value: "a1", ifRevision: a.body.revision },
        { key: "b", value: "b1", ifAbsent: true },
        { key: "new", value: "n1" },
        { key: "gone", value: "g1", ifRevision: 1 },
      ],
    });
    expect(res.status).toBe(412);
    expect(res.body.error.code).toBe("REVISION_MISMATCH");
    expect(res.body.error.details.failed).toEqual([
      { index: 1, key: "b", currentRevision: expect.any(Number) },
      { index: 3, key: "gone", currentRevision: null },
    ]);
    expect((await c.get("ns", "a")).body.value).toBe("a0");
    expect((await c.get("ns", "new")).status).toBe(404);
    expect(await storedRows(install.installId)).toBe(before);
    await expectUsageExact(install.installId, expect);
  });

  test("one invalid item writes nothing", async () => {
    const install = newInstall();
    const c = await as(install);
    const cases: Array<[unknown, number, string]> = [
      [
        [
          { key: "a", value: 1 },
          { key: "..", value: 2 },
        ],
        400,
        "INVALID_KEY",
      ],
      [
        [
          { key: "a", value: 1 },
          { key: "a", value: 2 },
        ],
        400,
        "INVALID_REQUEST",
      ],
      [[{ key: "a", value: 1 }, { key: "b" }], 400, "INVALID_REQUEST"],
      [
        [
          { key: "a", value: 1 },
          { key: "b", value: 2, extra: true },
        ],
        400,
        "INVALID_REQUEST",
      ],
      [
        [
          { key: "a", value: 1 },
          { key: "b", value: 2, ttlSeconds: 0 },
        ],
        400,
        "INVALID_REQUEST",
      ],
      [
        [
          { key: "a", value: 1 },
          { key: "b", value: 2, ifRevision: 3, ifAbsent: true },
        ],
        400,
        "INVALID_REQUEST",
      ],
      [
        [
          { key: "a", value: 1 },
          { key: "b", value: "x".repeat(70_000) },
        ],
        413,
        "VALUE_TOO_LARGE",
      ],
    ];
    for (const [items, status, code] of cases) {
      const res = await c.bulk("ns", "bulk-put", { items });
      expect([status, code]).toEqual([res.status, res.body.error.code]);
    }
    expect(await storedRows(install.installId)).toBe(0);
    expect((await c.bulk("ns", "bulk-put", { items: [] })).status).toBe(400);
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ key: `k${i}`, value: i }));
    expect((await c.bulk("ns", "bulk-put", { items: tooMany })).status).toBe(400);
    expect((await c.bulk("ns", "bulk-put", { items: tooMany.slice(0, 500) })).status).toBe(200);
    await expectUsageExact(install.installId, expect);
  });
});

describe("bulk-delete", () => {
  test("by keys: deletes the live ones and counts them; absent keys are no error", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.bulk("ns", "bulk-put", { items: ["a", "b", "c"].map((key) => ({ key, value: 1 })) });
    const res = await c.bulk("ns", "bulk-delete", { keys: ["a", "c", "zz"] });
    expect([res.status, res.body]).toEqual([200, { deleted: 2 }]);
    expect((await c.bulk("ns", "bulk-get", { keys: ["a", "b", "c"] })).body.missing).toEqual(["a", "c"]);
    await expectUsageExact(install.installId, expect);
  });

  test("by items with ifRevision: all or nothing", async () => {
    const install = newInstall();
    const c = await as(install);
    const put = await c.bulk("ns", "bulk-put", { items: ["a", "b"].map((key) => ({ key, value: 1 })) });
    const [ra, rb] = put.body.items.map((i: { revision: number }) => i.revision);
    const failed = await c.bulk("ns", "bulk-delete", {
      items: [
        { key: "a", ifRevision: ra },
        { key: "b", ifRevision: rb + 100 },
        { key: "none", ifRevision: 1 },
      ],
    });
    expect(failed.status).toBe(412);
    expect(failed.body.error.details.failed).toEqual([
      { index: 1, key: "b", currentRevision: rb },
      { index: 2, key: "none", currentRevision: null },
    ]);
    expect(await storedRows(install.installId)).toBe(2);
    const ok = await c.bulk("ns", "bulk-delete", { items: [{ key: "a", ifRevision: ra }, { key: "b" }] });
    expect(ok.body).toEqual({ deleted: 2 });
    expect(await storedRows(install.installId)).toBe(0);
    await expectUsageExact(install.installId, expect);
  });

  test("bad bodies", async () => {
    const c = await as();
    for (const body of [
      {},
      { keys: [] },
      { keys: ["a"], items: [{ key: "a" }] },
      { items: [{ key: "a", ifRevision: 0 }] },
      { keys: ["a", "a"] },
    ]) {
      const res = await c.bulk("ns", "bulk-delete", body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
    }
  });
});
