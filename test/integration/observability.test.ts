import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { sample, scrape, series } from "../helpers/metrics.ts";
import {
  adminClient,
  client,
  newInstall,
  startServer,
  TEST_SECRET,
  type TestServer,
  tokenFor,
} from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ TTL_LIST_SWEEP_EVERY: "0" });
});
afterAll(() => server.close());

describe("/metrics", () => {
  test("Prometheus text with request latency by route template, never by raw path", async () => {
    const c = client(server.url, await tokenFor(newInstall()));
    await c.put("ns", "secret-key-123", { value: 1 });
    await c.get("ns", "secret-key-123");
    await c.get("ns", "missing");
    await fetch(`${server.url}/no/such/route`);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const routes = series(text, "http_request_duration_seconds_count").map((l) => /route="([^"]*)"/.exec(l)?.[1]);
    expect(routes).toContain("/v1/namespaces/:ns/records/:key");
    expect(routes).toContain("unmatched");
    expect(text).not.toContain("secret-key-123");
    expect(text).not.toContain("/no/such/route");
    expect(
      sample(text, "http_request_duration_seconds_count", {
        route: "/v1/namespaces/:ns/records/:key",
        method: "GET",
        status_class: "4xx",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).toContain("db_query_duration_seconds_bucket");
    expect(text).toContain('query="records.get"');
    expect(text).toContain("db_pool_size 10");
    expect(text).toContain("process_resident_memory_bytes");
  });

  test("rejections are counted by code: quota, revision conflicts, schema violations", async () => {
    const install = newInstall();
    await (await adminClient(server.url)).limits(install, { maxRecords: 1 });
    const c = client(server.url, await tokenFor(install, "storage:read storage:write storage:schema"));
    const before = await scrape(server.url);
    await c.put("ns", "a", { value: 1 });
    await c.put("ns", "b", { value: 1 }); // quota
    await c.put("ns", "a", { value: 1 }, { "if-none-match": "*" }); // revision
    await c.call("PUT", "/v1/namespaces/typed/schema", { jsonSchema: { type: "string" } });
    await c.put("typed", "a", { value: 1 }); // schema
    const after = await scrape(server.url);
    for (const code of ["QUOTA_EXCEEDED", "REVISION_MISMATCH", "SCHEMA_VIOLATION"]) {
      expect([
        code,
        sample(after, "storage_rejections_total", { code }) - sample(before, "storage_rejections_total", { code }),
      ]).toEqual([code, 1]);
    }
  });

  test("METRICS_TOKEN protects /metrics", async () => {
    const guarded = await startServer({ METRICS_TOKEN: "scrape-me-please" });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer scrape-me-please" } });
      expect(ok.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe("logs", () => {
  test("one JSON line per request, with request id, route, status, duration and an install hash; never keys, values or tokens", async () => {
    const lines: string[] = [];
    const config = loadConfig({ LOG_LEVEL: "info" });
    const db = connect(process.env.DATABASE_URL as string, { poolMax: 2, prepare: true });
    const app = buildApp({ config, db, log: createLogger("info", (line) => lines.push(line)), jwtSecret: TEST_SECRET });
    try {
      const install = newInstall("logged");
      const token = await tokenFor(install);
      const res = await app.handle(
        new Request("http://localhost/v1/namespaces/ns/records/very-private-key", {
          method: "PUT",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "x-request-id": "log-test-1",
          },
          body: JSON.stringify({ value: { secret: "very-private-value" } }),
        }),
      );
      expect(res.status).toBe(201);
      await Bun.sleep(20); // the line is written after the response
      const entry = lines.map((l) => JSON.parse(l)).find((e) => e.requestId === "log-test-1");
      expect(entry).toMatchObject({
        level: "info",
        msg: "request",
        method: "PUT",
        route: "/v1/namespaces/:ns/records/:key",
        status: 201,
        install: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
      });
      expect(typeof entry.ms).toBe("number");
      const all = lines.join("");
      for (const secret of ["very-private-key", "very-private-value", token, install.installId, install.tenantId]) {
        expect(all).not.toContain(secret);
      }
      const quiet: string[] = [];
      const silentApp = buildApp({
        config,
        db,
        log: createLogger("warn", (line) => quiet.push(line)),
        jwtSecret: TEST_SECRET,
      });
      await silentApp.handle(new Request("http://localhost/healthz"));
      await Bun.sleep(20);
      expect(quiet).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
