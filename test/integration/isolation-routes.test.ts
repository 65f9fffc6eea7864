// Isolation, route by route: a token for install A can neither read, write, list, count nor
// learn the existence of install B's data. For every route, A's answer about B's keys is
// compared with its answer about keys nobody ever wrote: they must be the same, and no
// answer may carry B's ids or key names. B's data, usage, limits and schema are checked
// unchanged at the end.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
const b = newInstall("victim");
const a = newInstall("prober");
const ALL = "storage:read storage:write storage:schema";
type Client = ReturnType<typeof client>;
let cb: Client;
let ca: Client;
const secretKeys = ["b-secret-1", "b-secret-2", "b-secret-3"];
let bRevision = 0;
let bCursor = "";
let before: Awaited<ReturnType<typeof snapshot>>;

const snapshot = async () => ({
  records: (await cb.list("shared")).body,
  usage: (await cb.call("GET", "/v1/usage")).body,
  namespaces: (await cb.call("GET", "/v1/namespaces")).body,
  schema: (await cb.call("GET", "/v1/namespaces/shared/schema")).body,
});

beforeAll(async () => {
  server = await startServer();
  cb = client(server.url, await tokenFor(b, ALL));
  ca = client(server.url, await tokenFor(a, ALL));
  const put = await cb.bulk("shared", "bulk-put", { items: secretKeys.map((key) => ({ key, value: { owner: "b" } })) });
  bRevision = put.body.items[0].revision;
  bCursor = (await cb.list("shared", "limit=1")).body.cursor;
  await cb.call("PUT", "/v1/namespaces/shared/schema", { jsonSchema: { type: "object" } });
  await (await adminClient(server.url)).limits(b, { maxBytes: 123_456, maxRecords: 77 });
  before = await snapshot();
});
afterAll(() => server.close());

/** Nothing of B in an answer: neither its ids nor its values (key names A sent may be echoed). */
function expectNothingOfB(res: { body: unknown }) {
  const text = JSON.stringify(res.body ?? "");
  for (const secret of [b.tenantId, b.installId, b.extensionId, "owner"]) expect(text).not.toContain(secret);
}

/** A's answer about B's key and about a never-written key: the same status and body. */
async function sameAsNever(ask: (key: string) => Promise<{ status: number; body: unknown }>) {
  const aboutB = await ask("b-secret-1");
  const aboutNothing = await ask("never-written");
  expectNothingOfB(aboutB);
  const scrub = (r: { status: number; body: unknown }) =>
    JSON.stringify({ status: r.status, body: r.body }).replaceAll("b-secret-1", "K").replaceAll("never-written", "K");
  expect(scrub(aboutB)).toBe(scrub(aboutNothing));
  return aboutB;
}

