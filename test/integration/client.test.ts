// The client package (packages/client) against a real server on the test database: every call
// of its surface, its errors, and what it sends (an Idempotency-Key on every write).
import "../helpers/test-database.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { StorageError } from "../../packages/client/src/index.ts";
import { clientFor, recordingFetch, type Sent } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const server: TestServer = await startServer();
// a second server whose answers hold at most ~200 bytes of records: bulk-get leaves keys
// unprocessed and the client asks for them again
const small: TestServer = await startServer({ STORAGE_MAX_PAGE_BYTES: "200" });
afterAll(() => Promise.all([server.close(), small.close()]));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("records", () => {
  test("put then get: the value, its revision and timestamps as Date; absent is null", async () => {
    const { client } = await clientFor(server.url);
    const settings = client.ns<{ mode: string }>("settings");
    expect(await settings.get("theme")).toBeNull();
    const written = await settings.put("theme", { mode: "dark" }, { ttlSeconds: 3600 });
    expect(written.created).toBe(true);
    expect(written.createdAt).toBeInstanceOf(Date);
    expect(written.expiresAt).toBeInstanceOf(Date);
    const ahead = (written.expiresAt as Date).getTime() - Date.now();
    expect(ahead).toBeGreaterThan(3500_000);
    expect(ahead).toBeLessThan(3700_000);
    const record = await settings.get("theme");
    expect(record?.value).toEqual({ mode: "dark" });
    expect(record?.revision).toBe(written.revision);
    expect(record?.updatedAt).toBeInstanceOf(Date);
    const replaced = await settings.put("theme", { mode: "light" });
    expect([replaced.created, replaced.revision > written.revision, replaced.expiresAt]).toEqual([false, true, null]);
  });

  test("keys of every kind round-trip as one path segment", async () => {
    const { client } = await clientFor(server.url);
    const ns = client.ns("odd");
    const keys = ["user/42/avatar", "100%", "a_b\\c", "with space", "...", "é漢字🙂", "?#&="];
    for (const key of keys) await ns.put(key, key);
    for (const key of keys) expect((await ns.get(key))?.value).toBe(key);
    const listed: string[] = [];
    for await (const record of ns.list({ values: false })) listed.push(record.key);
    expect(listed.sort()).toEqual([...keys].sort());
  });

  test("expiresAt as a Date or a string", async () => {
    const { client } = await clientFor(server.url);
    const ns = client.ns("ttl");
    const at = new Date(Date.now() + 600_000);
    expect((await ns.put("a", 1, { expiresAt: at })).expiresAt?.getTime()).toBe(at.getTime());
    expect((await ns.put("b", 1, { expiresAt: at.toISOString() })).expiresAt?.getTime()).toBe(at.getTime());
  });

  test("ifRevision and ifAbsent: a stale write is a REVISION_MISMATCH with the current revision", async () => {
    const { client } = await clientFor(server.url);
    const ns = client.ns("occ");
    const first = await ns.put("doc", { n: 1 }, { ifAbsent: true });
    const again = await ns.put("doc", { n: 2 }, { ifAbsent: true }).catch((e) => e);
    expect(again).toBeInstanceOf(StorageError);
    expect([again.status, again.code, again.details]).toEqual([
      412,
      "REVISION_MISMATCH",
      { currentRevision: first.revision },
    ]);
    expect(again.requestId).toMatch(/./);
    expect(again.message).toMatch(/./);
    const second = await ns.put("doc", { n: 2 }, { ifRevision: first.revision });
    const stale = await ns.put("doc", { n: 3 }, { ifRevision: first.revision }).catch((e) => e);
    expect(stale.is("REVISION_MISMATCH") && stale.details).toEqual({ currentRevision: second.revision });
    expect(await ns.delete("doc", { ifRevision: first.revision }).catch((e) => e.code)).toBe("REVISION_MISMATCH");
    expect(await ns.delete("doc", { ifRevision: second.revision })).toBe(true);
    expect(await ns.delete("doc")).toBe(false);
  });

  test("list walks every page, with a prefix, with and without values", async () => {
    const { client } = await clientFor(server.url);
    const ns = client.ns("walk");
    await ns.bulkPut(Array.from({ length: 7 }, (_, i) => ({ key: `item/${i}`, value: { i } })));
    await ns.put("other", 0);
    const all = [];
    for await (const record of ns.list({ prefix: "item/", pageSize: 3 })) all.push(record);
    expect(all.map((r) => r.key)).toEqual(Array.from({ length: 7 }, (_, i) => `item/${i}`));
    expect(all.map((r) => r.value)).toEqual(Array.from({ length: 7 }, (_, i) => ({ i })));
    expect(all[0]?.createdAt).toBeInstanceOf(Date);
    const pages = [];
    for await (const page of ns.list({ pageSize: 3, values: false }).pages()) pages.push(page);
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 2]);
    expect(pages.at(-1)?.cursor).toBeNull();
    expect(pages.flatMap((p) => p.items).some((item) => "value" in item)).toBe(false);
    // a walk can go on from a page's cursor
    const rest = [];
    for await (const record of ns.list({ pageSize: 3, cursor: pages[0]?.cursor as string })) rest.push(record.key);
    expect(rest).toEqual(["item/3", "item/4", "item/5", "item/6", "other"]);
  });

  test("bulk: put, get (following unprocessed keys), delete by keys and by revisions", async () => {
    const { client } = await clientFor(small.url);
    const ns = client.ns("bulk");
    const value = "x".repeat(60);
    const put = await ns.bulkPut(Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value, ttlSeconds: 600 })));
    expect(put.map((p) => [p.key, p.created])).toEqual(Array.from({ length: 6 }, (_, i) => [`k${i}`, true]));
    expect(put[0]?.expiresAt).toBeInstanceOf(Date);
    const got = await ns.bulkGet(["k0", "k1", "nope", "k2", "k3", "k4", "k5"]);
    expect(got.items.map((r) => r.key).sort()).toEqual(["k0", "k1", "k2", "k3", "k4", "k5"]);
    expect(got.items.every((r) => r.value === value && r.updatedAt instanceof Date)).toBe(true);
    expect(got.missing).toEqual(["nope"]);
    const failed = await ns
      .bulkDelete([
        { key: "k0", ifRevision: put[0]?.revision },
        { key: "k1", ifRevision: 1 },
      ])
      .catch((e) => e);
    expect(failed.code).toBe("REVISION_MISMATCH");
    expect(failed.details.failed.map((f: { index: number }) => f.index)).toEqual([1]);
    expect(await ns.bulkDelete([{ key: "k0", ifRevision: put[0]?.revision }])).toBe(1);
    expect(await ns.bulkDelete(["k1", "k2", "gone"])).toBe(2);
    expect(await ns.clear()).toBe(3);
    expect(await ns.clear()).toBe(0);
  });

  test("bulkGet asks again for the keys a small answer left out", async () => {
    const sent: Sent[] = [];
    const { client } = await clientFor(small.url, { fetch: recordingFetch(sent) });
    const ns = client.ns("pages");
    await ns.bulkPut(Array.from({ length: 5 }, (_, i) => ({ key: `p${i}`, value: "y".repeat(80) })));
    sent.length = 0;
    const got = await ns.bulkGet(["p0", "p1", "p2", "p3", "p4"]);
    expect(got.items.map((r) => r.key).sort()).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.every((s) => s.url.endsWith("/bulk-get"))).toBe(true);
  });
});

