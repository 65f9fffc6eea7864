// Model-based: random sequences of writes (put, delete, bulk-put, bulk-delete, namespace
// delete) on a small key space, with the feed's cursor taken after each; then readers resume
// from random cursors with random page sizes, and each must read exactly the changes a
// reference model says came after its cursor, in order. Also: the scheduled sweeper and the
// sampled list sweep record expired rows as deletes with reason expired.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { sql } from "../helpers/db.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

const RUNS = Number(process.env.CHANGES_MODEL_RUNS ?? 12);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ TTL_LIST_SWEEP_EVERY: "0" });
});
afterAll(() => server.close());

const NS = ["a", "b"];
const KEYS = ["k1", "k2", "k3"];
type Op =
  | { op: "put"; ns: string; key: string }
  | { op: "delete"; ns: string; key: string }
  | { op: "bulk-put"; ns: string; keys: string[] }
  | { op: "bulk-delete"; ns: string; keys: string[] }
  | { op: "ns-delete"; ns: string };
type Expected = [string, string, string | null];

const ns = fc.constantFrom(...NS);
const key = fc.constantFrom(...KEYS);
const keys = fc.uniqueArray(key, { minLength: 1, maxLength: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), ns, key }),
  fc.record({ op: fc.constant("put" as const), ns, key }),
  fc.record({ op: fc.constant("delete" as const), ns, key }),
  fc.record({ op: fc.constant("bulk-put" as const), ns, keys }),
  fc.record({ op: fc.constant("bulk-delete" as const), ns, keys }),
  fc.record({ op: fc.constant("ns-delete" as const), ns }),
);

/** What the feed must show for an op, given which keys live (updated in place). */
function expectedOf(o: Op, live: Set<string>): Expected[] {
  const slot = (n: string, k: string) => `${n}/${k}`;
  switch (o.op) {
    case "put":
      live.add(slot(o.ns, o.key));
      return [["put", o.ns, o.key]];
    case "bulk-put":
      for (const k of o.keys) live.add(slot(o.ns, k));
      return o.keys.map((k) => ["put", o.ns, k]);
    case "delete":
    case "bulk-delete": {
      const list = o.op === "delete" ? [o.key] : o.keys;
      const out: Expected[] = [];
      for (const k of list) if (live.delete(slot(o.ns, k))) out.push(["delete", o.ns, k]);
      return out;
    }
    case "ns-delete": {
      const gone = [...live].filter((s) => s.startsWith(`${o.ns}/`));
      for (const s of gone) live.delete(s);
      return gone.length > 0 ? [["namespace_deleted", o.ns, null]] : [];
    }
  }
}

describe("change feed model", () => {
  test(`random writes, readers resuming from random cursors (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 4 }),
        async (ops, readers) => {
          const c = client(server.url, await tokenFor(newInstall("feed-model")));
          const live = new Set<string>();
          const expected: Expected[] = [];
          // cursors[i]: the feed's head after the first i ops, with how many changes precede it
          const cursors: Array<[string, number]> = [[(await c.call("GET", "/v1/changes?since=now")).body.cursor, 0]];
          for (const o of ops) {
            const res =
              o.op === "put"
                ? await c.put(o.ns, o.key, { value: 1 })
                : o.op === "delete"
                  ? await c.del(o.ns, o.key)
                  : o.op === "bulk-put"
                    ? await c.bulk(o.ns, "bulk-put", { items: o.keys.map((k) => ({ key: k, value: 1 })) })
                    : o.op === "bulk-delete"
                      ? await c.bulk(o.ns, "bulk-delete", { keys: o.keys })
                      : await c.call("DELETE", `/v1/namespaces/${o.ns}`);
            expect(res.status).toBeLessThan(500);
            expected.push(...expectedOf(o, live));
            cursors.push([(await c.call("GET", "/v1/changes?since=now")).body.cursor, expected.length]);
          }
          for (const [pick, limit] of readers) {
            const [cursor, before] = cursors[pick % cursors.length] as [string, number];
            const got: Expected[] = [];
            let since = cursor;
            for (let page = 0; page < 100; page++) {
              const res = await c.call("GET", `/v1/changes?since=${since}&limit=${limit}`);
              expect(res.status).toBe(200);
              got.push(
                ...res.body.items.map((i: { type: string; namespace: string; key?: string }) => [
                  i.type,
                  i.namespace,
                  i.key ?? null,
                ]),
              );
              since = res.body.cursor;
              if (res.body.items.length < limit) break;
            }
            expect(got).toEqual(expected.slice(before));
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  test("a write's quota sweep records the expired rows it deletes, before the write", async () => {
    const install = newInstall("feed-quota");
    const c = client(server.url, await tokenFor(install));
    await (await adminClient(server.url)).limits(install, { maxRecords: 2 });
    await c.put("q", "x", { value: 1, ttlSeconds: 1 });
    await c.put("r", "y", { value: 1, ttlSeconds: 1 });
    await Bun.sleep(1100);
    expect((await c.put("q", "z", { value: 1 })).status).toBe(201); // over the stored figures: sweeps
    const page = await c.call("GET", "/v1/changes");
    const brief = (i: { type: string; key?: string; reason?: string }) => [i.type, i.key, i.reason ?? null];
    expect(page.body.items.map(brief)).toEqual([
      ["put", "x", null],
      ["put", "y", null],
      ["delete", "x", "expired"],
      ["delete", "y", "expired"],
      ["put", "z", null],
    ]);
  });

  test("the scheduled sweeper records expired rows as deletes with reason expired", async () => {
    const c = client(server.url, await tokenFor(newInstall("feed-sweep")));
    await c.put("s", "a", { value: 1, ttlSeconds: 1 });
    await c.put("t", "b", { value: 1, ttlSeconds: 1 });
    await Bun.sleep(1100);
    await sql`select * from ext_storage_sweep_expired(100000, 100000)`;
    const page = await c.call("GET", "/v1/changes");
    const brief = (i: { type: string; key?: string; reason?: string }) => [i.type, i.key, i.reason ?? null];
    expect(page.body.items.map(brief)).toEqual([
      ["put", "a", null],
      ["put", "b", null],
      ["delete", "a", "expired"],
      ["delete", "b", "expired"],
    ]);
    const revisions = page.body.items.map((i: { revision: number }) => i.revision);
    expect(new Set(revisions).size).toBe(4);
    // the next write takes the revision after the sweep's
    const put = await c.put("s", "c", { value: 1 });
    expect(Number(put.headers.get("etag")?.replaceAll('"', ""))).toBe(Math.max(...revisions) + 1);
  });
});
