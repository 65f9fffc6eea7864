// Conditional GET (If-None-Match → 304) and HEAD, over real HTTP.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const recordPath = "/v1/namespaces/ns/records/k";

async function setup() {
  const install = newInstall("cond");
  const token = await tokenFor(install, "storage:read storage:write storage:schema");
  const c = client(server.url, token);
  const put = await c.put("ns", "k", { value: { hello: "world" } });
  expect(put.status).toBe(201);
  const etag = put.headers.get("etag") as string;
  return { c, token, etag, revision: Number(JSON.parse(etag)) };
}

/** A raw request: the body as text, so a 304 or a HEAD can be checked for having none. */
async function raw(method: string, path: string, token: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe("conditional GET", () => {
  test("If-None-Match naming the live revision answers 304 with the ETag and no body", async () => {
    const { token, etag, revision } = await setup();
    for (const value of [
      etag,
      `W/${etag}`,
      "*",
      `"0", ${etag}`,
      `W/"999999", W/${etag}, "x"`,
      ` ${etag} `,
      String(revision),
      `"not-a-revision", ${etag}`,
    ]) {
      const res = await raw("GET", recordPath, token, { "if-none-match": value, "x-request-id": "cond-304" });
      expect([value, res.status, res.text]).toEqual([value, 304, ""]);
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("x-request-id")).toBe("cond-304");
      expect(res.headers.get("vary")).toBe("authorization");
    }
  });

  test("a tag that does not match answers the record as usual", async () => {
    const { token, etag, revision } = await setup();
    for (const value of [`"${revision + 1}"`, `W/"${revision - 1}", "${revision + 7}"`, `"abc"`, `"${revision}0"`]) {
      const res = await raw("GET", recordPath, token, { "if-none-match": value });
      expect([value, res.status]).toEqual([value, 200]);
      expect(res.headers.get("etag")).toBe(etag);
      expect(JSON.parse(res.text).value).toEqual({ hello: "world" });
      expect(res.headers.get("vary")).toBe("authorization");
    }
  });

  test("after a write the old tag no longer matches; an absent record stays a 404", async () => {
    const { c, token, etag } = await setup();
    const put = await c.put("ns", "k", { value: 2 });
    expect(put.status).toBe(200);
    const changed = await raw("GET", recordPath, token, { "if-none-match": etag });
    expect([changed.status, changed.headers.get("etag")]).toEqual([200, put.headers.get("etag")]);
    for (const value of ["*", etag, put.headers.get("etag") as string]) {
      const absent = await raw("GET", "/v1/namespaces/ns/records/nothing-here", token, { "if-none-match": value });
      expect([absent.status, JSON.parse(absent.text).error.code]).toEqual([404, "NOT_FOUND"]);
    }
  });

  test("an expired record is a 404 whatever If-None-Match says", async () => {
    const { c, token } = await setup();
    const put = await c.put("ns", "short", { value: 1, ttlSeconds: 1 });
    expect(put.status).toBe(201);
    await Bun.sleep(1100);
    for (const value of ["*", put.headers.get("etag") as string]) {
      const res = await raw("GET", "/v1/namespaces/ns/records/short", token, { "if-none-match": value });
      expect([value, res.status]).toEqual([value, 404]);
    }
  });

  test("a malformed If-None-Match is a 400 INVALID_REQUEST, after the token is checked", async () => {
    const { token } = await setup();
    for (const value of ["", "abc", '"12', '12"', '*, "1"', '"1" "2"', "W/1", 'w/"1"', '"1",,x']) {
      const res = await raw("GET", recordPath, token, { "if-none-match": value });
      expect([value, res.status, JSON.parse(res.text).error.code]).toEqual([value, 400, "INVALID_REQUEST"]);
    }
    const unauthenticated = await raw("GET", recordPath, undefined, { "if-none-match": "abc" });
    expect(unauthenticated.status).toBe(401);
  });

  test("PUT keeps its meaning: If-None-Match: * creates only, a tag list is a 400", async () => {
    const { c, etag } = await setup();
    const exists = await c.put("ns", "k", { value: 3 }, { "if-none-match": "*" });
    expect([exists.status, exists.body.error.code]).toEqual([412, "REVISION_MISMATCH"]);
    const created = await c.put("ns", "new", { value: 3 }, { "if-none-match": "*" });
    expect(created.status).toBe(201);
    const tags = await c.put("ns", "k", { value: 3 }, { "if-none-match": etag });
    expect([tags.status, tags.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
  });
});

describe("HEAD", () => {
  test("HEAD of a record answers like GET without a body", async () => {
    const { token, etag } = await setup();
    const get = await raw("GET", recordPath, token);
    const head = await raw("HEAD", recordPath, token, { "x-request-id": "head-1" });
    expect([head.status, head.text]).toEqual([200, ""]);
    expect(head.headers.get("etag")).toBe(etag);
    expect(head.headers.get("content-type")).toBe("application/json");
    expect(head.headers.get("content-length")).toBe(String(new TextEncoder().encode(get.text).length));
    expect(head.headers.get("x-request-id")).toBe("head-1");
    const notModified = await raw("HEAD", recordPath, token, { "if-none-match": etag });
    expect([notModified.status, notModified.text, notModified.headers.get("etag")]).toEqual([304, "", etag]);
  });

  test("HEAD of an absent record is a 404; without a token a 401; a malformed header a 400; all without a body", async () => {
    const { token } = await setup();
    const absent = await raw("HEAD", "/v1/namespaces/ns/records/none", token, { "x-request-id": "head-2" });
    expect([absent.status, absent.text, absent.headers.get("x-request-id")]).toEqual([404, "", "head-2"]);
    expect(absent.headers.get("content-type")).toBe("application/json");
    expect((await raw("HEAD", recordPath, undefined)).status).toBe(401);
    expect((await raw("HEAD", recordPath, token, { "if-none-match": "abc" })).status).toBe(400);
  });

  test("HEAD of the other GET routes answers like GET without a body", async () => {
    const { c, token } = await setup();
    expect((await c.call("PUT", "/v1/namespaces/ns/schema", { jsonSchema: true })).status).toBe(201);
    for (const path of [
      "/v1/namespaces/ns/records?limit=5",
      "/v1/namespaces",
      "/v1/usage",
      "/v1/namespaces/ns/schema",
      "/healthz",
      "/readyz",
    ]) {
      const get = await raw("GET", path, token);
      const head = await raw("HEAD", path, token);
      expect([path, head.status, head.text]).toEqual([path, get.status, ""]);
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect(head.headers.get("x-request-id")).toBeTruthy();
    }
    const badQuery = await raw("HEAD", "/v1/namespaces/ns/records?limit=0", token);
    expect([badQuery.status, badQuery.text]).toEqual([400, ""]);
    const unknown = await raw("HEAD", "/v1/nothing", token);
    expect([unknown.status, unknown.text]).toEqual([404, ""]);
  });
});
