// The change feed (spec 16) records the writes of PATCH and POST /v1/atomic (spec 13, 14) like
// any other: in the write's transaction, one change per written key at the atomic request's
// shared revision; a refused atomic request and an idempotent replay record nothing.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test("PATCH and atomic writes appear in the feed once each; refusals and replays add nothing", async () => {
  const c = client(server.url, await tokenFor(newInstall("feed-atomic")));
  const start = (await c.call("GET", "/v1/changes?since=now")).body.cursor as string;
  expect((await c.put("a", "doc", { value: { n: 1 } })).status).toBe(201);
  expect(
    (
      await c.call(
        "PATCH",
        "/v1/namespaces/a/records/doc",
        { done: true },
        { "content-type": "application/merge-patch+json" },
      )
    ).status,
  ).toBe(200);
  const body = {
    ops: [
      { op: "increment", namespace: "b", key: "hits", by: 2 },
      { op: "merge", namespace: "a", key: "doc", patch: { n: null } },
      { op: "delete", namespace: "a", key: "absent" },
    ],
  };
  const atomic = await c.call("POST", "/v1/atomic", body, { "idempotency-key": "feed-1" });
  expect(atomic.status).toBe(200);
  const replay = await c.call("POST", "/v1/atomic", body, { "idempotency-key": "feed-1" });
  expect([replay.status, replay.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
  const refused = await c.call("POST", "/v1/atomic", {
    checks: [{ namespace: "a", key: "doc", revision: 1 }],
    ops: [{ op: "set", namespace: "b", key: "never", value: 1 }],
  });
  expect(refused.status).toBe(412);

  const feed = await c.call("GET", `/v1/changes?since=${encodeURIComponent(start)}&values=true`);
  expect(feed.status).toBe(200);
  const revision = atomic.body.items[0].revision;
  type Item = { type: string; namespace: string; key: string; revision: number; value?: unknown };
  const items: Item[] = feed.body.items;
  const brief = (x: Item) => [x.type, x.namespace, x.key, x.revision === revision];
  // the atomic request's writes share its revision (in no order among themselves); the
  // delete of an absent key wrote nothing
  expect(items.slice(0, 2).map(brief)).toEqual([
    ["put", "a", "doc", false],
    ["put", "a", "doc", false],
  ]);
  const atomics = items.slice(2).sort((x, y) => x.namespace.localeCompare(y.namespace));
  expect(atomics.map(brief)).toEqual([
    ["put", "a", "doc", true],
    ["put", "b", "hits", true],
  ]);
  expect(atomics.map((x) => x.value)).toEqual([{ done: true }, 2]);
});
