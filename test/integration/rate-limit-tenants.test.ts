// Rate-limit budgets and other per-install state belong to the (tenant, install) pair: a
// token of another tenant naming an install_id must not spend, or see, the owner's.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { sql } from "../helpers/db.ts";
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
  server = await startServer({ STORAGE_RATE_LIMIT: "5" });
});
afterAll(() => server.close());

test("another tenant exhausting its budget for an install_id leaves the owner's budget whole", async () => {
  const owner = newInstall("owner");
  const ownerClient = client(server.url, await tokenFor(owner));
  expect((await ownerClient.put("ns", "k", { value: 1 })).status).toBe(201);
  const intruder = client(server.url, await tokenFor({ ...owner, tenantId: `${owner.tenantId}-other` }));
  const statuses: number[] = [];
  // burst is 2 × 5 = 10: the intruder's own budget runs out within these 15
  for (let i = 0; i < 15; i++) statuses.push((await intruder.get("ns", "k")).status);
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
  expect(statuses.at(-1)).toBe(429);
  // the owner still has its whole burst (one went on the PUT above)
  const owned: number[] = [];
  for (let i = 0; i < 9; i++) owned.push((await ownerClient.get("ns", "k")).status);
  expect(owned).toEqual(Array(9).fill(200));
});

test("a schema validator compiled for one tenant's install is never used for another's", async () => {
  // An install_id whose usage row is gone (purged, or cleaned up by a DBA) can be taken by
  // another tenant, whose schema versions start again and may equal the first owner's. Its
  // values must be checked against its own schema.
  const first = newInstall("schema-a");
  const a = client(server.url, await tokenFor(first, "storage:read storage:write storage:schema"));
  expect((await a.call("PUT", "/v1/namespaces/ns/schema", { jsonSchema: { type: "number" } })).status).toBe(201);
  const version = (await a.call("GET", "/v1/namespaces/ns/schema")).body.version;
  expect((await a.put("ns", "k", { value: 1 })).status).toBe(201); // the validator is now cached
  expect((await (await adminClient(server.url)).purge(first)).status).toBe(204);
  await sql`delete from ext_storage_usage where install_id = ${first.installId}`;

  const second = { ...first, tenantId: `${first.tenantId}-next` };
  const b = client(server.url, await tokenFor(second, "storage:read storage:write storage:schema"));
  const put = await b.call("PUT", "/v1/namespaces/ns/schema", { jsonSchema: { type: "string" } });
  expect([put.status, put.body.version]).toEqual([201, version]);
  const written = await b.put("ns", "k", { value: 1 });
  expect([written.status, written.body?.error?.code]).toEqual([422, "SCHEMA_VIOLATION"]);
  expect((await b.put("ns", "k", { value: "text" })).status).toBe(201);
});

test("log lines tell the owner's requests from another tenant's naming the same install_id", async () => {
  const lines: string[] = [];
  const config = loadConfig({ LOG_LEVEL: "info", STORAGE_RATE_LIMIT: "0" });
  const db = connect(process.env.DATABASE_URL as string, { poolMax: 2, prepare: true });
  const app = buildApp({ config, db, log: createLogger("info", (line) => lines.push(line)), jwtSecret: TEST_SECRET });
  try {
    const owner = newInstall("logged");
    const other = { ...owner, tenantId: `${owner.tenantId}-other` };
    for (const [who, requestId] of [
      [owner, "tenant-log-1"],
      [other, "tenant-log-2"],
    ] as const) {
      const res = await app.handle(
        new Request("http://localhost/v1/usage", {
          headers: { authorization: `Bearer ${await tokenFor(who)}`, "x-request-id": requestId },
        }),
      );
      expect(res.status).toBe(200);
    }
    // lines are written after the response: wait for both (bounded), however busy the machine
    const logged = () => lines.map((l) => JSON.parse(l)).filter((e) => String(e.requestId).startsWith("tenant-log-"));
    for (let i = 0; i < 100 && logged().length < 2; i++) await Bun.sleep(20);
    const entries = logged();
    expect(entries).toHaveLength(2);
    const [first, second] = entries;
    expect(first.install).toBe(second.install);
    expect(first.tenant).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(second.tenant).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(first.tenant).not.toBe(second.tenant);
    expect(lines.join("")).not.toContain(owner.tenantId);
  } finally {
    await db.close();
  }
});
