// Contention on few keys: read-modify-write loops with If-Match (retrying on 412) lose no
// update, conditional bulk increments stay all-or-nothing, readers never see half a bulk,
// and no transaction deadlocks.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  // no per-install rate limit: the writers contend as fast as the service answers
  server = await startServer({ STORAGE_RATE_LIMIT: "0" });
});
afterAll(() => server.close());

async function deadlocks(): Promise<number> {
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql`select deadlocks::int as n from pg_stat_database where datname = current_database()`;
  return row?.n as number;
}

const WRITERS = 12;
const INCREMENTS = 8; // successful increments per writer
const MAX_TRIES = 400; // per increment: the loop is bounded

test("If-Match read-modify-write loops on 3 keys lose no update", async () => {
  const c = client(server.url, await tokenFor(newInstall("counter")));
  const keys = ["x", "y", "z"];
  const accepted = new Map<string, number[]>(keys.map((k) => [k, []]));
  const statuses = new Map<number, number>();
  const deadlocksBefore = await deadlocks();
  let conflicts = 0;

  const writer = async (w: number) => {
    for (let i = 0; i < INCREMENTS; i++) {
      const key = keys[(w + i) % keys.length] as string;
      for (let attempt = 0; ; attempt++) {
        if (attempt >= MAX_TRIES) throw new Error(`writer ${w}: no increment of ${key} after ${MAX_TRIES} tries`);
        const read = await c.get("ns", key);
        const current = read.status === 404 ? 0 : (read.body.value as number);
        const condition: Record<string, string> =
          read.status === 404 ? { "if-none-match": "*" } : { "if-match": read.headers.get("etag") as string };
        const res = await c.put("ns", key, { value: current + 1 }, condition);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 412) {
          conflicts++;
          continue;
        }
        expect([200, 201]).toContain(res.status);
        if (read.status === 200) expect(res.body.revision).toBeGreaterThan(read.body.revision);
        accepted.get(key)?.push(current + 1);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  await Bun.sleep(600); // statistics are flushed at the end of transactions, not at once

  for (const key of keys) {
    const values = (accepted.get(key) ?? []).sort((p, q) => p - q);
    // every accepted write saw the previous one: the values are exactly 1..n
    expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i + 1));
    expect((await c.get("ns", key)).body.value).toBe(values.length);
  }
  const total = [...accepted.values()].reduce((s, v) => s + v.length, 0);
  console.log(
    `contention: ${total} increments by ${WRITERS} writers on ${keys.length} keys, ${conflicts} retried after 412, ` +
      `statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  expect(total).toBe(WRITERS * INCREMENTS);
  expect(conflicts).toBeGreaterThan(0); // there was contention to survive
  expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
  expect((await deadlocks()) - deadlocksBefore).toBe(0);
}, 60_000);

test("conditional bulk increments of 6 keys are all or nothing; readers never see half of one", async () => {
  const c = client(server.url, await tokenFor(newInstall("bulkc")));
  const keys = ["a", "b", "c", "d", "e", "f"];
  expect((await c.bulk("ns", "bulk-put", { items: keys.map((key) => ({ key, value: 0 })) })).status).toBe(200);
  const deadlocksBefore = await deadlocks();
  let done = false;
  let successes = 0;
  let conflicts = 0;
  let reads = 0;
  const torn: unknown[] = [];

  const reader = async () => {
    for (let i = 0; i < 5000 && !done; i++) {
      const res = await c.bulk("ns", "bulk-get", { keys });
      const values = new Set(res.body.items.map((item: { value: number }) => item.value));
      reads++;
      if (res.status !== 200 || values.size !== 1 || res.body.missing.length > 0) torn.push(res.body);
      const page = await c.list("ns", "limit=10");
      if (new Set(page.body.items.map((item: { value: number }) => item.value)).size !== 1) torn.push(page.body);
    }
  };
  const writer = async () => {
    for (let i = 0; i < 6; i++) {
      for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
        const read = await c.bulk("ns", "bulk-get", { keys });
        const items = read.body.items.map((r: { key: string; value: number; revision: number }) => ({
          key: r.key,
          value: r.value + 1,
          ifRevision: r.revision,
        }));
        const res = await c.bulk("ns", "bulk-put", { items });
        if (res.status === 412) {
          conflicts++;
          continue;
        }
        expect(res.status).toBe(200);
        successes++;
        break;
      }
    }
  };
  const readers = Array.from({ length: 2 }, reader);
  await Promise.all(Array.from({ length: 6 }, writer));
  done = true;
  await Promise.all(readers);
  await Bun.sleep(600);

  const final = await c.bulk("ns", "bulk-get", { keys });
  console.log(
    `bulk contention: ${successes} bulk increments, ${conflicts} retried after 412, ${reads} consistent reads`,
  );
  expect(torn).toEqual([]);
  expect(successes).toBe(36);
  expect(final.body.items.map((r: { value: number }) => r.value)).toEqual(keys.map(() => successes));
  expect((await deadlocks()) - deadlocksBefore).toBe(0);
}, 60_000);

test("unconditional bulk-puts and bulk-deletes of overlapping key sets: each all or nothing", async () => {
  const c = client(server.url, await tokenFor(newInstall("bulkd")));
  const keys = ["k0", "k1", "k2", "k3", "k4"];
  const deadlocksBefore = await deadlocks();
  let done = false;
  const seen: unknown[] = [];
  const reader = async () => {
    for (let i = 0; i < 5000 && !done; i++) {
      const res = await c.bulk("ns", "bulk-get", { keys });
      const stamps = new Set(res.body.items.map((item: { value: string }) => item.value));
      // all five with one stamp, or none at all
      if (!(res.body.items.length === 0 || (res.body.items.length === 5 && stamps.size === 1))) seen.push(res.body);
    }
  };
  const writer = async (w: number) => {
    for (let i = 0; i < 25; i++) {
      const res =
        i % 3 === 2
          ? await c.bulk("ns", "bulk-delete", { keys: [...keys].reverse() })
          : await c.bulk("ns", "bulk-put", {
              items: (w % 2 === 0 ? keys : [...keys].reverse()).map((key) => ({ key, value: `${w}-${i}` })),
            });
      expect(res.status).toBe(200);
    }
  };
  const readers = Array.from({ length: 2 }, reader);
  await Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
  done = true;
  await Promise.all(readers);
  await Bun.sleep(600);
  expect(seen).toEqual([]);
  expect((await deadlocks()) - deadlocksBefore).toBe(0);
}, 60_000);
