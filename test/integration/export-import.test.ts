import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp, serveOptions } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { sql, storedRows } from "../helpers/db.ts";
import { freePort } from "../helpers/postgres.ts";
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
let admin: Awaited<ReturnType<typeof adminClient>>;
let adminToken: string;
beforeAll(async () => {
  server = await startServer();
  admin = await adminClient(server.url);
  adminToken = await tokenFor({}, "storage:admin");
});
afterAll(() => server.close());

type Ref = { tenantId: string; installId: string };
const base = (i: Ref) => `/admin/v1/tenants/${i.tenantId}/installs/${i.installId}`;

async function exportText(i: Ref, token = adminToken) {
  const res = await fetch(`${server.url}${base(i)}/export`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}
const linesOf = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    // biome-ignore lint/suspicious/noExplicitAny: lines are checked field by field
    .map((l) => JSON.parse(l) as any);

async function importText(i: Ref, body: string, type = "application/x-ndjson", token = adminToken) {
  const res = await fetch(`${server.url}${base(i)}/import`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

const header = (i: Ref) =>
  JSON.stringify({ type: "install", format: 1, ...i, extensionId: "ext", exportedAt: new Date().toISOString() });
const rec = (namespace: string, key: string, value: unknown, expiresAt: string | null = null) =>
  JSON.stringify({ type: "record", namespace, key, value, expiresAt });
const end = (records: number, schemas = 0) => JSON.stringify({ type: "end", records, schemas });
const ndjson = (...lines: string[]) => `${lines.join("\n")}\n`;

/** Nothing of the install was written: no rows, no schema, default limits, zero usage. */
async function expectUntouched(i: Ref) {
  expect(await storedRows(i.installId)).toBe(0);
  const [schemas] = await sql`select count(*)::int as n from ext_storage_schemas where install_id = ${i.installId}`;
  expect(schemas?.n).toBe(0);
  const usage = await admin.usage(i);
  expect([usage.body.bytesUsed, usage.body.recordCount, usage.body.limits.maxRecords]).toEqual([0, 0, 50_000]);
}

describe("export and import of an install", () => {
  test("a small install goes out and back: values, expiries, schemas, limits", async () => {
    const install = newInstall("xi");
    const c = client(server.url, await tokenFor(install, "storage:read storage:write storage:schema"));
    expect(
      (await c.call("PUT", "/v1/namespaces/s/schema", { jsonSchema: { type: "object" }, defaultTtlSeconds: 3600 }))
        .status,
    ).toBe(201);
    await c.put("s", "with default ttl", { value: { b: 1, a: 2 } });
    await c.put("n", "tiny", { value: 5e-324 });
    await c.put("n", "big", { value: 1e300 });
    const at = new Date(Date.now() + 86_400_000).toISOString();
    await c.put("n", "k/ü %", { value: ["x", null, true], expiresAt: at });
    await admin.limits(install, { maxRecords: 1000 });

    const out = await exportText(install);
    expect([out.status, out.type]).toEqual([200, "application/x-ndjson"]);
    const lines = linesOf(out.text);
    expect(lines.map((l) => l.type)).toEqual([
      "install",
      "limits",
      "schema",
      "record",
      "record",
      "record",
      "record",
      "end",
    ]);
    expect(lines[1]).toEqual({ type: "limits", maxBytes: null, maxRecords: 1000 });
    expect(lines[2]).toEqual({
      type: "schema",
      namespace: "s",
      jsonSchema: { type: "object" },
      defaultTtlSeconds: 3600,
      maxValueBytes: null,
    });
    // values exactly as reads return them, member order and number form included
    expect(out.text).toContain('"key":"tiny","value":5e-324,');
    expect(out.text).toContain('"key":"big","value":1e+300,');
    expect(out.text).toContain('"value":{"b":1,"a":2},');
    expect(lines.find((l) => l.key === "k/ü %").expiresAt).toBe(at);
    expect(lines.at(-1)).toEqual({ type: "end", records: 4, schemas: 1 });

    expect((await admin.purge(install)).status).toBe(204);
    const back = await importText(install, out.text);
    expect(back.status).toBe(200);
    expect(back.body.records).toBe(4);
    expect(back.body.skippedExpired).toBe(0);
    expect(back.body.schemas).toBe(1);
    const again = await exportText(install);
    const strip = (text: string) => linesOf(text).filter((l) => l.type !== "install");
    expect(strip(again.text)).toEqual(strip(out.text));
    const got = await fetch(`${server.url}/v1/namespaces/s/records/${encodeURIComponent("with default ttl")}`, {
      headers: { authorization: `Bearer ${await tokenFor(install)}` },
    });
    expect((await got.text()).startsWith('{"key":"with default ttl","value":{"b":1,"a":2},')).toBe(true);
  });

  test("a bad line in the middle refuses the whole import, naming the line", async () => {
    const install = newInstall("xb");
    const body = ndjson(
      header(install),
      JSON.stringify({ type: "limits", maxBytes: null, maxRecords: 10 }),
      rec("ns", "a", 1),
      rec("ns", "b", 2),
      "{not json",
      rec("ns", "c", 3),
      end(3),
    );
    const res = await importText(install, body);
    expect([res.status, res.body.error.code, res.body.error.details]).toEqual([400, "INVALID_REQUEST", { line: 5 }]);
    expect(res.body.error.message).toStartWith("line 5:");
    await expectUntouched(install);
    for (const [line, bad] of [
      ['{"type":"record","namespace":"ns","key":"x","value":1,"expiresAt":"2027-02-30T00:00:00Z"}', "expiresAt"],
      ['{"type":"record","namespace":"ns","key":"x","value":1}', "expiresAt"],
      ['{"type":"record","namespace":"n s","key":"x","value":1,"expiresAt":null}', "namespace"],
      ['{"type":"record","namespace":"ns","key":"a","value":1,"expiresAt":null}', "line 3"],
      ['{"type":"frobnicate"}', "type"],
    ]) {
      const r = await importText(
        install,
        ndjson(header(install), rec("ns", "q", 0), rec("ns", "a", 1), line as string, end(3)),
      );
      expect([r.status, r.body.error.details.line]).toEqual([400, 4]);
      expect(r.body.error.message).toContain(bad as string);
    }
    await expectUntouched(install);
  });

  test("an imported schema in another dialect or over the compile cap is a 400 naming its line, never a 500", async () => {
    const install = newInstall("xd");
    const schemaLine = (jsonSchema: unknown) =>
      JSON.stringify({ type: "schema", namespace: "ns", jsonSchema, defaultTtlSeconds: null, maxValueBytes: null });
    const dependentRequired = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`p${i}`, Array.from({ length: 20 }, (_, j) => `p${j}`)]),
    );
    for (const [jsonSchema, says] of [
      [{ $schema: "http://json-schema.org/draft-07/schema#", type: "object" }, "only JSON Schema draft 2020-12"],
      [{ $schema: "https://json-schema.org/draft/2019-09/schema" }, "only JSON Schema draft 2020-12"],
      [{ $schema: 1 }, "only JSON Schema draft 2020-12"],
      [{ dependentRequired }, "compile units"],
    ] as const) {
      const res = await importText(install, ndjson(header(install), schemaLine(jsonSchema), end(0, 1)));
      expect([res.status, res.body.error.code, res.body.error.details.line]).toEqual([400, "INVALID_REQUEST", 2]);
      expect(res.body.error.message).toStartWith("line 2:");
      expect(res.body.error.message).toContain(says);
    }
    await expectUntouched(install);
  });

  test("a stream cut short (no end line, or counts that disagree) writes nothing", async () => {
    const install = newInstall("xc");
    const cut = await importText(install, ndjson(header(install), rec("ns", "a", 1)));
    expect([cut.status, cut.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    const miscounted = await importText(install, ndjson(header(install), rec("ns", "a", 1), end(2)));
    expect([miscounted.status, miscounted.body.error.details]).toEqual([400, { line: 3 }]);
    const noHeader = await importText(install, ndjson(rec("ns", "a", 1), end(1)));
    expect([noHeader.status, noHeader.body.error.details]).toEqual([400, { line: 1 }]);
    await expectUntouched(install);
  });

  test("a schema violation refuses the whole import (422, every failing line)", async () => {
    const install = newInstall("xs");
    const schema = JSON.stringify({
      type: "schema",
      namespace: "s",
      jsonSchema: { type: "integer" },
      defaultTtlSeconds: null,
      maxValueBytes: 8,
    });
    const res = await importText(
      install,
      ndjson(
        header(install),
        schema,
        rec("s", "ok", 1),
        rec("s", "bad", "text"),
        rec("other", "free", "text"),
        rec("s", "worse", true),
        end(4, 1),
      ),
    );
    expect([res.status, res.body.error.code]).toEqual([422, "SCHEMA_VIOLATION"]);
    expect(res.body.error.details.errors.map((e: { line: number }) => e.line)).toEqual([4, 6]);
    // the namespace's own value limit holds too: 413 before 422
    const big = await importText(
      install,
      ndjson(header(install), schema, rec("s", "long", "0123456789"), rec("s", "bad", "x"), end(2, 1)),
    );
    expect([big.status, big.body.error.code, big.body.error.details.failed[0].line]).toEqual([
      413,
      "VALUE_TOO_LARGE",
      3,
    ]);
    await expectUntouched(install);
  });

  test("a quota breach under the imported limits refuses the whole import", async () => {
    const install = newInstall("xq");
    const limits = JSON.stringify({ type: "limits", maxBytes: null, maxRecords: 2 });
    const res = await importText(
      install,
      ndjson(header(install), limits, rec("ns", "a", 1), rec("ns", "b", 2), rec("ns", "c", 3), end(3)),
    );
    expect([res.status, res.body.error.code, res.body.error.details]).toEqual([
      403,
      "QUOTA_EXCEEDED",
      { kind: "records", limit: 2, used: 0, requested: 3 },
    ]);
    await expectUntouched(install);
    // without a limits line, the install's own limits decide
    await admin.limits(install, { maxBytes: 10 });
    const bytes = await importText(install, ndjson(header(install), rec("ns", "abcdef", "0123456789"), end(1)));
    expect([bytes.status, bytes.body.error.details.kind]).toEqual([403, "bytes"]);
    expect(await storedRows(install.installId)).toBe(0);
  });

  test("records expired by the time of the import are skipped and counted", async () => {
    const install = newInstall("xe");
    const past = new Date(Date.now() - 1000).toISOString();
    const res = await importText(
      install,
      ndjson(header(install), rec("ns", "gone", 1, past), rec("ns", "kept", 2), end(2)),
    );
    expect([res.status, res.body.records, res.body.skippedExpired]).toEqual([200, 1, 1]);
    expect((await admin.usage(install)).body.recordCount).toBe(1);
  });

  test("only into an empty install: 409 otherwise, and 403 for another tenant's install", async () => {
    const install = newInstall("xn");
    const c = client(server.url, await tokenFor(install));
    await c.put("ns", "there", { value: 1 });
    const res = await importText(install, ndjson(header(install), rec("ns", "new", 1), end(1)));
    expect([res.status, res.body.error.code, res.body.error.details.reason]).toEqual([
      409,
      "CONFLICT",
      "install_not_empty",
    ]);
    expect(await storedRows(install.installId)).toBe(1);
    const other = await importText({ ...install, tenantId: "another-tenant" }, ndjson(header(install), end(0)));
    expect([other.status, other.body.error.code]).toEqual([403, "FORBIDDEN"]);
  });

  test("scope, tenant and content type: 403 without admin, another tenant sees nothing, 415", async () => {
    const install = newInstall("xa");
    const token = await tokenFor(install, "storage:read storage:write storage:schema");
    await client(server.url, token).put("ns", "secret", { value: "s" });
    expect((await exportText(install, token)).status).toBe(403);
    const refused = await importText(newInstall(), ndjson(header(install), end(0)), "application/x-ndjson", token);
    expect([refused.status, refused.body.error.code]).toEqual([403, "FORBIDDEN"]);
    const anonymous = await fetch(`${server.url}${base(install)}/export`);
    expect(anonymous.status).toBe(401);
    // the same install id under another tenant, and an install never seen: a valid empty export
    for (const ref of [{ ...install, tenantId: "someone-else" }, newInstall()]) {
      const out = await exportText(ref);
      expect(out.status).toBe(200);
      expect(out.text).not.toContain("secret");
      const lines = linesOf(out.text);
      expect(lines.map((l) => l.type)).toEqual(["install", "limits", "end"]);
      expect(lines[1]).toEqual({ type: "limits", maxBytes: null, maxRecords: null });
    }
    const json = await importText(newInstall(), ndjson(header(install), end(0)), "application/json");
    expect([json.status, json.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
  });

  test("a body or a line over its limit is a 413 and writes nothing", async () => {
    const small = await startServer({
      STORAGE_MAX_IMPORT_BYTES: "2048",
      STORAGE_MAX_BODY_BYTES: "1024",
      STORAGE_MAX_VALUE_BYTES: "64",
    });
    try {
      const install = newInstall("xl");
      const call = (body: string) =>
        fetch(`${small.url}${base(install)}/import`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/x-ndjson" },
          body,
        }).then(async (r) => [r.status, ((await r.json()) as { error: { code: string } }).error.code]);
      const lines = Array.from({ length: 40 }, (_, i) => rec("ns", `k${i}`, i));
      expect(await call(ndjson(header(install), ...lines, end(40)))).toEqual([413, "PAYLOAD_TOO_LARGE"]);
      expect(await call(ndjson(header(install), rec("ns", "k", "x".repeat(6000)), end(1)))).toEqual([
        413,
        "PAYLOAD_TOO_LARGE",
      ]);
      expect(await storedRows(install.installId)).toBe(0);
    } finally {
      await small.close();
    }
  });

  test("a database that cannot answer is a 503 for both, never a 200 cut short", async () => {
    const config = loadConfig({ ...process.env, STORAGE_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent" });
    const db = connect(`postgres://nobody@127.0.0.1:${await freePort()}/none`, { poolMax: 1, prepare: true });
    const app = buildApp({ config, db, log: createLogger("silent"), jwtSecret: TEST_SECRET });
    app.listen({ port: 0, hostname: "127.0.0.1", ...serveOptions(config) });
    try {
      const url = `http://127.0.0.1:${app.server?.port}${base(newInstall())}`;
      const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/x-ndjson" };
      const out = await fetch(`${url}/export`, { headers });
      const into = await fetch(`${url}/import`, {
        method: "POST",
        headers,
        body: ndjson(header(newInstall()), end(0)),
      });
      for (const res of [out, into]) {
        expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
          503,
          "UNAVAILABLE",
        ]);
      }
    } finally {
      await app.server?.stop(true);
      await db.close(0);
    }
  });
});
