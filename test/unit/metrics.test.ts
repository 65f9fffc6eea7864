import { expect, test } from "bun:test";
import { CLEANUP_TRIGGERS, createMetrics, HASH_BUCKETS, hashBucket } from "../../src/metrics.ts";
import { series } from "../helpers/metrics.ts";

test("hash buckets: stable, and only HASH_BUCKETS distinct values whatever the ids", () => {
  expect(hashBucket("tenant-1")).toBe(hashBucket("tenant-1"));
  const seen = new Set(Array.from({ length: 20_000 }, (_, i) => hashBucket(`tenant-${i}-${Math.random()}`)));
  expect(seen.size).toBe(HASH_BUCKETS);
  for (const b of seen) expect(b).toMatch(/^[0-9a-f]{2}$/);
});

test("ttl_cleanup_deletes_total has at most buckets² × triggers series, however many tenants", async () => {
  const metrics = createMetrics();
  for (let i = 0; i < 20_000; i++) {
    const trigger = CLEANUP_TRIGGERS[i % CLEANUP_TRIGGERS.length] as (typeof CLEANUP_TRIGGERS)[number];
    metrics.countCleanup(trigger, { tenantId: `tenant-${i}`, extensionId: `ext-${i * 7}` }, 1);
  }
  const lines = series(await metrics.registry.metrics(), "ttl_cleanup_deletes_total");
  const bound = HASH_BUCKETS * HASH_BUCKETS * CLEANUP_TRIGGERS.length;
  expect(lines.length).toBeGreaterThan(HASH_BUCKETS);
  expect(lines.length).toBeLessThanOrEqual(bound);
  const total = lines.reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
  expect(total).toBe(20_000);
});

test("a cleanup of 0 rows adds no series", async () => {
  const metrics = createMetrics();
  metrics.countCleanup("get", { tenantId: "t", extensionId: "e" }, 0);
  expect(series(await metrics.registry.metrics(), "ttl_cleanup_deletes_total")).toEqual([]);
});
