// A failed bulk request names every failing item by index (spec section 5), for every kind
// of fault, while the contract's order between statuses decides which status answers.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { storedRows } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) =>
  client(server.url, await tokenFor(install, "storage:read storage:write storage:schema"));

type Failed = { index: number; key?: string };
const indexes = (res: { body: { error: { details: { failed?: Failed[] } } } }) =>
  res.body.error.details.failed?.map((f) => f.index);
const nest = (depth: number): unknown => (depth === 0 ? 1 : [nest(depth - 1)]);
const soon = () => new Date(Date.now() + 3_600_000).toISOString();

describe("bulk-put", () => {
  test("repeated keys: every repeat is named", async () => {
    const install = newInstall();
    const c = await as(install);
    const res = await c.bulk("ns", "bulk-put", { items: ["p", "p", "q", "q"].map((key) => ({ key, value: 1 })) });
    expect([res.status, res.body.error.code, indexes(res)]).toEqual([400, "INVALID_REQUEST", [1, 3]]);
    expect(res.body.error.details.failed[1]).toEqual({
      index: 3,
      key: "q",
      code: "INVALID_REQUEST",
      message: expect.stringContaining("item 2"),
    });
    expect(await storedRows(install.installId)).toBe(0);
  });

  test("invalid keys: every one is named, INVALID_KEY", async () => {
    const c = await as();
    const res = await c.bulk("ns", "bulk-put", {
      items: [".", "ok", "a\u0001b", "fine", ""].map((key) => ({ key, value: 1 })),
    });
    expect([res.status, res.body.error.code, indexes(res)]).toEqual([400, "INVALID_KEY", [0, 2, 4]]);
    expect(res.body.error.details.failed[0]).toEqual({
      index: 0,
      key: ".",
      code: "INVALID_KEY",
      message: expect.any(String),
    });
  });

  test("every kind of invalid item at once, schema faults and the service's own", async () => {
    const install = newInstall();
    const c = await as(install);
    const res = await c.bulk("ns", "bulk-put", {
      items: [
        { key: "a", value: 1, ttlSeconds: 0 },
        { key: "b", value: 1, expiresAt: "2027-02-30T00:00:00Z" },
        { key: "c", value: 1, ifRevision: 3, ifAbsent: true },
        { key: "b", value: 1 },
        { key: "d", value: nest(33) },
        { key: "..", value: 1 },
        { key: "fine", value: 1 },
        { key: "e", value: 1, ttlSeconds: 10, expiresAt: soon() },
        { key: "f", value: "x".repeat(70_000) },
        { key: "g", value: 1, extra: true },
        { key: 7, value: 1 },
        { key: "h" },
        { key: "i", value: "a\u0000b" },
        { key: "j", value: 1, expiresAt: "yesterday" },
        { key: "k", value: 1, ifRevision: 0 },
      ],
    });
    expect([res.status, res.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    expect(indexes(res)).toEqual([0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14]);
    const failed = res.body.error.details.failed as Array<Failed & { message: string }>;
    expect(failed.find((f) => f.index === 0)?.message).toContain("ttlSeconds");
    expect(failed.find((f) => f.index === 1)?.message).toContain("expiresAt");
    expect(failed.find((f) => f.index === 10)?.key).toBeUndefined();
    expect(res.body.error.message).toContain("item 0");
    expect(await storedRows(install.installId)).toBe(0);
  });

  test("a repeat of an item the body check already refused is named too", async () => {
    const c = await as();
    const res = await c.bulk("ns", "bulk-put", {
      items: [
        { key: "a", value: 1, ttlSeconds: 0 },
        { key: "a", value: 1 },
      ],
    });
    expect([res.status, indexes(res)]).toEqual([400, [0, 1]]);
  });

  test("values over the service's limit: every one is named, with the namespace's own limit too", async () => {
    const c = await as();
    const big = "x".repeat(70_000);
    const res = await c.bulk("ns", "bulk-put", {
      items: [
        { key: "a", value: 1 },
        { key: "b", value: big },
        { key: "c", value: 2 },
        { key: "d", value: big },
      ],
    });
    expect([res.status, res.body.error.code, indexes(res)]).toEqual([413, "VALUE_TOO_LARGE", [1, 3]]);
    expect(res.body.error.details.failed[0]).toEqual({
      index: 1,
      key: "b",
      limit: 65_536,
      size: 70_002,
      message: expect.any(String),
    });

    await c.call("PUT", "/v1/namespaces/small/schema", { jsonSchema: {}, maxValueBytes: 20 });
    const mixed = await c.bulk("small", "bulk-put", {
      items: [
        { key: "a", value: "x".repeat(30) },
        { key: "b", value: 1 },
        { key: "c", value: big },
      ],
    });
    expect([mixed.status, indexes(mixed)]).toEqual([413, [0, 2]]);
    expect(mixed.body.error.details.failed.map((f: { limit: number }) => f.limit)).toEqual([20, 20]);
    const lowered = await c.bulk("small", "bulk-put", {
      items: [
        { key: "a", value: "x".repeat(30) },
        { key: "b", value: 1 },
        { key: "c", value: "y".repeat(30) },
      ],
    });
    expect([lowered.status, indexes(lowered)]).toEqual([413, [0, 2]]);
  });

  test("schema violations and failed preconditions of every item", async () => {
    const c = await as();
    await c.call("PUT", "/v1/namespaces/typed/schema", { jsonSchema: { type: "string" } });
    const typed = await c.bulk("typed", "bulk-put", {
      items: [
        { key: "a", value: 1 },
        { key: "b", value: "ok" },
        { key: "c", value: 2 },
      ],
    });
    expect([typed.status, typed.body.error.details.errors.map((e: { index: number }) => e.index)]).toEqual([
      422,
      [0, 2],
    ]);
    await c.bulk("ns", "bulk-put", { items: ["a", "c"].map((key) => ({ key, value: 1 })) });
    const taken = await c.bulk("ns", "bulk-put", {
      items: ["a", "b", "c"].map((key) => ({ key, value: 2, ifAbsent: true as const })),
    });
    expect([taken.status, indexes(taken)]).toEqual([412, [0, 2]]);
  });

  test("the order between statuses still decides: 400 over 413 over 422 over 412", async () => {
    const c = await as();
    await c.call("PUT", "/v1/namespaces/typed/schema", { jsonSchema: { type: "string" }, maxValueBytes: 20 });
    await c.put("typed", "taken", { value: "v" });
    const items = [
      { key: "taken", value: "x", ifAbsent: true as const },
      { key: "n", value: 5 },
      { key: "big", value: "x".repeat(30) },
      { key: "bad", value: 1, expiresAt: "2027-04-31T00:00:00Z" },
    ];
    const r400 = await c.bulk("typed", "bulk-put", { items });
    expect([r400.status, indexes(r400)]).toEqual([400, [3]]);
    const r413 = await c.bulk("typed", "bulk-put", { items: items.slice(0, 3) });
    expect([r413.status, indexes(r413)]).toEqual([413, [2]]);
    const r422 = await c.bulk("typed", "bulk-put", { items: items.slice(0, 2) });
    expect(r422.status).toBe(422);
    const r412 = await c.bulk("typed", "bulk-put", { items: items.slice(0, 1) });
    expect([r412.status, indexes(r412)]).toEqual([412, [0]]);
  });
});

describe("bulk-get and bulk-delete", () => {
  test("bulk-get names every invalid, repeated or mistyped key", async () => {
    const c = await as();
    const dup = await c.bulk("ns", "bulk-get", { keys: ["p", "p", "q", "q"] });
    expect([dup.status, indexes(dup)]).toEqual([400, [1, 3]]);
    const bad = await c.bulk("ns", "bulk-get", { keys: [".", "ok", "a\u007f"] });
    expect([bad.status, bad.body.error.code, indexes(bad)]).toEqual([400, "INVALID_KEY", [0, 2]]);
    const typed = await c.bulk("ns", "bulk-get", { keys: [1, "ok", "ok", null] });
    expect([typed.status, typed.body.error.code, indexes(typed)]).toEqual([400, "INVALID_REQUEST", [0, 2, 3]]);
  });

  test("bulk-delete names every failing key or item, in either form", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.bulk("ns", "bulk-put", { items: ["a", "b", "c"].map((key) => ({ key, value: 1 })) });
    const keys = await c.bulk("ns", "bulk-delete", { keys: ["a", "..", "a", "b", "b"] });
    expect([keys.status, indexes(keys)]).toEqual([400, [1, 2, 4]]);
    const items = await c.bulk("ns", "bulk-delete", {
      items: [{ key: "a", ifRevision: 0 }, { key: "b" }, { key: "." }, { key: "c", extra: 1 }, { key: "b" }],
    });
    expect([items.status, indexes(items)]).toEqual([400, [0, 2, 3, 4]]);
    const stale = await c.bulk("ns", "bulk-delete", {
      items: [{ key: "a", ifRevision: 999_999 }, { key: "b" }, { key: "c", ifRevision: 999_998 }],
    });
    expect([stale.status, indexes(stale)]).toEqual([412, [0, 2]]);
    expect(await storedRows(install.installId)).toBe(3);
  });
});
