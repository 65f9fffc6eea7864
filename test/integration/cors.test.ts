// CORS (STORAGE_CORS_ORIGINS) over real HTTP: preflights, and the headers of every answer to
// an allowed origin, errors included.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp, serveOptions } from "../../src/app.ts";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { sample, scrape } from "../helpers/metrics.ts";
import { newInstall, startServer, TEST_SECRET, type TestServer, tokenFor } from "../helpers/server.ts";

const APP = "https://app.example";
const EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
const METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"];
const REQUEST_HEADERS = [
  "authorization",
  "content-type",
  "if-match",
  "if-none-match",
  "idempotency-key",
  "last-event-id",
  "x-request-id",
];
const EXPOSED = ["etag", "x-request-id", "retry-after", "idempotent-replayed"];

const list = (value: string | null) => (value ?? "").split(",").map((s) => s.trim().toLowerCase());
const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith("access-control-"));

function preflight(base: string, path: string, origin: string, method = "PUT") {
  return fetch(base + path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type, if-match",
    },
  });
}

/** A request as a browser script would send it, from an origin. */
async function call(base: string, method: string, path: string, origin: string | undefined, init: RequestInit = {}) {
  const res = await fetch(base + path, {
    ...init,
    method,
    headers: { ...(origin === undefined ? {} : { origin }), ...(init.headers as Record<string, string>) },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function expectAllowed(headers: Headers, origin: string) {
  expect(headers.get("access-control-allow-origin")).toBe(origin);
  expect(list(headers.get("vary"))).toContain("origin");
  expect(list(headers.get("access-control-expose-headers")).sort()).toEqual([...EXPOSED].sort());
  expect(headers.get("access-control-allow-credentials")).toBeNull();
}

describe("with a list of origins", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ STORAGE_CORS_ORIGINS: ` ${APP} ,${EXTENSION}`, STORAGE_RATE_LIMIT: "2" });
  });
  afterAll(() => server.close());

  test("a preflight from an allowed origin is a 204 naming the origin, methods, headers and a max age", async () => {
    for (const [origin, path] of [
      [APP, "/v1/namespaces/ns/records/k"],
      [EXTENSION, "/v1/namespaces/ns/bulk-put"],
      [APP, "/v1/usage"],
      [APP, "/v1/namespaces/ns/schema"],
      [APP, "/admin/v1/tenants/t/installs/i/limits"],
    ] as const) {
      const res = await preflight(server.url, path, origin);
      expect([path, res.status, await res.text()]).toEqual([path, 204, ""]);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(list(res.headers.get("vary"))).toContain("origin");
      expect(list(res.headers.get("access-control-allow-methods")).sort()).toEqual(
        METHODS.map((m) => m.toLowerCase()).sort(),
      );
      expect(list(res.headers.get("access-control-allow-headers")).sort()).toEqual([...REQUEST_HEADERS].sort());
      expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(res.headers.get("x-request-id")).toBeTruthy();
    }
  });

  test("preflights are counted in the request metrics under their own route label", async () => {
    const labels = { route: "preflight", method: "OPTIONS", status_class: "2xx" };
    const before = sample(await scrape(server.url), "http_request_duration_seconds_count", labels);
    for (let i = 0; i < 3; i++) await (await preflight(server.url, "/v1/usage", APP, "GET")).text();
    const after = sample(await scrape(server.url), "http_request_duration_seconds_count", labels);
    expect(after - before).toBe(3);
  });

  test("a preflight to a path that is no route is a 404 like every method (paths match exactly)", async () => {
    for (const path of ["/v1/no-such-route", "/v1/usage/", "/v1/namespaces/settings/records/", "/v1/namespaces//x"]) {
      const res = await preflight(server.url, path, APP, "GET");
      const body = await res.text();
      expect({ path, status: res.status, code: JSON.parse(body).error.code }).toEqual({
        path,
        status: 404,
        code: "NOT_FOUND",
      });
      // the 404 itself names the origin, as every answer to an allowed origin does
      expectAllowed(res.headers, APP);
    }
    // the same route with a value in every segment is preflighted as usual
    const ok = await preflight(server.url, "/v1/namespaces/settings/records/k", APP, "PUT");
    expect(ok.status).toBe(204);
  });

  test("a preflight from another origin gets no CORS headers", async () => {
    for (const origin of ["https://evil.example", "https://app.example.evil", "https://APP.example", "null"]) {
      const res = await preflight(server.url, "/v1/namespaces/ns/records/k", origin);
      await res.text();
      expect([origin, corsHeaders(res.headers)]).toEqual([origin, []]);
      expect(res.status).toBe(404);
    }
  });

  test("preflights need no token and are not rate limited", async () => {
    const install = newInstall("cors-rate");
    const token = await tokenFor(install);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(server.url, "GET", "/v1/usage", APP, auth)).status);
    expect(statuses.at(-1)).toBe(429);
    for (let i = 0; i < 10; i++) {
      const res = await preflight(server.url, "/v1/usage", APP, "GET");
      expect(res.status).toBe(204);
    }
    const limited = await call(server.url, "GET", "/v1/usage", APP, auth);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "1"]);
    expectAllowed(limited.headers, APP);
  });

  test("every answer to an allowed origin names it and exposes etag, x-request-id, retry-after, idempotent-replayed", async () => {
    const install = newInstall("cors-answers");
    const token = await tokenFor(install);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const path = "/v1/namespaces/ns/records/k";
    const put = await call(server.url, "PUT", path, EXTENSION, { headers, body: JSON.stringify({ value: 1 }) });
    expect(put.status).toBe(201);
    expectAllowed(put.headers, EXTENSION);
    const etag = put.headers.get("etag") as string;
    const get = await call(server.url, "GET", path, EXTENSION, { headers });
    expect(get.status).toBe(200);
    expectAllowed(get.headers, EXTENSION);
    expect(list(get.headers.get("vary")).sort()).toEqual(["authorization", "origin"]);
    const notModified = await call(server.url, "GET", path, EXTENSION, {
      headers: { ...headers, "if-none-match": etag },
    });
    expect(notModified.status).toBe(304);
    expectAllowed(notModified.headers, EXTENSION);
    await Bun.sleep(1100); // the bucket (2/s, burst 4) refills
    const head = await call(server.url, "HEAD", path, EXTENSION, { headers });
    expect([head.status, head.text]).toEqual([200, ""]);
    expectAllowed(head.headers, EXTENSION);
    const unauthenticated = await call(server.url, "GET", path, EXTENSION);
    expect(unauthenticated.status).toBe(401);
    expectAllowed(unauthenticated.headers, EXTENSION);
    const absent = await call(server.url, "GET", "/v1/namespaces/ns/records/none", EXTENSION, { headers });
    expect(absent.status).toBe(404);
    expectAllowed(absent.headers, EXTENSION);
    await Bun.sleep(1100);
    const invalid = await call(server.url, "PUT", path, APP, { headers, body: "{" });
    expect(invalid.status).toBe(400);
    expectAllowed(invalid.headers, APP);
    const plainOptions = await call(server.url, "OPTIONS", path, APP);
    expect(plainOptions.status).toBe(404);
    expectAllowed(plainOptions.headers, APP);
  });

  test("answers to another origin, or to a request without one, carry no CORS headers but Vary: Origin", async () => {
    for (const origin of ["https://evil.example", undefined]) {
      const res = await call(server.url, "GET", "/v1/usage", origin);
      expect([res.status, corsHeaders(res.headers)]).toEqual([401, []]);
      expect(list(res.headers.get("vary"))).toContain("origin");
    }
  });
});

