// Spec section 18: a list page and a bulk-get answer stop at STORAGE_MAX_PAGE_BYTES of records.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ STORAGE_MAX_PAGE_BYTES: "3000" });
});
afterAll(() => server.close());

// size_bytes of each record: key (2 bytes) + JSON of the value (1,000 bytes)
const value = (i: number) => `${i}`.padEnd(998, "x");
const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);

async function filled() {
  const c = client(server.url, await tokenFor(newInstall("pages")));
  const put = await c.bulk("ns", "bulk-put", { items: keys.map((key, i) => ({ key, value: value(i) })) });
  expect(put.status).toBe(200);
  return c;
}

describe("fairness: bounded responses", () => {
  test("a list page stops once its records reach the byte limit; the cursor goes on from there", async () => {
    const c = await filled();
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = await c.list("ns", `limit=1000${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(page.status).toBe(200);
      sizes.push(page.body.items.length);
      seen.push(...page.body.items.map((r: { key: string }) => r.key));
      cursor = page.body.cursor;
      if (cursor === null) break;
    }
    // 3 records of 1,002 bytes start under 3,000 bytes (0, 1,002, 2,004)
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(seen).toEqual(keys);
  });

  test("values=false pages are cut the same way; a record bigger than the limit still comes alone", async () => {
    const c = await filled();
    expect((await c.list("ns", "values=false&limit=2")).body.items.length).toBe(2);
    expect((await c.put("big", "b", { value: "y".repeat(5000) })).status).toBe(201);
    expect((await c.put("big", "c", { value: 1 })).status).toBe(201);
    const first = await c.list("big");
    expect([first.body.items.map((r: { key: string }) => r.key), first.body.cursor === null]).toEqual([["b"], false]);
  });

  test("bulk-get returns the records that fit and names the rest in unprocessed; missing unchanged", async () => {
    const c = await filled();
    const res = await c.bulk("ns", "bulk-get", { keys: ["k9", "nope", "k1", "k2", "k3", "k4"] });
    expect(res.status).toBe(200);
    expect({
      items: res.body.items.map((r: { key: string; value: string }) => [r.key, r.value === value(Number(r.key[1]))]),
      missing: res.body.missing,
      unprocessed: res.body.unprocessed,
    }).toEqual({
      items: [
        ["k9", true],
        ["k1", true],
        ["k2", true],
      ],
      missing: ["nope"],
      unprocessed: ["k3", "k4"],
    });
    const small = await c.bulk("ns", "bulk-get", { keys: ["k0", "zz"] });
    expect([small.body.items.length, small.body.missing, small.body.unprocessed]).toEqual([1, ["zz"], []]);
  });
});

describe("fairness: large answers are streamed in pieces", () => {
  test("a list page and a bulk-get answer of megabytes arrive whole and well-formed, as application/json", async () => {
    const big = await startServer({ STORAGE_WORK_LIMIT_BYTES: "0" });
    try {
      const c = client(big.url, await tokenFor(newInstall("stream")));
      // 40 values of 60 KB (30,000 characters, most of two bytes): several pieces
      const items = Array.from({ length: 40 }, (_, i) => ({
        key: `k${String(i).padStart(2, "0")}`,
        value: `é${i}`.padEnd(30_000, "ü"),
      }));
      expect((await c.bulk("ns", "bulk-put", { items })).status).toBe(200);
      const page = await c.list("ns", "limit=1000");
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toStartWith("application/json");
      expect(page.headers.get("x-request-id")).toBeTruthy();
      expect(page.body.items.map((r: { key: string; value: string }) => [r.key, r.value])).toEqual(
        items.map((i) => [i.key, i.value]),
      );
      expect(page.body.cursor).toBeNull();
      const got = await c.bulk("ns", "bulk-get", { keys: [...items.map((i) => i.key), "nope"] });
      expect(got.status).toBe(200);
      expect(got.body.items.map((r: { value: string }) => r.value)).toEqual(items.map((i) => i.value));
      expect([got.body.missing, got.body.unprocessed]).toEqual([["nope"], []]);
    } finally {
      await big.close();
    }
  });
});
