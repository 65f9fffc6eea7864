import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fileURLToPath } from "node:url";
import { sql, storedRows } from "../helpers/db.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
let admin: Awaited<ReturnType<typeof adminClient>>;
beforeAll(async () => {
  server = await startServer();
  admin = await adminClient(server.url);
});
afterAll(() => server.close());

const ALL = "storage:read storage:write storage:schema";

describe("admin API", () => {
  test("refuses tokens without the admin scope, whatever the install", async () => {
    const install = newInstall();
    const c = client(server.url, await tokenFor(install, ALL));
    const base = `/admin/v1/tenants/${install.tenantId}/installs/${install.installId}`;
    for (const [method, path, body] of [
      ["GET", `${base}/usage`, undefined],
      ["PUT", `${base}/limits`, { maxBytes: 1 }],
      ["DELETE", base, undefined],
    ] as const) {
      const res = await c.call(method, path, body);
      expect([method, res.status, res.body.error.code]).toEqual([method, 403, "FORBIDDEN"]);
      const anonymous = await fetch(server.url + path, { method });
      expect(anonymous.status).toBe(401);
    }
  });

  test("usage of any install: zeros for one never seen, live figures otherwise", async () => {
    const install = newInstall();
    const defaults = { maxBytes: 33_554_432, maxRecords: 50_000, maxValueBytes: 65_536 };
    expect((await admin.usage(install)).body).toEqual({ bytesUsed: 0, recordCount: 0, limits: defaults });
    const c = client(server.url, await tokenFor(install));
    await c.put("ns", "k", { value: "abc" });
    expect((await admin.usage(install)).body).toEqual({ bytesUsed: 6, recordCount: 1, limits: defaults });
    // the same install id under another tenant is another (empty) install
    expect((await admin.usage({ ...install, tenantId: "someone-else" })).body.recordCount).toBe(0);
  });

  test("limits: set, partly changed, reset with null; refused for another tenant's install", async () => {
    const install = newInstall();
    expect((await admin.limits(install, { maxBytes: 100, maxRecords: 5 })).body).toEqual({
      maxBytes: 100,
      maxRecords: 5,
    });
    expect((await admin.limits(install, { maxRecords: 7 })).body).toEqual({ maxBytes: 100, maxRecords: 7 });
    expect((await admin.limits(install, {})).body).toEqual({ maxBytes: 100, maxRecords: 7 });
    expect((await admin.limits(install, { maxBytes: null })).body).toEqual({ maxBytes: 33_554_432, maxRecords: 7 });
    const other = await admin.limits({ ...install, tenantId: "another-tenant" }, { maxBytes: 1 });
    expect([other.status, other.body.error.code]).toEqual([403, "FORBIDDEN"]);
    for (const body of [{ maxBytes: -1 }, { maxBytes: "1" }, { maxBytes: 1.5 }, { other: 1 }]) {
      expect((await admin.limits(install, body)).status).toBe(400);
    }
    // the first write of an install created by the admin API records its extension
    const c = client(server.url, await tokenFor(install));
    expect((await c.put("ns", "k", { value: 1 })).status).toBe(201);
    const [row] = await sql`select extension_id from ext_storage_usage where install_id = ${install.installId}`;
    expect(row?.extension_id).toBe(install.extensionId);
  });

  test("purge removes everything of the install, touches no other, and is idempotent", async () => {
    const doomed = newInstall();
    const neighbour = { ...newInstall(), tenantId: doomed.tenantId };
    for (const install of [doomed, neighbour]) {
      const c = client(server.url, await tokenFor(install, ALL));
      await c.bulk("ns", "bulk-put", { items: ["a", "b", "c"].map((key) => ({ key, value: key })) });
      await c.call("PUT", "/v1/namespaces/ns/schema", { jsonSchema: { type: "string" } });
    }
    expect((await admin.purge(doomed)).status).toBe(204);
    const left = await sql`select
      (select count(*) from ext_storage_records where install_id = ${doomed.installId})::int as records,
      (select count(*) from ext_storage_schemas where install_id = ${doomed.installId})::int as schemas,
      (select count(*) from ext_storage_usage where install_id = ${doomed.installId})::int as usage`;
    // the usage row stays as the install's tombstone (see purge.test.ts)
    expect(left[0]).toEqual({ records: 0, schemas: 0, usage: 1 });
    expect(await storedRows(neighbour.installId)).toBe(3);
    const n = client(server.url, await tokenFor(neighbour, ALL));
    expect((await n.call("GET", "/v1/namespaces/ns/schema")).status).toBe(200);
    expect((await admin.purge(doomed)).status).toBe(204);
    expect((await admin.purge(newInstall())).status).toBe(204);
    // a purge under the wrong tenant touches nothing
    expect((await admin.purge({ ...neighbour, tenantId: "wrong" })).status).toBe(204);
    expect(await storedRows(neighbour.installId)).toBe(3);
  });

  test("ids outside the alphabet are a 400", async () => {
    for (const path of [
      "/admin/v1/tenants/a%20b/installs/i/usage",
      "/admin/v1/tenants/t/installs/%ZZ/usage",
      `/admin/v1/tenants/t/installs/${"i".repeat(129)}/usage`,
    ]) {
      const res = await admin.call("GET", path);
      expect([path, res.status]).toEqual([path, 400]);
    }
  });
});

describe("reconciliation", () => {
  const run = async () => {
    const proc = Bun.spawn(["bun", "src/cli/reconcile.ts"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { ...process.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    return { code, out };
  };

  test("reports no drift after everything the suite did, and names drift when there is some", async () => {
    const clean = await run();
    expect(clean).toEqual({ code: 0, out: "usage reconciled: no drift\n" });
    const install = newInstall();
    await client(server.url, await tokenFor(install)).put("ns", "k", { value: 1 });
    await sql`update ext_storage_usage set bytes_used = bytes_used + 5 where install_id = ${install.installId}`;
    try {
      const drifted = await run();
      expect(drifted.code).toBe(1);
      expect(drifted.out).toContain(
        `${install.installId} (tenant ${install.tenantId}): bytes 7 recorded, 2 actual (+5)`,
      );
    } finally {
      await sql`update ext_storage_usage set bytes_used = bytes_used - 5 where install_id = ${install.installId}`;
    }
  });
});