test("a 503 from an unreachable database carries the CORS headers too", async () => {
  const config = loadConfig({
    STORAGE_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: "silent",
    STORAGE_RATE_LIMIT: "0",
    STORAGE_CORS_ORIGINS: APP,
  });
  // a loopback port nothing listens on: every connection is refused
  const db = connect("postgres://postgres@127.0.0.1:9/none", { poolMax: 1, prepare: true });
  const app = buildApp({ config, db, log: createLogger("silent"), jwtSecret: TEST_SECRET });
  app.listen({ port: 0, hostname: "127.0.0.1", ...serveOptions(config) });
  const server = app.server;
  if (server === null) throw new Error("server did not start");
  try {
    const token = await tokenFor(newInstall("cors-503"));
    const res = await call(`http://127.0.0.1:${server.port}`, "GET", "/v1/usage", APP, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect([res.status, JSON.parse(res.text).error.code]).toEqual([503, "UNAVAILABLE"]);
    expectAllowed(res.headers, APP);
  } finally {
    await server.stop(true);
    await db.close(0);
  }
});

describe("with any origin", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ STORAGE_CORS_ORIGINS: "*" });
  });
  afterAll(() => server.close());

  test("preflights and answers allow every origin with *", async () => {
    const res = await preflight(server.url, "/v1/namespaces/ns/records/k", "https://anywhere.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(list(res.headers.get("access-control-allow-headers"))).toContain("authorization");
    const answer = await call(server.url, "GET", "/v1/usage", "https://anywhere.example");
    expect(answer.status).toBe(401);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    expect(list(answer.headers.get("access-control-expose-headers")).sort()).toEqual([...EXPOSED].sort());
  });
});

