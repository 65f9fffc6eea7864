import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectUsageExact, storedRows } from "../helpers/db.ts";
import { adminClient, client, newInstall, sleep, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
let admin: Awaited<ReturnType<typeof adminClient>>;
beforeAll(async () => {
  server = await startServer();
  admin = await adminClient(server.url);
});
afterAll(() => server.close());

// size_bytes = UTF-8 bytes of the key + of JSON.stringify(value): "k1" with "xxxx" is 2 + 6 = 8
async function limited(maxBytes: number | null, maxRecords: number | null) {
  const install = newInstall();
  expect((await admin.limits(install, { maxBytes, maxRecords })).status).toBe(200);
  return { install, c: client(server.url, await tokenFor(install)) };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const quotaError = (res: { status: number; body: any }) => {
  expect([res.status, res.body.error.code]).toEqual([403, "QUOTA_EXCEEDED"]);
  return res.body.error.details;
};

describe("quotas", () => {
  test("bytes: exactly at the limit is accepted, one byte over is refused", async () => {
    const { install, c } = await limited(24, null);
    expect((await c.put("ns", "k1", { value: "xxxx" })).status).toBe(201); // 8
    expect((await c.put("ns", "k2", { value: "xxxxxxxxxx" })).status).toBe(201); // 2 + 12 → 22
    expect(quotaError(await c.put("ns", "k3", { value: 1 }))).toEqual({
      kind: "bytes",
      limit: 24,
      used: 22,
      requested: 3,
    });
    expect((await c.put("ns", "k", { value: 1 })).status).toBe(201); // 1 + 1 → 24, exactly at
    expect(quotaError(await c.put("ns", "j", { value: 1 }))).toEqual({
      kind: "bytes",
      limit: 24,
      used: 24,
      requested: 2,
    });
    // replacing with a value of the same size raises nothing
    expect((await c.put("ns", "k1", { value: "yyyy" })).status).toBe(200);
    // replacing with a larger one is refused; a smaller one frees bytes
    expect(quotaError(await c.put("ns", "k1", { value: "yyyyy" }))).toEqual({
      kind: "bytes",
      limit: 24,
      used: 24,
      requested: 1,
    });
    expect((await c.put("ns", "k1", { value: "y" })).status).toBe(200);
    const usage = await c.call("GET", "/v1/usage");
    expect(usage.body).toEqual({
      bytesUsed: 21,
      recordCount: 3,
      limits: { maxBytes: 24, maxRecords: 50_000, maxValueBytes: 65_536 },
    });
    await expectUsageExact(install.installId, expect);
  });

  test("records: at the limit accepted, one over refused, deletes make room", async () => {
    const { install, c } = await limited(null, 3);
    for (const key of ["a", "b", "c"]) expect((await c.put("ns", key, { value: 1 })).status).toBe(201);
    expect(quotaError(await c.put("ns", "d", { value: 1 }))).toEqual({
      kind: "records",
      limit: 3,
      used: 3,
      requested: 1,
    });
    expect((await c.put("ns", "a", { value: 2 })).status).toBe(200);
    expect((await c.del("ns", "a")).status).toBe(204);
    expect((await c.put("ns", "d", { value: 1 })).status).toBe(201);
    expect(await storedRows(install.installId)).toBe(3);
  });

  test("a bulk-put that would cross the quota writes nothing", async () => {
    const { install, c } = await limited(null, 5);
    await c.bulk("ns", "bulk-put", { items: ["a", "b"].map((key) => ({ key, value: 1 })) });
    const items = ["a", "c", "d", "e", "f"].map((key) => ({ key, value: 2 }));
    expect(quotaError(await c.bulk("ns", "bulk-put", { items }))).toEqual({
      kind: "records",
      limit: 5,
      used: 2,
      requested: 4,
    });
    expect(await storedRows(install.installId)).toBe(2);
    expect((await c.get("ns", "a")).body.value).toBe(1);
    expect((await c.bulk("ns", "bulk-put", { items: items.slice(0, 4) })).status).toBe(200);
    await expectUsageExact(install.installId, expect);
  });

  test("expired rows never cause a rejection: they are cleaned, then the write is decided", async () => {
    const { install, c } = await limited(100, 2);
    await c.bulk("a", "bulk-put", { items: ["x", "y"].map((key) => ({ key, value: "v", ttlSeconds: 1 })) });
    expect(quotaError(await c.put("b", "z", { value: 1 })).kind).toBe("records");
    await sleep(1300);
    expect(await storedRows(install.installId)).toBe(2);
    expect((await c.put("b", "z", { value: 1 })).status).toBe(201);
    expect(await storedRows(install.installId)).toBe(1);
    expect((await c.call("GET", "/v1/usage")).body).toMatchObject({ bytesUsed: 2, recordCount: 1 });
    await expectUsageExact(install.installId, expect);
  });

  test("usage reports live figures: expired rows not yet cleaned are not counted", async () => {
    const { c } = await limited(null, null);
    await c.put("ns", "live", { value: 1 });
    await c.put("ns", "short", { value: 1, ttlSeconds: 1 });
    expect((await c.call("GET", "/v1/usage")).body).toMatchObject({ bytesUsed: 11, recordCount: 2 });
    await sleep(1200);
    expect((await c.call("GET", "/v1/usage")).body).toMatchObject({ bytesUsed: 5, recordCount: 1 });
  });

  test("a lowered limit refuses growth but allows writes that do not raise usage", async () => {
    const { install, c } = await limited(null, null);
    await c.bulk("ns", "bulk-put", { items: ["a", "b", "c"].map((key) => ({ key, value: "vvvv" })) });
    expect((await admin.limits(install, { maxBytes: 10 })).body).toEqual({ maxBytes: 10, maxRecords: 50_000 });
    expect((await c.put("ns", "a", { value: "vvvv" })).status).toBe(200); // same size
    expect((await c.put("ns", "a", { value: "v" })).status).toBe(200); // smaller
    expect(quotaError(await c.put("ns", "b", { value: "vvvvv" })).kind).toBe("bytes");
    expect((await c.del("ns", "c")).status).toBe(204);
    expect((await admin.limits(install, { maxBytes: null })).body).toEqual({
      maxBytes: 33_554_432,
      maxRecords: 50_000,
    });
    expect((await c.put("ns", "b", { value: "vvvvv" })).status).toBe(200);
  });
});

describe("default quotas from the environment", () => {
  test("STORAGE_QUOTA_RECORDS and STORAGE_QUOTA_BYTES apply to installs without overrides", async () => {
    const small = await startServer({ STORAGE_QUOTA_RECORDS: "2", STORAGE_QUOTA_BYTES: "1000" });
    try {
      const c = client(small.url, await tokenFor(newInstall()));
      await c.put("ns", "a", { value: 1 });
      await c.put("ns", "b", { value: 1 });
      expect(quotaError(await c.put("ns", "c", { value: 1 }))).toEqual({
        kind: "records",
        limit: 2,
        used: 2,
        requested: 1,
      });
      expect((await c.call("GET", "/v1/usage")).body.limits).toEqual({
        maxBytes: 1000,
        maxRecords: 2,
        maxValueBytes: 65_536,
      });
    } finally {
      await small.close();
    }
  });
});