describe("install A against install B's data, route by route", () => {
  test("GET record", async () => {
    expect((await sameAsNever((k) => ca.get("shared", k))).status).toBe(404);
  });

  test("PUT with If-Match of B's revision, and DELETE with and without it", async () => {
    const ifMatch = { "if-match": `"${bRevision}"` };
    const put = await sameAsNever((k) => ca.put("shared", k, { value: 1 }, ifMatch));
    expect([put.status, (put.body as { error: { details: unknown } }).error.details]).toEqual([
      412,
      { currentRevision: null },
    ]);
    expect((await sameAsNever((k) => ca.del("shared", k))).status).toBe(404);
    expect((await sameAsNever((k) => ca.del("shared", k, ifMatch))).status).toBe(412);
  });

  test("PUT If-None-Match: * writes A's own record, not B's", async () => {
    const res = await ca.put("shared", "b-secret-2", { value: "a's" }, { "if-none-match": "*" });
    expect(res.status).toBe(201); // created: A had no such key, whatever B holds
    expect((await cb.get("shared", "b-secret-2")).body.value).toEqual({ owner: "b" });
    expect((await ca.del("shared", "b-secret-2")).status).toBe(204);
  });

  test("list: empty, whatever the prefix", async () => {
    for (const query of ["", "prefix=b-", "prefix=b-secret-1", "values=false&limit=1000"]) {
      expect((await ca.list("shared", query)).body).toEqual({ items: [], cursor: null });
    }
  });

  test("a cursor from B's pages is refused without naming B", async () => {
    const res = await ca.list("shared", `limit=1&cursor=${bCursor}`);
    const garbage = await ca.list("shared", `limit=1&cursor=${Buffer.from("{}").toString("base64url")}`);
    expect([res.status, res.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    expect(res.body).toEqual(garbage.body);
    expectNothingOfB(res);
  });

  test("a cursor A crafts for its own scope naming B's key still reads only A", async () => {
    await ca.put("shared", "z-a-own", { value: "a" });
    const tag = createHash("sha256")
      .update(JSON.stringify([a.tenantId, a.installId, "shared", ""]))
      .digest("base64url")
      .slice(0, 16);
    const cursor = Buffer.from(JSON.stringify({ v: 1, s: tag, k: "b-secret-0" })).toString("base64url");
    const res = await ca.list("shared", `limit=10&cursor=${cursor}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { key: string }) => i.key)).toEqual(["z-a-own"]);
    await ca.del("shared", "z-a-own");
  });

  test("bulk-get: every key of B is missing", async () => {
    const res = await ca.bulk("shared", "bulk-get", { keys: secretKeys });
    expect(res.body).toEqual({ items: [], missing: secretKeys, unprocessed: [] });
  });

  test("bulk-put with B's revision fails as for a key nobody wrote; bulk-delete deletes nothing of B", async () => {
    const put = await sameAsNever((k) =>
      ca.bulk("shared", "bulk-put", { items: [{ key: k, value: 1, ifRevision: bRevision }] }),
    );
    expect(put.status).toBe(412);
    const delItems = await sameAsNever((k) =>
      ca.bulk("shared", "bulk-delete", { items: [{ key: k, ifRevision: bRevision }] }),
    );
    expect(delItems.status).toBe(412);
    expect((await ca.bulk("shared", "bulk-delete", { keys: secretKeys })).body).toEqual({ deleted: 0 });
  });

  test("namespaces, namespace delete and usage count A alone", async () => {
    expect((await ca.call("GET", "/v1/namespaces")).body).toEqual({ namespaces: [] });
    expect((await ca.call("DELETE", "/v1/namespaces/shared")).body).toEqual({ deleted: 0 });
    const usage = await ca.call("GET", "/v1/usage");
    expect(usage.body).toEqual({
      bytesUsed: 0,
      recordCount: 0,
      limits: {
        maxBytes: server.config.limits.quotaBytes,
        maxRecords: server.config.limits.quotaRecords,
        maxValueBytes: server.config.limits.maxValueBytes,
      },
    });
  });

  test("schema: B's is not seen, and A's own does not touch it", async () => {
    const get = await ca.call("GET", "/v1/namespaces/shared/schema");
    expect(get.status).toBe(404);
    expectNothingOfB(get);
    expect((await ca.call("DELETE", "/v1/namespaces/shared/schema")).status).toBe(404);
    expect((await ca.call("PUT", "/v1/namespaces/shared/schema", { jsonSchema: { type: "string" } })).status).toBe(201);
    // B's schema still applies to B: a string is refused there
    expect((await cb.put("shared", "x", { value: "not an object" })).status).toBe(422);
    expect((await ca.call("DELETE", "/v1/namespaces/shared/schema")).status).toBe(204);
  });

  test("B's install id under A's tenant: reads see nothing of B; writes are refused without details", async () => {
    const impostor = client(server.url, await tokenFor({ ...b, tenantId: a.tenantId }, ALL));
    expect((await impostor.get("shared", "b-secret-1")).status).toBe(404);
    expect((await impostor.list("shared")).body).toEqual({ items: [], cursor: null });
    const usage = await impostor.call("GET", "/v1/usage");
    expect([usage.body.bytesUsed, usage.body.recordCount, usage.body.limits.maxRecords]).toEqual([
      0,
      0,
      server.config.limits.quotaRecords,
    ]);
    expect((await impostor.call("GET", "/v1/namespaces/shared/schema")).status).toBe(404);
    // the contract's 403: the install id is taken. Nothing more is said.
    for (const res of [
      await impostor.put("shared", "b-secret-1", { value: 1 }),
      await impostor.call("PUT", "/v1/namespaces/shared/schema", { jsonSchema: true }),
    ]) {
      expect([res.status, res.body.error.code, res.body.error.details]).toEqual([403, "FORBIDDEN", undefined]);
      expectNothingOfB(res);
    }
  });

  test("B's data, usage, limits and schema are exactly as they were", async () => {
    expect(await snapshot()).toEqual(before);
  });
});