describe("unset", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test("no CORS headers at all: a preflight is an unknown route, answers name no origin", async () => {
    const res = await preflight(server.url, "/v1/namespaces/ns/records/k", APP);
    await res.text();
    expect([res.status, corsHeaders(res.headers)]).toEqual([404, []]);
    const token = await tokenFor(newInstall("cors-off"));
    const answer = await call(server.url, "GET", "/v1/usage", APP, { headers: { authorization: `Bearer ${token}` } });
    expect([answer.status, corsHeaders(answer.headers), answer.headers.get("vary")]).toEqual([200, [], null]);
  });
});

test("STORAGE_CORS_ORIGINS is read once and refused at start when malformed", () => {
  expect(loadConfig({}).corsOrigins).toBeUndefined();
  expect(loadConfig({ STORAGE_CORS_ORIGINS: "" }).corsOrigins).toBeUndefined();
  expect(loadConfig({ STORAGE_CORS_ORIGINS: " * " }).corsOrigins).toBe("*");
  expect(loadConfig({ STORAGE_CORS_ORIGINS: `${APP}, ${EXTENSION},,http://[::1]:8080` }).corsOrigins).toEqual([
    APP,
    EXTENSION,
    "http://[::1]:8080",
  ]);
  for (const bad of ["https://app.example/", "https://App.example", "app.example", "*, https://a.example", "null"]) {
    expect(() => loadConfig({ STORAGE_CORS_ORIGINS: bad })).toThrow(ConfigError);
  }
});

test("the app's own fetch handler (what Deno serves) answers preflights and decorates answers alike", async () => {
  const config = loadConfig({ STORAGE_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", STORAGE_CORS_ORIGINS: APP });
  const db = connect(process.env.DATABASE_URL as string, { poolMax: 1, prepare: true });
  const app = buildApp({ config, db, log: createLogger("silent"), jwtSecret: TEST_SECRET });
  try {
    const pre = await app.handle(
      new Request("http://localhost/v1/usage", {
        method: "OPTIONS",
        headers: { origin: APP, "access-control-request-method": "GET" },
      }),
    );
    expect([pre.status, pre.headers.get("access-control-allow-origin")]).toEqual([204, APP]);
    const answer = await app.handle(new Request("http://localhost/v1/usage", { headers: { origin: APP } }));
    expect(answer.status).toBe(401);
    expectAllowed(answer.headers, APP);
  } finally {
    await db.close();
  }
});
