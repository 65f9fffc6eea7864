// The client's calls of the routes built alongside it (spec sections 13, 14 and 16: PATCH,
// POST /v1/atomic, the change feed and the watch stream) against a real server. Each test
// runs once the server has its route and is skipped, saying so, until then.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { StorageClient, type WatchEvent } from "../../packages/client/src/index.ts";
import { clientFor, whenRoute } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const FILE = "client-feed.test.ts";
const server: TestServer = await startServer();
afterAll(() => server.close());

const has = {
  patch: await whenRoute(server.url, "PATCH", "/v1/namespaces/n/records/k", FILE),
  atomic: await whenRoute(server.url, "POST", "/v1/atomic", FILE),
  changes: await whenRoute(server.url, "GET", "/v1/changes", FILE),
  watch: await whenRoute(server.url, "GET", "/v1/watch", FILE),
};

test.skipIf(!has.patch)("patch: a merge patch on the live value; ifRevision; absent is NOT_FOUND", async () => {
  const { client } = await clientFor(server.url);
  const ns = client.ns<{ a?: number; b?: number; c?: number }>("patch");
  const first = await ns.put("doc", { a: 1, b: 2 }, { ttlSeconds: 600 });
  const patched = await ns.patch("doc", { b: null, c: 3 }, { ifRevision: first.revision });
  expect(patched.value).toEqual({ a: 1, c: 3 });
  expect(patched.revision).toBeGreaterThan(first.revision);
  expect(patched.expiresAt?.getTime()).toBe(first.expiresAt?.getTime() as number);
  const stale = await ns.patch("doc", { a: 2 }, { ifRevision: first.revision }).catch((e) => e);
  expect([stale.status, stale.code]).toEqual([412, "REVISION_MISMATCH"]);
  const absent = await ns.patch("none", { a: 1 }).catch((e) => e);
  expect([absent.status, absent.code]).toEqual([404, "NOT_FOUND"]);
});

test.skipIf(!has.atomic)(
  "atomic: concurrent increments never lose an update; checks fail the whole batch",
  async () => {
    const { client } = await clientFor(server.url);
    await Promise.all(
      Array.from({ length: 20 }, () => client.atomic().increment("counters", "hits").commit({ timeoutMs: 20_000 })),
    );
    expect((await client.ns("counters").get("hits"))?.value).toBe(20);
    await client.atomic().increment("counters", "daily", 2, { path: "/mon" }).commit();
    expect((await client.ns("counters").get("daily"))?.value).toEqual({ mon: 2 });

    const doc = await client.ns("a").put("k1", { n: 1 });
    const results = await client
      .atomic()
      .check("a", "k1", doc.revision)
      .check("a", "k2", null)
      .set("a", "k2", { made: true }, { ttlSeconds: 60 })
      .merge("a", "k1", { done: true })
      .delete("b", "absent")
      .commit();
    expect(results.map((r) => [r.namespace, r.key, r.created, r.deleted])).toEqual([
      ["a", "k2", true, false],
      ["a", "k1", false, false],
      ["b", "absent", false, false],
    ]);
    expect(results[0]?.revision).toBe(results[1]?.revision as number);
    expect((await client.ns("a").get("k1"))?.value).toEqual({ n: 1, done: true });

    const failed = await client
      .atomic()
      .check("a", "k1", doc.revision)
      .set("a", "k3", 1)
      .commit()
      .catch((e) => e);
    expect([failed.status, failed.code]).toEqual([412, "REVISION_MISMATCH"]);
    expect(failed.details.failed[0].index).toBe(0);
    expect(await client.ns("a").get("k3")).toBeNull();
  },
);

test.skipIf(!has.changes)(
  "changes: every write after a cursor, oldest first, for the install or one namespace",
  async () => {
    const { client } = await clientFor(server.url);
    const start = await client.changes({ since: "now" });
    expect(start.items).toEqual([]);
    const ns = client.ns("feed");
    await ns.put("a", { v: 1 });
    await client.ns("other").put("x", 0);
    await ns.delete("a");
    const page = await client.changes({ since: start.cursor, values: true });
    expect(page.items.map((c) => [c.type, c.namespace, c.key])).toEqual([
      ["put", "feed", "a"],
      ["put", "other", "x"],
      ["delete", "feed", "a"],
    ]);
    // a put carries its value while the record is still at that revision: "a" was deleted since
    expect([page.items[0]?.value, page.items[1]?.value]).toEqual([undefined, 0]);
    const mine = await ns.changes({ since: start.cursor });
    expect(mine.items.map((c) => c.type)).toEqual(["put", "delete"]);
    expect((await client.changes({ since: page.cursor })).items).toEqual([]);
  },
);

/** A TCP proxy in front of the server whose connections can be cut at once. */
async function proxyTo(port: number) {
  const open = new Set<Socket>();
  const proxy = createServer((downstream) => {
    const upstream = connect(port, "127.0.0.1");
    for (const s of [downstream, upstream]) {
      open.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        open.delete(s);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    cut: () => {
      for (const s of open) s.destroy();
    },
    close: () => new Promise((resolve) => proxy.close(resolve)),
  };
}

/** Takes `n` events from a watch, within a bound. */
async function take(events: AsyncIterator<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < n) {
    const next = await events.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

test.skipIf(!has.watch)(
  "watch: another client's writes arrive; a cut connection resumes from the last id, each change once",
  async () => {
    const { client, token } = await clientFor(server.url);
    const proxy = await proxyTo(Number(new URL(server.url).port));
    const watcher = new StorageClient({ baseUrl: proxy.url, token, retry: { baseDelayMs: 50 } });
    const signal = AbortSignal.timeout(20_000);
    const events = watcher.ns("live").watch({ signal })[Symbol.asyncIterator]();
    try {
      const first = take(events, 1);
      await Bun.sleep(200);
      await client.ns("live").put("k1", 1);
      expect((await first).map((e) => [e.type, e.key])).toEqual([["put", "k1"]]);
      proxy.cut();
      await client.ns("live").put("k2", 2);
      await client.ns("live").delete("k1");
      const after = await take(events, 2);
      expect(after.map((e) => [e.type, e.key])).toEqual([
        ["put", "k2"],
        ["delete", "k1"],
      ]);
    } finally {
      await events.return?.();
      await proxy.close();
    }
  },
  30_000,
);
