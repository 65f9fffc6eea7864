// Every change of an install takes revisions from its counter (ext_storage_usage.last_revision),
// so that changes can be ordered by revision: writes one per key, deletes one per row deleted,
// a namespace delete one, every cleanup one per expired row. A refused or rolled back request
// takes none.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, sql } from "../helpers/db.ts";
import {
  adminClient,
  client,
  type Install,
  newInstall,
  sleep,
  startServer,
  type TestServer,
  tokenFor,
} from "../helpers/server.ts";

let server: TestServer;
let sampling: TestServer;
beforeAll(async () => {
  [server, sampling] = await Promise.all([startServer(), startServer({ TTL_LIST_SWEEP_EVERY: "1" })]);
});
afterAll(() => Promise.all([server.close(), sampling.close()]));

const counter = async (install: Install) => {
  const [row] =
    await sql`select last_revision::int as n from ext_storage_usage where install_id = ${install.installId}`;
  return (row?.n as number | undefined) ?? 0;
};

/** How far a step moves the install's counter. */
async function taken(install: Install, step: () => Promise<unknown>): Promise<number> {
  const before = await counter(install);
  await step();
  return (await counter(install)) - before;
}

const as = async (install: Install, on = server) => client(on.url, await tokenFor(install));

describe("revisions", () => {
  test("writes and deletes: one per key changed; a refused request none", async () => {
    const install = newInstall("rev");
    const c = await as(install);
    expect(await taken(install, () => c.put("ns", "a", { value: 1 }))).toBe(1);
    const items = ["b", "c", "d"].map((key) => ({ key, value: key }));
    expect(await taken(install, () => c.bulk("ns", "bulk-put", { items }))).toBe(3);
    expect(await taken(install, async () => expect((await c.del("ns", "a")).status).toBe(204))).toBe(1);
    expect(await taken(install, async () => expect((await c.del("ns", "a")).status).toBe(404))).toBe(0);
    const stale = () => c.del("ns", "b", { "if-match": '"1"' });
    expect(await taken(install, async () => expect((await stale()).status).toBe(412))).toBe(0);
    const bulkDelete = () => c.bulk("ns", "bulk-delete", { keys: ["b", "c", "absent"] });
    expect(await taken(install, async () => expect((await bulkDelete()).body).toEqual({ deleted: 2 }))).toBe(2);
    // a later write gets a revision above every change before it
    const last = await counter(install);
    expect((await c.put("ns", "b", { value: 2 })).body.revision).toBe(last + 1);
    await expectUsageExact(install.installId, expect);
  });

  test("a namespace delete takes one, whatever it deleted; an empty one none", async () => {
    const install = newInstall("rev");
    const c = await as(install);
    const items = ["a", "b", "c"].map((key) => ({ key, value: key }));
    await c.bulk("ns", "bulk-put", { items });
    await c.put("other", "a", { value: 1 });
    const clear = (ns: string) => c.call("DELETE", `/v1/namespaces/${ns}`);
    expect(await taken(install, async () => expect((await clear("ns")).body).toEqual({ deleted: 3 }))).toBe(1);
    expect(await taken(install, async () => expect((await clear("ns")).body).toEqual({ deleted: 0 }))).toBe(0);
    await expectUsageExact(install.installId, expect);
  });

  test("cleanups take one per expired row: get, list, bulk-get, the sweeper", async () => {
    const install = newInstall("rev");
    const c = await as(install);
    for (const ns of ["g", "l", "b", "s"]) {
      const items = ["x", "y"].map((key) => ({ key, value: key, ttlSeconds: 1 }));
      expect((await c.bulk(ns, "bulk-put", { items: [...items, { key: "z", value: 1 }] })).status).toBe(200);
    }
    await sleep(1300);
    expect(await taken(install, () => c.get("g", "z"))).toBe(2);
    expect(await taken(install, () => c.list("l"))).toBe(2);
    expect(await taken(install, () => c.bulk("b", "bulk-get", { keys: ["z"] }))).toBe(2);
    expect(await taken(install, () => sql`select * from ext_storage_sweep_expired(1000, 1000)`)).toBe(2);
    await expectUsageExact(install.installId, expect);
  });

  test("sweeps of the whole install take one per row: to make room under a quota, and the sampled list", async () => {
    const install = newInstall("rev");
    const c = await as(install);
    const admin = await adminClient(server.url);
    await c.bulk("a", "bulk-put", { items: ["x", "y"].map((key) => ({ key, value: key, ttlSeconds: 1 })) });
    expect((await admin.limits(install, { maxRecords: 2 })).status).toBe(200);
    await sleep(1300);
    // two expired rows swept, one written
    expect(await taken(install, async () => expect((await c.put("b", "k", { value: 1 })).status).toBe(201))).toBe(3);

    await c.bulk("a", "bulk-put", { items: [{ key: "x", value: 1, ttlSeconds: 1 }] });
    await sleep(1300);
    const onSampling = await as(install, sampling);
    // the list's own namespace holds nothing expired: what it takes is the sampled sweep's
    expect(await taken(install, () => onSampling.list("b"))).toBe(1);
    await expectUsageExact(install.installId, expect);
  });
});