describe("install", () => {
  test("usage and namespaces", async () => {
    const { client } = await clientFor(server.url);
    await client.ns("a").put("k", { hello: "world" });
    await client.ns("b").bulkPut([
      { key: "x", value: 1 },
      { key: "y", value: 2 },
    ]);
    const usage = await client.usage();
    expect(usage.recordCount).toBe(3);
    expect(usage.bytesUsed).toBeGreaterThan(0);
    expect(usage.limits.maxRecords).toBeGreaterThan(0);
    const namespaces = await client.namespaces();
    expect(namespaces.map((n) => [n.namespace, n.recordCount])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });

  test("schema: get (null when none), put (created, then replaced), a value against it, delete", async () => {
    const { client } = await clientFor(server.url);
    const todos = client.ns("todos");
    expect(await todos.schema.get()).toBeNull();
    const body = { jsonSchema: { type: "object", required: ["title"] }, defaultTtlSeconds: 86_400 };
    const first = await todos.schema.put(body);
    expect([first.created, first.defaultTtlSeconds]).toEqual([true, 86_400]);
    const second = await todos.schema.put({ jsonSchema: { type: "object", required: ["title"] } });
    expect([second.created, second.version > first.version]).toEqual([false, true]);
    expect((await todos.schema.get())?.version).toBe(second.version);
    const refused = await todos.put("t", { done: true }).catch((e) => e);
    expect([refused.status, refused.code]).toEqual([422, "SCHEMA_VIOLATION"]);
    expect(refused.details.errors.length).toBeGreaterThan(0);
    expect(await todos.schema.delete()).toBe(true);
    expect(await todos.schema.delete()).toBe(false);
    expect((await todos.put("t", { done: true })).created).toBe(true);
  });

  test("errors carry the contract's code, status, message and the answer's request id", async () => {
    const { client } = await clientFor(server.url);
    const bad = await client
      .ns("bad name!")
      .get("k")
      .catch((e) => e);
    expect(bad).toBeInstanceOf(StorageError);
    expect(bad).toBeInstanceOf(Error);
    expect([bad.name, bad.status, bad.code]).toEqual(["StorageError", 400, "INVALID_NAMESPACE"]);
    expect(bad.requestId).toMatch(/^[A-Za-z0-9._:-]+$/);
    const big = await client
      .ns("n")
      .put("k", "x".repeat(70_000))
      .catch((e) => e);
    expect([big.status, big.code]).toEqual([413, "VALUE_TOO_LARGE"]);
  });
});

describe("what the client sends", () => {
  test("every write carries an Idempotency-Key, a fresh UUID per call; reads carry none", async () => {
    const sent: Sent[] = [];
    const { client } = await clientFor(server.url, { fetch: recordingFetch(sent) });
    const ns = client.ns("keys");
    await ns.put("a", 1);
    await ns.put("a", 2, { idempotencyKey: "mine-1" });
    await ns.get("a");
    await ns.bulkPut([{ key: "b", value: 1 }]);
    await ns.bulkGet(["a", "b"]);
    await ns.bulkDelete(["b"]);
    for await (const _ of ns.list()) break;
    await ns.delete("a");
    await ns.clear();
    await client.usage();
    const keyed = sent.map(
      (s) => `${s.method} ${new URL(s.url).pathname.split("/").at(-1)} ${s.headers["idempotency-key"] ?? "-"}`,
    );
    const writes = sent.filter((s) => s.method !== "GET" && !s.url.endsWith("/bulk-get"));
    expect(writes.length).toBe(6);
    for (const write of writes)
      expect(write.headers["idempotency-key"]).toMatch(write.body?.includes('"value":2') ? /^mine-1$/ : UUID);
    expect(new Set(writes.map((w) => w.headers["idempotency-key"])).size).toBe(6);
    expect(
      keyed.filter((line) => line.startsWith("GET") || line.includes("bulk-get")).every((l) => l.endsWith(" -")),
    ).toBe(true);
  });

  test("a token provider is asked once, and again once after a 401", async () => {
    const { install, token } = await clientFor(server.url);
    const { tokenFor } = await import("../helpers/server.ts");
    const wrong = await tokenFor(install, "storage:read", { secret: "another-secret-0123456789-abcdefghijkl" });
    const { StorageClient } = await import("../../packages/client/src/index.ts");
    const handed: string[] = [];
    const tokens = [wrong, token];
    const client = new StorageClient({
      baseUrl: server.url,
      token: async () => {
        const next = tokens.shift() ?? wrong;
        handed.push(next === token ? "good" : "wrong");
        return next;
      },
    });
    expect(await client.ns("t").get("k")).toBeNull(); // 401 with the first, then the fresh one
    expect(await client.ns("t").get("k")).toBeNull(); // the fresh one is kept
    expect(handed).toEqual(["wrong", "good"]);
    // a provider whose fresh token fails too: the 401 is the caller's
    const denied = new StorageClient({ baseUrl: server.url, token: async () => wrong });
    const error = await denied
      .ns("t")
      .get("k")
      .catch((e) => e);
    expect([error.status, error.code]).toEqual([401, "UNAUTHENTICATED"]);
    // a fixed token is never asked again
    const fixed = await new StorageClient({ baseUrl: server.url, token: wrong }).usage().catch((e) => e.status);
    expect(fixed).toBe(401);
  });
});
