import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "../helpers/db.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const as = async (install = newInstall()) => client(server.url, await tokenFor(install));
type C = Awaited<ReturnType<typeof as>>;

// biome-ignore lint/suspicious/noExplicitAny: changes are checked field by field
type Change = any;

/** Every change after since, page by page (limit per page), and the last cursor. */
async function readAll(c: C, since: string | undefined, query = "", limit = 100) {
  const items: Change[] = [];
  let cursor = since;
  for (let page = 0; page < 1000; page++) {
    const params = new URLSearchParams(query);
    if (cursor !== undefined) params.set("since", cursor);
    params.set("limit", String(limit));
    const res = await c.call("GET", `/v1/changes?${params}`);
    if (res.status !== 200) throw new Error(`changes: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    cursor = res.body.cursor;
    if (res.body.items.length < limit) break;
  }
  return { items, cursor: cursor as string };
}

const brief = (c: Change) => [c.type, c.namespace, c.key ?? null, ...(c.reason ? [c.reason] : [])];

describe("changes", () => {
  test("every put and delete in revision order; pages resume exactly; since=now is the head", async () => {
    const c = await as();
    const now = await c.call("GET", "/v1/changes?since=now");
    expect(now.status).toBe(200);
    expect(now.body.items).toEqual([]);
    await c.put("a", "k1", { value: { n: 1 } });
    await c.put("a", "k2", { value: 2, ttlSeconds: 3600 });
    await c.del("a", "k1");
    await c.bulk("b", "bulk-put", {
      items: [
        { key: "x", value: 1 },
        { key: "y", value: 2 },
      ],
    });
    await c.bulk("b", "bulk-delete", { keys: ["x", "nothing"] });
    const all = await readAll(c, now.body.cursor);
    expect(all.items.map(brief)).toEqual([
      ["put", "a", "k1"],
      ["put", "a", "k2"],
      ["delete", "a", "k1"],
      ["put", "b", "x"],
      ["put", "b", "y"],
      ["delete", "b", "x"],
    ]);
    const revisions = all.items.map((i: Change) => i.revision);
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
    expect(all.items[1].expiresAt).toBeString();
    expect(all.items[0].value).toBeUndefined();
    // page by page, one at a time: the same, once each
    expect((await readAll(c, now.body.cursor, "", 1)).items).toEqual(all.items);
    // from the last cursor: nothing, and the cursor holds
    const after = await c.call("GET", `/v1/changes?since=${all.cursor}`);
    expect(after.body).toEqual({ items: [], cursor: all.cursor });
    // without since: from the oldest kept
    expect((await readAll(c, undefined)).items).toEqual(all.items);
  });

  test("values=true carries a put's value while the record is still at that revision", async () => {
    const c = await as();
    await c.put("v", "k", { value: { b: 1, a: [1e21, 5e-324] } });
    await c.put("v", "other", { value: "first" });
    await c.put("v", "other", { value: "second" });
    const res = await c.call("GET", "/v1/changes?values=true");
    expect(res.body.items.map((i: Change) => i.value)).toEqual([{ b: 1, a: [1e21, 5e-324] }, undefined, "second"]);
  });

  test("filters: namespace, prefix, the namespace route; a namespace delete is one change", async () => {
    const c = await as();
    await c.put("n1", "user:1", { value: 1 });
    await c.put("n1", "other", { value: 1 });
    await c.put("n2", "user:2", { value: 1 });
    expect((await c.call("DELETE", "/v1/namespaces/n1")).body).toEqual({ deleted: 2 });
    expect((await c.call("DELETE", "/v1/namespaces/empty")).body).toEqual({ deleted: 0 });
    const all = await readAll(c, undefined);
    expect(all.items.map(brief)).toEqual([
      ["put", "n1", "user:1"],
      ["put", "n1", "other"],
      ["put", "n2", "user:2"],
      ["namespace_deleted", "n1", null],
    ]);
    expect((await readAll(c, undefined, "namespace=n1&prefix=user:")).items.map(brief)).toEqual([
      ["put", "n1", "user:1"],
      ["namespace_deleted", "n1", null],
    ]);
    const ns = await c.call("GET", "/v1/namespaces/n2/changes");
    expect(ns.body.items.map(brief)).toEqual([["put", "n2", "user:2"]]);
    // a filtered reader's cursor moves past what it does not see
    const filtered = await readAll(c, undefined, "namespace=n2");
    await c.put("n3", "z", { value: 1 });
    const later = await c.call("GET", `/v1/changes?namespace=n2&since=${filtered.cursor}`);
    expect(later.body.items).toEqual([]);
    expect(later.body.cursor).not.toBe(filtered.cursor);
  });

  test("refused and rolled-back writes record nothing", async () => {
    const install = newInstall();
    const c = client(server.url, await tokenFor(install, "storage:read storage:write storage:schema"));
    const admin = await adminClient(server.url);
    await c.put("q", "k", { value: 1 });
    const head = (await c.call("GET", "/v1/changes?since=now")).body.cursor;
    // precondition
    expect((await c.put("q", "k", { value: 2 }, { "if-match": '"999"' })).status).toBe(412);
    // schema (a schema put is no change of a record: it takes no revision and is not in the feed)
    const schema = { jsonSchema: { type: "object" } };
    expect((await c.call("PUT", "/v1/namespaces/s/schema", schema)).status).toBe(201);
    expect((await c.put("s", "k", { value: "not an object" })).status).toBe(422);
    expect(
      (
        await c.bulk("s", "bulk-put", {
          items: [
            { key: "a", value: {} },
            { key: "b", value: 1 },
          ],
        })
      ).status,
    ).toBe(422);
    // quota
    await admin.limits(install, { maxRecords: 1 });
    expect((await c.put("q", "k2", { value: 1 })).status).toBe(403);
    // a bulk with one bad item writes nothing
    expect(
      (
        await c.bulk("q", "bulk-put", {
          items: [
            { key: "a", value: 1 },
            { key: "b", value: 1 },
          ],
        })
      ).status,
    ).toBe(403);
    // a delete that finds nothing
    expect((await c.del("q", "absent")).status).toBe(404);
    expect((await c.call("GET", `/v1/changes?since=${head}`)).body.items).toEqual([]);
  });

  test("expired rows show as deletes with reason expired when cleaned up", async () => {
    const c = await as();
    await c.put("t", "short", { value: 1, ttlSeconds: 1 });
    await c.put("t", "kept", { value: 1 });
    await c.put("u", "gone", { value: 1, ttlSeconds: 1 });
    await Bun.sleep(1100);
    expect((await c.get("t", "short")).status).toBe(404); // the read cleans it up
    // a bulk-delete that finds the row expired deletes it: a cleanup too
    expect((await c.bulk("u", "bulk-delete", { keys: ["gone"] })).body).toEqual({ deleted: 0 });
    const all = await readAll(c, undefined);
    expect(all.items.map(brief)).toEqual([
      ["put", "t", "short"],
      ["put", "t", "kept"],
      ["put", "u", "gone"],
      ["delete", "t", "short", "expired"],
      ["delete", "u", "gone", "expired"],
    ]);
  });

  test("a cursor is bound to its install; junk is a 400", async () => {
    const a = await as();
    const b = await as();
    await a.put("x", "k", { value: 1 });
    const cursor = (await a.call("GET", "/v1/changes")).body.cursor;
    const other = await b.call("GET", `/v1/changes?since=${cursor}`);
    expect([other.status, other.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    expect((await b.call("GET", "/v1/changes")).body.items).toEqual([]);
    expect((await a.call("GET", "/v1/changes?since=junk")).status).toBe(400);
    expect((await a.call("GET", "/v1/changes?limit=0")).status).toBe(400);
    expect((await a.call("GET", "/v1/changes?limit=1001")).status).toBe(400);
    expect((await a.call("GET", "/v1/changes?bogus=1")).status).toBe(400);
    expect((await a.call("GET", "/v1/namespaces/x/changes?namespace=x")).status).toBe(400);
    const reader = client(server.url, await tokenFor(newInstall(), "storage:write"));
    expect((await reader.call("GET", "/v1/changes")).status).toBe(403);
  });

  test("a cursor older than what is kept is 410 CURSOR_EXPIRED; so is one from before a purge", async () => {
    const install = newInstall();
    const c = await as(install);
    const start = (await c.call("GET", "/v1/changes?since=now")).body.cursor;
    await c.put("r", "a", { value: 1 });
    const mid = (await c.call("GET", "/v1/changes?since=now")).body.cursor;
    await c.put("r", "b", { value: 1 });
    // age the first change past a one-minute retention and run the retention batch
    await sql`update ext_storage_changes set created_at = now() - interval '2 minutes'
              where install_id = ${install.installId} and key = 'a'`;
    const pruned = await sql`select * from ext_storage_prune_changes(60, 100000, 1000)`;
    expect(pruned.some((r) => r.pruned_install_id === install.installId)).toBe(true);
    const old = await c.call("GET", `/v1/changes?since=${start}`);
    expect([old.status, old.body.error.code]).toEqual([410, "CURSOR_EXPIRED"]);
    const kept = await c.call("GET", `/v1/changes?since=${mid}`);
    expect(kept.body.items.map(brief)).toEqual([["put", "r", "b"]]);
    // purge: every earlier cursor is expired, a new one works
    const admin = await adminClient(server.url);
    expect((await admin.purge(install)).status).toBe(204);
    expect((await c.call("GET", `/v1/changes?since=${kept.body.cursor}`)).status).toBe(410);
    const fresh = (await c.call("GET", "/v1/changes?since=now")).body.cursor;
    await c.put("r", "c", { value: 1 });
    expect((await c.call("GET", `/v1/changes?since=${fresh}`)).body.items.map(brief)).toEqual([["put", "r", "c"]]);
  });

  test("exactly once, in order, with concurrent writers and a reader resuming as it goes", async () => {
    const c = await as();
    const writers = 6;
    const each = 25;
    const start = (await c.call("GET", "/v1/changes?since=now")).body.cursor;
    const seen: Change[] = [];
    let cursor = start;
    let done = false;
    const reader = (async () => {
      for (let i = 0; i < 2000 && !(done && (await drained())); i++) {
        const res = await c.call("GET", `/v1/changes?since=${cursor}&limit=7`);
        seen.push(...res.body.items);
        cursor = res.body.cursor;
      }
    })();
    async function drained() {
      const res = await c.call("GET", `/v1/changes?since=${cursor}&limit=7`);
      seen.push(...res.body.items);
      cursor = res.body.cursor;
      return res.body.items.length === 0;
    }
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < each; i++) {
          if (i % 5 === 4) await c.del("c", `w${w}-${i - 1}`);
          else await c.put("c", `w${w}-${i}`, { value: i });
        }
      }),
    );
    done = true;
    await reader;
    const revisions = seen.map((s) => s.revision);
    expect(new Set(revisions).size).toBe(writers * each);
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
    expect(seen).toEqual((await readAll(c, start)).items);
  });
});
