// The synthetic data (deterministic, 1–64 KiB, realistic shapes), the quota refusal check and
// the shard placement of install ids.
import { describe, expect, test } from "bun:test";
import { loadFixtures, population, sizeBytes, valueFor } from "../../bench/load/data.ts";
import { checkRefusal } from "../../bench/load/scenarios/bulk-writes.ts";
import { scanKeys } from "../../bench/load/scenarios/list-scans.ts";
import { hashtext, shardOf, shardOfHash, spread } from "../../bench/load/shards.ts";

describe("data generation", () => {
  const fixtures = loadFixtures();
  const installs = population("ld1", 50, 3);

  test("50 tenants × 3 installs, five namespaces of extension data", () => {
    expect(installs.length).toBe(150);
    expect(new Set(installs.map((i) => i.tenantId)).size).toBe(50);
    expect(installs[149]).toMatchObject({ tenantId: "ld1-t049", installId: "ld1-t049-i2" });
    expect(fixtures.map((f) => f.namespace).sort()).toEqual(["cache", "inbox", "settings", "state", "sync"]);
  });

  test("values are the same for the same seed, different for another, and 1–64 KiB", () => {
    const install = installs[0] as (typeof installs)[number];
    for (const f of fixtures) {
      expect(valueFor(1, install, f, 3)).toEqual(valueFor(1, install, f, 3));
      expect(valueFor(1, install, f, 3)).not.toEqual(valueFor(2, install, f, 3));
    }
    const sizes = installs
      .slice(0, 20)
      .flatMap((i) => fixtures.flatMap((f) => [0, 1, 2].map((n) => sizeBytes("k", valueFor(1, i, f, n)))));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65_536);
    expect(Math.max(...sizes)).toBeGreaterThan(16_384);
  });

  test("list-scan keys are in byte order", () => {
    const keys = scanKeys(250);
    expect(keys.length).toBe(250);
    expect(keys.slice(0, 3)).toEqual(["user/0/0", "user/0/1", "user/0/10"]);
    expect([...keys].sort()).toEqual(keys);
  });
});

describe("quota refusals", () => {
  const limits = { maxBytes: 1000, maxRecords: 10 };
  const expect0 = { usedBytes: 900, usedRecords: 3, bytes: 200, records: 2, limits };
  const refusal = (details: unknown, status = 403, code = "QUOTA_EXCEEDED") => ({
    status,
    code,
    body: { error: { code, message: "m", details } },
  });

  test("the contract's refusal passes", () => {
    expect(checkRefusal(refusal({ kind: "bytes", limit: 1000, used: 900, requested: 200 }), expect0)).toBeUndefined();
  });

  test("anything else is a failure, named", () => {
    expect(checkRefusal(refusal({ kind: "bytes", limit: 1000, used: 899, requested: 200 }), expect0)).toContain(
      "expected",
    );
    expect(checkRefusal(refusal({ kind: "records", limit: 10, used: 3, requested: 2 }), expect0)).toContain("fits");
    expect(checkRefusal(refusal(undefined), expect0)).toContain("without details");
    expect(checkRefusal(refusal({ kind: "rows" }), expect0)).toContain("unknown kind");
    expect(checkRefusal(refusal({}, 413, "PAYLOAD_TOO_LARGE"), expect0)).toBe("413 PAYLOAD_TOO_LARGE");
  });
});

describe("shards", () => {
  test("hashtext matches PostgreSQL's for known values", () => {
    // from PostgreSQL 15: select hashtext(t)
    expect(hashtext("")).toBe(-1477818771);
    expect(hashtext("a")).toBe(1075015857);
    expect(hashtext("ld1-t000-i0")).toBe(-1860755608);
    expect(hashtext("ld1-t049-i2")).toBe(-1282646753);
    expect(hashtext("hello world, twelve+")).toBe(2004688975);
  });

  test("32 equal int32 ranges, as Citus cuts them", () => {
    expect(shardOfHash(-(2 ** 31))).toBe(0);
    expect(shardOfHash(-(2 ** 31) + 2 ** 27 - 1)).toBe(0);
    expect(shardOfHash(-(2 ** 31) + 2 ** 27)).toBe(1);
    expect(shardOfHash(0)).toBe(16);
    expect(shardOfHash(2 ** 31 - 1)).toBe(31);
  });

  test("spread: counts per shard and the hottest shard against the mean", () => {
    const s = spread([
      ["ld1-t000-i0", 10],
      ["ld1-t049-i2", 30],
    ]);
    expect(s.total).toBe(40);
    expect(s.perShard.length).toBe(32);
    expect(s.perShard[shardOf("ld1-t049-i2")]).toBeGreaterThanOrEqual(30);
    expect(s.maxMeanRatio).toBeCloseTo(s.max / (40 / 32), 6);
  });
});
