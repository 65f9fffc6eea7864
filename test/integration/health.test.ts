import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { startServer, TEST_SECRET, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test("healthz and readyz answer without a token", async () => {
  const health = await fetch(`${server.url}/healthz`);
  expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
  const ready = await fetch(`${server.url}/readyz`);
  expect([ready.status, await ready.json()]).toEqual([200, { status: "ready" }]);
});

test("readyz is 503 while migrations are pending", async () => {
  const base = new URL(process.env.DATABASE_URL as string);
  const name = `unmigrated_${process.pid}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const db = connect(Object.assign(new URL(base), { pathname: `/${name}` }).toString(), { poolMax: 1, prepare: true });
  try {
    await db.transaction(async () => {}); // connects
    const app = buildApp({
      config: loadConfig({ LOG_LEVEL: "silent" }),
      db,
      log: createLogger("silent"),
      jwtSecret: TEST_SECRET,
    });
    const res = await app.handle(new Request("http://localhost/readyz"));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("UNAVAILABLE");
  } finally {
    await db.close(0);
    await admin.unsafe(`drop database ${name} with (force)`);
    await admin.end();
  }
});

test("/openapi.json documents every route, with the request body schemas", async () => {
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  const doc = await res.json();
  expect(doc.openapi).toMatch(/^3\./);
  const paths = Object.keys(doc.paths).sort();
  expect(paths).toEqual(
    [
      "/healthz",
      "/metrics",
      "/readyz",
      "/v1/namespaces",
      "/v1/namespaces/{ns}",
      "/v1/namespaces/{ns}/bulk-delete",
      "/v1/namespaces/{ns}/bulk-get",
      "/v1/namespaces/{ns}/bulk-put",
      "/v1/namespaces/{ns}/records",
      "/v1/namespaces/{ns}/records/{key}",
      "/v1/namespaces/{ns}/schema",
      "/v1/usage",
      "/v1/atomic",
      "/v1/changes",
      "/v1/namespaces/{ns}/changes",
      "/v1/watch",
      "/v1/namespaces/{ns}/watch",
      "/admin/v1/tenants/{tid}/installs/{iid}/usage",
      "/admin/v1/tenants/{tid}/installs/{iid}/limits",
      "/admin/v1/tenants/{tid}/installs/{iid}",
      "/admin/v1/tenants/{tid}/installs/{iid}/export",
      "/admin/v1/tenants/{tid}/installs/{iid}/import",
    ].sort(),
  );
  const put = doc.paths["/v1/namespaces/{ns}/records/{key}"].put;
  const schema = put.requestBody.content["application/json"].schema;
  expect(schema.required).toContain("value");
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.properties).sort()).toEqual(["expiresAt", "ttlSeconds", "value"]);
  // PATCH takes any JSON value (a merge patch); atomic documents every check and op
  expect(doc.paths["/v1/namespaces/{ns}/records/{key}"].patch).toBeDefined();
  const atomic = doc.paths["/v1/atomic"].post.requestBody.content["application/json"].schema;
  expect(Object.keys(atomic.properties).sort()).toEqual(["checks", "ops"]);
  expect(
    atomic.properties.ops.items.anyOf.map((v: { properties: { op: { const: string } } }) => v.properties.op.const),
  ).toEqual(["set", "delete", "increment", "merge"]);
});

test("/openapi.json names each request body's media types as the route takes them, the preferred first", async () => {
  // biome-ignore lint/suspicious/noExplicitAny: the served OpenAPI document
  const doc: any = await (await fetch(`${server.url}/openapi.json`)).json();
  const types: Record<string, string[]> = {};
  for (const [path, operations] of Object.entries<Record<string, { requestBody?: { content: object } }>>(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.requestBody !== undefined) types[`${method} ${path}`] = Object.keys(operation.requestBody.content);
    }
  }
  const json = ["application/json"];
  expect(types).toEqual({
    "put /v1/namespaces/{ns}/records/{key}": json,
    "patch /v1/namespaces/{ns}/records/{key}": ["application/merge-patch+json", "application/json"],
    "post /v1/namespaces/{ns}/bulk-get": json,
    "post /v1/namespaces/{ns}/bulk-put": json,
    "post /v1/namespaces/{ns}/bulk-delete": json,
    "post /v1/atomic": json,
    "put /v1/namespaces/{ns}/schema": json,
    "put /admin/v1/tenants/{tid}/installs/{iid}/limits": json,
    "post /admin/v1/tenants/{tid}/installs/{iid}/import": ["application/x-ndjson", "application/jsonl"],
  });
  const patch = doc.paths["/v1/namespaces/{ns}/records/{key}"].patch.requestBody;
  expect(patch.required).toBe(true);
  expect(patch.content["application/merge-patch+json"].schema.description).toContain("RFC 7396");
});
