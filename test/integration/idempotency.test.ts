import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, sql } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
let shortLived: TestServer;
beforeAll(async () => {
  server = await startServer();
  shortLived = await startServer({ STORAGE_IDEMPOTENCY_TTL_SECONDS: "1" });
});
afterAll(async () => {
  await server.close();
  await shortLived.close();
});

const as = async (install = newInstall(), url = server.url) => client(url, await tokenFor(install));
const key = (k: string) => ({ "idempotency-key": k });
const replayed = (res: { headers: Headers }) => res.headers.get("idempotent-replayed");

describe("Idempotency-Key", () => {
  test("a repeated PUT replays its first answer and changes nothing", async () => {
    const install = newInstall();
    const c = await as(install);
    const first = await c.put("ns", "k", { value: { n: 1 } }, key("put-1"));
    expect([first.status, replayed(first)]).toEqual([201, null]);
    const again = await c.put("ns", "k", { value: { n: 1 } }, key("put-1"));
    expect([again.status, replayed(again), again.body]).toEqual([201, "true", first.body]);
    expect(again.headers.get("etag")).toBe(first.headers.get("etag"));
    const read = await c.get("ns", "k");
    expect(read.body.revision).toBe(first.body.revision);
    await expectUsageExact(install.installId, expect);
  });

  test("same key, another request: 409 idempotency_key_reused; malformed key: 400", async () => {
    const c = await as();
    await c.put("ns", "k", { value: 1 }, key("k-1"));
    const other = await c.put("ns", "k", { value: 2 }, key("k-1"));
    expect([other.status, other.body.error.code, other.body.error.details.reason]).toEqual([
      409,
      "CONFLICT",
      "idempotency_key_reused",
    ]);
    const otherPath = await c.put("ns", "j", { value: 1 }, key("k-1"));
    expect(otherPath.status).toBe(409);
    const otherMethod = await c.del("ns", "k", key("k-1"));
    expect(otherMethod.status).toBe(409);
    expect((await c.get("ns", "k")).body.value).toBe(1);
    for (const bad of ["", "x".repeat(129), "has space", "ü"]) {
      const res = await c.call("PUT", "/v1/namespaces/ns/records/z", { value: 1 }, { "idempotency-key": bad });
      expect([bad, res.status]).toEqual([bad, 400]);
    }
    expect((await c.put("ns", "z", { value: 1 }, key("x".repeat(128)))).status).toBe(201);
  });

  test("a non-2xx answer is not kept", async () => {
    const c = await as();
    const missing = await c.del("ns", "k", key("del-1"));
    expect(missing.status).toBe(404);
    await c.put("ns", "k", { value: 1 });
    const deleted = await c.del("ns", "k", key("del-1"));
    expect([deleted.status, replayed(deleted)]).toEqual([204, null]);
    const again = await c.del("ns", "k", key("del-1"));
    expect([again.status, replayed(again)]).toEqual([204, "true"]);
  });

  test("every write route replays", async () => {
    const install = newInstall();
    const c = await as(install);
    const twice = async (f: () => Promise<{ status: number; body: unknown; headers: Headers }>) => {
      const a = await f();
      const b = await f();
      expect([b.status, b.body, replayed(b)]).toEqual([a.status, a.body, "true"]);
      return a;
    };
    await twice(() =>
      c.bulk(
        "ns",
        "bulk-put",
        {
          items: [
            { key: "a", value: 1 },
            { key: "b", value: 2 },
          ],
        },
        key("bp"),
      ),
    );
    await twice(() => c.patch("ns", "a", { x: 1 }, key("pa")));
    expect((await c.get("ns", "a")).body.value).toEqual({ x: 1 });
    const inc = await twice(() =>
      c.atomic({ ops: [{ op: "increment", namespace: "ns", key: "n", by: 1 }] }, key("at")),
    );
    expect(inc.status).toBe(200);
    expect((await c.get("ns", "n")).body.value).toBe(1);
    await twice(() => c.bulk("ns", "bulk-delete", { keys: ["b"] }, key("bd")));
    await twice(() => c.call("DELETE", "/v1/namespaces/ns", undefined, key("nd")));
    expect((await c.list("ns")).body.items).toEqual([]);
    await expectUsageExact(install.installId, expect);
  });

  test("concurrent repeats apply once", async () => {
    const c = await as();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        c.atomic({ ops: [{ op: "increment", namespace: "ns", key: "n", by: 1 }] }, key("same")),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.filter((r) => replayed(r) === null).length).toBe(1);
    expect((await c.get("ns", "n")).body.value).toBe(1);
  });

  test("entries are not charged to the quota and expire; the sweeper deletes them in batches", async () => {
    const install = newInstall();
    const c = await as(install, shortLived.url);
    await c.put("ns", "k", { value: 1 }, key("e-1"));
    const [usage] = await sql`select bytes_used::int as b, record_count::int as n from ext_storage_usage
      where install_id = ${install.installId}`;
    expect(usage).toEqual({ b: "k".length + 1, n: 1 });
    await Bun.sleep(1100);
    // expired: the same key on another request is new again
    const other = await c.put("ns", "k", { value: 2 }, key("e-1"));
    expect([other.status, replayed(other)]).toEqual([200, null]);
    await c.put("ns", "j", { value: 2 }, key("e-2"));
    await Bun.sleep(1100);
    let deleted = 0;
    for (let i = 0; i < 10; i++) {
      const rows = await sql`select deleted::int from ext_storage_sweep_idempotency(1000, 1)`;
      deleted += rows.reduce((s, r) => s + (r.deleted as number), 0);
      const [left] =
        await sql`select count(*)::int as n from ext_storage_idempotency where install_id = ${install.installId}`;
      if (left?.n === 0) break;
    }
    expect(deleted).toBeGreaterThanOrEqual(2);
    const [left] =
      await sql`select count(*)::int as n from ext_storage_idempotency where install_id = ${install.installId}`;
    expect(left?.n).toBe(0);
  });
});
