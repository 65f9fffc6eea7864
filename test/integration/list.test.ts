import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) => client(server.url, await tokenFor(install));
type Page = { items: Array<{ key: string; value?: unknown; revision: number }>; cursor: string | null };

async function walk(c: Awaited<ReturnType<typeof as>>, ns: string, query: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const q: string = cursor === null ? query : `${query}&cursor=${encodeURIComponent(cursor)}`;
    const res = await c.list(ns, q);
    expect(res.status).toBe(200);
    const page = res.body as Page;
    keys.push(...page.items.map((i) => i.key));
    cursor = page.cursor;
    if (cursor === null) return keys;
  }
  throw new Error("walk did not end");
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe("list", () => {
  test("pages through every key once, in byte order, with values or without", async () => {
    const c = await as();
    const keys = Array.from({ length: 57 }, (_, i) => `k${String(i).padStart(3, "0")}`).concat([
      "Z",
      "a",
      "é",
      "𝄞",
      "~",
    ]);
    const res = await c.bulk("ns", "bulk-put", { items: keys.map((key) => ({ key, value: { key } })) });
    expect(res.status).toBe(200);
    expect(await walk(c, "ns", "limit=10")).toEqual([...keys].sort(byteOrder));

    const first = (await c.list("ns", "limit=3")).body as Page;
    expect(first.items.length).toBe(3);
    expect(first.items[0]).toMatchObject({ key: "Z", value: { key: "Z" } });
    const bare = (await c.list("ns", "limit=3&values=false")).body as Page;
    expect(bare.items.map((i) => i.key)).toEqual(first.items.map((i) => i.key));
    expect(bare.items.every((i) => !("value" in i))).toBe(true);
    expect(Object.keys(bare.items[0] as object).sort()).toEqual([
      "createdAt",
      "expiresAt",
      "key",
      "revision",
      "updatedAt",
    ]);
  });

  test("an exactly full last page ends with a null cursor", async () => {
    const c = await as();
    await c.bulk("ns", "bulk-put", { items: ["a", "b", "c", "d"].map((key) => ({ key, value: 1 })) });
    const p1 = (await c.list("ns", "limit=2")).body as Page;
    const p2 = (await c.list("ns", `limit=2&cursor=${p1.cursor}`)).body as Page;
    expect(p2.items.map((i) => i.key)).toEqual(["c", "d"]);
    expect(p2.cursor).toBeNull();
    expect(((await c.list("ns", "limit=4")).body as Page).cursor).toBeNull();
    expect((await c.list("empty")).body).toEqual({ items: [], cursor: null });
  });

  test("a prefix is literal: % _ \\ match themselves", async () => {
    const c = await as();
    const keys = ["a%b", "axb", "a_b", "a\\b", "a\\\\b", "ab", "b%", "%", "_"];
    await c.bulk("ns", "bulk-put", { items: keys.map((key) => ({ key, value: 1 })) });
    const keysFor = async (prefix: string) => walk(c, "ns", `limit=2&prefix=${encodeURIComponent(prefix)}`);
    expect(await keysFor("a%")).toEqual(["a%b"]);
    expect(await keysFor("a_")).toEqual(["a_b"]);
    expect(await keysFor("a\\")).toEqual(["a\\\\b", "a\\b"]);
    expect(await keysFor("%")).toEqual(["%"]);
    expect(await keysFor("a")).toEqual(["a%b", "a\\\\b", "a\\b", "a_b", "ab", "axb"]);
    expect(await keysFor("zzz")).toEqual([]);
  });

  test("prefixes with multi-byte characters", async () => {
    const c = await as();
    const keys = ["é", "éa", "é𝄞", "ê", "e", "𝄞", "𝄞𝄞", "\u{10ffff}", "\u{10ffff}a"];
    await c.bulk("ns", "bulk-put", { items: keys.map((key) => ({ key, value: 1 })) });
    for (const prefix of ["é", "𝄞", "\u{10ffff}", ""]) {
      const expected = keys.filter((k) => k.startsWith(prefix)).sort(byteOrder);
      expect(await walk(c, "ns", `limit=2&prefix=${encodeURIComponent(prefix)}`)).toEqual(expected);
    }
  });

  test("a cursor is bound to its install, namespace and prefix", async () => {
    const install = newInstall();
    const c = await as(install);
    await c.bulk("ns", "bulk-put", { items: ["pa", "pb", "pc"].map((key) => ({ key, value: 1 })) });
    const cursor = ((await c.list("ns", "limit=1&prefix=p")).body as Page).cursor as string;
    expect(cursor).toEqual(expect.any(String));
    expect((await c.list("ns", `limit=1&prefix=p&cursor=${cursor}`)).status).toBe(200);
    for (const [ns, query] of [
      ["other", `prefix=p&cursor=${cursor}`],
      ["ns", `prefix=q&cursor=${cursor}`],
      ["ns", `cursor=${cursor}`],
      ["ns", "cursor=garbage"],
    ] as const) {
      const res = await c.list(ns, query);
      expect([ns, query, res.status, res.body.error.code]).toEqual([ns, query, 400, "INVALID_REQUEST"]);
    }
    const other = await as({ ...newInstall(), tenantId: install.tenantId });
    expect((await other.list("ns", `limit=1&prefix=p&cursor=${cursor}`)).status).toBe(400);
  });

  test("bad query parameters are 400", async () => {
    const c = await as();
    for (const q of [
      "limit=0",
      "limit=1001",
      "limit=abc",
      "limit=1.5",
      "limit=-1",
      "values=yes",
      "limit=1&limit=2",
      "nope=1",
      "prefix=%ZZ",
      "prefix=a%00",
    ]) {
      const res = await c.list("ns", q);
      expect([q, res.status, res.body.error.code]).toEqual([q, 400, "INVALID_REQUEST"]);
    }
    expect((await c.list("ns", "limit=1000")).status).toBe(200);
  });

  test("a walk while others insert never repeats a key and never skips one that lived throughout", async () => {
    const c = await as();
    const original = Array.from({ length: 200 }, (_, i) => `k${String(i * 10).padStart(5, "0")}`);
    await c.bulk("ns", "bulk-put", { items: original.map((key) => ({ key, value: 1 })) });
    let stop = false;
    const writer = (async () => {
      for (let i = 0; i < 300 && !stop; i++) {
        // between, before and after the original keys
        const key = `k${String(Math.floor(Math.random() * 2100)).padStart(5, "0")}x${i}`;
        await c.put("ns", key, { value: i });
      }
    })();
    const seen = await walk(c, "ns", "limit=7");
    stop = true;
    await writer;
    expect(new Set(seen).size).toBe(seen.length);
    const seenSet = new Set(seen);
    expect(original.filter((k) => !seenSet.has(k))).toEqual([]);
    expect([...seen].sort(byteOrder)).toEqual(seen);
  });
});
