// The contract's order of errors, decided before any database work, on the app itself
// (app.handle, no port) with a database that is never reached: 400 Host (checked before
// routing) → 404 path → 401 → 429 → 403 → 415 → 400 body → 413.
import { afterAll, describe, expect, test } from "bun:test";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { mintToken } from "../../src/tokens.ts";

const SECRET = "unit-secret-0123456789-abcdefghijklmnopq";
// nothing listens on port 1: a request that got as far as the database would be a 503
const db = connect("postgres://postgres@127.0.0.1:1/none", { poolMax: 1, prepare: true });
const app = buildApp({
  config: loadConfig({ LOG_LEVEL: "silent", STORAGE_RATE_LIMIT: "1", STORAGE_MAX_BODY_BYTES: "1024" }),
  db,
  log: createLogger("silent"),
  jwtSecret: SECRET,
});
afterAll(() => db.close(0));

let installs = 0;
const tokenOf = (scope: string) => {
  const id = `unit-${process.pid}-${installs++}`;
  return mintToken(
    { tenantId: `t-${id}`, extensionId: `e-${id}`, installId: `i-${id}`, scope },
    { secret: SECRET, audience: "ext-storage" },
  );
};

const PATH = "/v1/namespaces/ns/records/k";

async function answer(method: string, path: string, headers: Record<string, string>, body?: string) {
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  const json = (await response.json()) as { error?: { code: string } };
  return `${response.status} ${json.error?.code ?? "ok"}`;
}

const json = { "content-type": "application/json" };
const text = { "content-type": "text/plain" };

describe("the order of errors on a write with a body", () => {
  test("400: a Host that is not a host, before routing", async () => {
    expect(await answer("PUT", PATH, { host: "a b", ...text }, "{")).toBe("400 INVALID_REQUEST");
    expect(await answer("PUT", `${PATH}/`, { host: "a b", ...text }, "{")).toBe("400 INVALID_REQUEST");
  });

  test("404: a path that is not exactly the route's, before the token", async () => {
    expect(await answer("PUT", `${PATH}/`, text, "{")).toBe("404 NOT_FOUND");
    expect(await answer("PUT", "/v1/namespaces/%2e/records/k", text, "{")).toBe("404 NOT_FOUND");
  });

  test("401: no token or a bad one, before the rate, the scope and the body", async () => {
    expect(await answer("PUT", PATH, text, "{")).toBe("401 UNAUTHENTICATED");
    expect(await answer("PUT", PATH, { authorization: "Bearer nope", ...text }, "{")).toBe("401 UNAUTHENTICATED");
  });

  test("429: over the install's rate, before the scope", async () => {
    const reader = { authorization: `Bearer ${await tokenOf("storage:read")}`, ...text };
    // a burst of twice the rate (1/s) is let through to the scope check, then refused
    expect(await answer("PUT", PATH, reader, "{")).toBe("403 FORBIDDEN");
    expect(await answer("PUT", PATH, reader, "{")).toBe("403 FORBIDDEN");
    expect(await answer("PUT", PATH, reader, "{")).toBe("429 RATE_LIMITED");
  });

  test("403: the scope, before the body", async () => {
    const reader = { authorization: `Bearer ${await tokenOf("storage:read")}` };
    expect(await answer("PUT", PATH, { ...reader, ...text }, "{")).toBe("403 FORBIDDEN");
  });

  test("415, then 400, then 413, for what the body is", async () => {
    const writer = { authorization: `Bearer ${await tokenOf("storage:write")}` };
    expect(await answer("PUT", PATH, { ...writer, ...text }, "{")).toBe("415 UNSUPPORTED_MEDIA_TYPE");
    const writer2 = { authorization: `Bearer ${await tokenOf("storage:write")}` };
    expect(await answer("PUT", PATH, { ...writer2, ...json }, "{")).toBe("400 INVALID_REQUEST");
    expect(await answer("PUT", PATH, { ...writer2, ...json }, '{"value":1,"extra":1}')).toBe("400 INVALID_REQUEST");
    const writer3 = { authorization: `Bearer ${await tokenOf("storage:write")}` };
    const big = JSON.stringify({ value: "x".repeat(2048) });
    expect(await answer("PUT", PATH, { ...writer3, ...json }, big)).toBe("413 PAYLOAD_TOO_LARGE");
  });

  test("an admitted request goes on to the database (here: none, so 503)", async () => {
    const writer = { authorization: `Bearer ${await tokenOf("storage:write")}` };
    expect(await answer("PUT", PATH, { ...writer, ...json }, '{"value":1}')).toBe("503 UNAVAILABLE");
  });
});

describe("a route without a body", () => {
  test("a bad key is a 400 only once the token and scope pass", async () => {
    expect(await answer("GET", "/v1/namespaces/ns/records/%ff", {})).toBe("401 UNAUTHENTICATED");
    const writer = { authorization: `Bearer ${await tokenOf("storage:write")}` };
    expect(await answer("GET", "/v1/namespaces/ns/records/%ff", writer)).toBe("403 FORBIDDEN");
    const reader = { authorization: `Bearer ${await tokenOf("storage:read")}` };
    expect(await answer("GET", "/v1/namespaces/ns/records/%ff", reader)).toBe("400 INVALID_KEY");
    expect(await answer("GET", "/v1/namespaces/-ns/records?limit=0", reader)).toBe("400 INVALID_NAMESPACE");
  });
});
