import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { newInstall, startServer, TEST_SECRET, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
let small: TestServer;
beforeAll(async () => {
  server = await startServer();
  small = await startServer({ STORAGE_MAX_BODY_BYTES: "2048", STORAGE_MAX_VALUE_BYTES: "1000" });
});
afterAll(async () => {
  await server.close();
  await small.close();
});

const raw = (
  base: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: BodyInit } = {},
) =>
  fetch(base + path, { method, headers: init.headers, body: init.body }).then(async (res) => ({
    status: res.status,
    headers: res.headers,
    text: await res.text(),
  }));

const expectError = (res: { status: number; headers: Headers; text: string }, status: number, code: string) => {
  expect([res.status, res.headers.get("content-type")]).toEqual([status, "application/json"]);
  const body = JSON.parse(res.text);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(Object.keys(body)).toEqual(["error"]);
  expect(res.headers.get("x-request-id")).toBeTruthy();
  expect(res.text).not.toMatch(/\bat .*\.ts|select |insert |ext_storage_/i);
  return body.error;
};

const PATH = "/v1/namespaces/ns/records/k";

describe("errors", () => {
  test("401: missing, malformed, wrongly signed or expired tokens", async () => {
    const install = newInstall();
    const headers: Record<string, string>[] = [
      {},
      { authorization: "Bearer x.y.z" },
      {
        authorization: `Bearer ${await tokenFor(install, "storage:read", { secret: "another-secret-0123456789-0123456789" })}`,
      },
      { authorization: `Bearer ${await tokenFor(install, "storage:read", { audience: "other" })}` },
      { authorization: `Token ${await tokenFor(install)}` },
    ];
    for (const h of headers) expectError(await raw(server.url, "GET", PATH, { headers: h }), 401, "UNAUTHENTICATED");
  });

  test("precedence: 401 before 403 before 415 before 400", async () => {
    const install = newInstall();
    // no token, wrong content type, malformed body: 401
    expectError(
      await raw(server.url, "PUT", PATH, { headers: { "content-type": "text/plain" }, body: "{" }),
      401,
      "UNAUTHENTICATED",
    );
    // read-only token on a write with a bad body: 403
    const reader = { authorization: `Bearer ${await tokenFor(install, "storage:read")}` };
    expectError(
      await raw(server.url, "PUT", PATH, { headers: { ...reader, "content-type": "text/plain" }, body: "{" }),
      403,
      "FORBIDDEN",
    );
    // writer with a wrong content type and malformed body: 415
    const writer = { authorization: `Bearer ${await tokenFor(install, "storage:write")}` };
    expectError(
      await raw(server.url, "PUT", PATH, { headers: { ...writer, "content-type": "text/plain" }, body: "{" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    // bad query with no token: 401
    expectError(await raw(server.url, "GET", "/v1/namespaces/ns/records?limit=0"), 401, "UNAUTHENTICATED");
    // a writer cannot read
    expectError(await raw(server.url, "GET", PATH, { headers: writer }), 403, "FORBIDDEN");
  });

  test("415: anything but application/json", async () => {
    const auth = { authorization: `Bearer ${await tokenFor(newInstall())}` };
    for (const type of [
      undefined,
      "text/plain",
      "application/xml",
      "application/json; charset=latin1",
      "application/jsonx",
    ]) {
      const headers = type === undefined ? auth : { ...auth, "content-type": type };
      expectError(await raw(server.url, "PUT", PATH, { headers, body: '{"value":1}' }), 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]) {
      const res = await raw(server.url, "PUT", PATH, {
        headers: { ...auth, "content-type": type },
        body: '{"value":1}',
      });
      expect([type, res.status]).toEqual([type, res.status === 201 ? 201 : 200]);
    }
  });

  test("400: malformed JSON, wrong types, unknown fields, missing value", async () => {
    const headers = { authorization: `Bearer ${await tokenFor(newInstall())}`, "content-type": "application/json" };
    const bodies = [
      "{",
      "",
      "not json",
      '{"value": 1,}',
      "[]",
      "null",
      '"value"',
      "{}",
      '{"val": 1}',
      '{"value": 1, "extra": 2}',
      '{"value": 1, "ttlSeconds": "5"}',
      '{"value": 1, "__proto__": {"x": 1}}',
      '{"value": "a\\u0000b"}',
      '{"value": "\\ud800"}',
      '{"value": {"\\u0000": 1}}',
      '{"value": 1e400}',
      `{"value": ${"[".repeat(33)}${"]".repeat(33)}}`,
      `{"value": ${"[".repeat(100_000)}`,
    ];
    for (const body of bodies) {
      const error = expectError(await raw(server.url, "PUT", PATH, { headers, body }), 400, "INVALID_REQUEST");
      expect(error.message.length).toBeGreaterThan(0);
    }
    const ok = await raw(server.url, "PUT", PATH, { headers, body: `{"value": ${"[".repeat(32)}${"]".repeat(32)}}` });
    expect(ok.status).toBe(201);
    const invalidUtf8 = new Uint8Array([
      ...new TextEncoder().encode('{"value": "'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('"}'),
    ]);
    expectError(await raw(server.url, "PUT", PATH, { headers, body: invalidUtf8 }), 400, "INVALID_REQUEST");
  });

  test("413: an oversize body (declared or streamed) and an oversize value", async () => {
    const headers = { authorization: `Bearer ${await tokenFor(newInstall())}`, "content-type": "application/json" };
    const big = JSON.stringify({ value: "x".repeat(3000) });
    expectError(await raw(small.url, "PUT", PATH, { headers, body: big }), 413, "PAYLOAD_TOO_LARGE");
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    expectError(await raw(small.url, "PUT", PATH, { headers, body: stream }), 413, "PAYLOAD_TOO_LARGE");
    const value = expectError(
      await raw(small.url, "PUT", PATH, { headers, body: JSON.stringify({ value: "x".repeat(999) }) }),
      413,
      "VALUE_TOO_LARGE",
    );
    expect(value.details).toEqual({ key: "k", limit: 1000, size: 1001 });
    expect(
      (await raw(small.url, "PUT", PATH, { headers, body: JSON.stringify({ value: "x".repeat(998) }) })).status,
    ).toBe(201);
    // the default value limit is 64 KiB
    const def = await raw(server.url, "PUT", PATH, { headers, body: JSON.stringify({ value: "x".repeat(65_535) }) });
    expectError(def, 413, "VALUE_TOO_LARGE");
  });

  test("404: unknown routes and methods, whatever the token", async () => {
    const auth = { authorization: `Bearer ${await tokenFor(newInstall())}` };
    for (const [method, path] of [
      ["GET", "/nope"],
      ["GET", "/v1"],
      ["POST", PATH],
      ["PATCH", "/v1/namespaces/ns/records"],
      ["GET", "/v1/namespaces/ns/bulk-get"],
      ["GET", "/v2/namespaces/ns/records/k"],
    ] as const) {
      expectError(await raw(server.url, method, path), 404, "NOT_FOUND");
      expectError(await raw(server.url, method, path, { headers: auth }), 404, "NOT_FOUND");
    }
  });

  test("x-request-id: echoed when well-formed, fresh otherwise, on success and error", async () => {
    const auth = { authorization: `Bearer ${await tokenFor(newInstall())}` };
    const echoed = await raw(server.url, "GET", PATH, { headers: { ...auth, "x-request-id": "req-1.a:b_c" } });
    expect(echoed.headers.get("x-request-id")).toBe("req-1.a:b_c");
    const fresh = await raw(server.url, "GET", "/healthz", { headers: { "x-request-id": "bad id with spaces" } });
    expect(fresh.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(fresh.headers.get("x-request-id")).not.toBe("bad id with spaces");
    const long = await raw(server.url, "GET", "/nope", { headers: { "x-request-id": "a".repeat(129) } });
    expect(long.headers.get("x-request-id")).not.toBe("a".repeat(129));
  });
});

describe("database unavailable", () => {
  test("requests get 503 UNAVAILABLE with Retry-After, readiness fails, liveness holds", async () => {
    // the same app on a database that is not there
    const db = connect("postgres://postgres@127.0.0.1:1/none", { poolMax: 1, prepare: true });
    const app = buildApp({
      config: loadConfig({ LOG_LEVEL: "silent" }),
      db,
      log: createLogger("silent"),
      jwtSecret: TEST_SECRET,
    });
    const handle = (path: string, init: RequestInit = {}) => app.handle(new Request(`http://localhost${path}`, init));
    const auth = { authorization: `Bearer ${await tokenFor(newInstall())}` };
    const get = await handle(PATH, { headers: auth });
    expect(get.status).toBe(503);
    expect(get.headers.get("retry-after")).toBe("1");
    expect((await get.json()).error.code).toBe("UNAVAILABLE");
    const put = await handle(PATH, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: '{"value":1}',
    });
    expect(put.status).toBe(503);
    expect((await handle("/readyz")).status).toBe(503);
    expect((await handle("/healthz")).status).toBe(200);
    await db.close(0);
  });
});
