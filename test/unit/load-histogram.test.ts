// The load driver's histogram: bucket bounds, precision against exact percentiles, merging.
import { describe, expect, test } from "bun:test";
import { bucketHigh, bucketLow, bucketOf, Histogram } from "../../bench/load/histogram.ts";
import { seeded } from "../../bench/load/random.ts";

const exact = (sorted: number[], p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] as number;

describe("log-linear histogram", () => {
  test("small values are exact; every value lies inside its bucket, within 1/128 of it", () => {
    for (let v = 0; v < 128; v++) expect([bucketLow(bucketOf(v)), bucketHigh(bucketOf(v))]).toEqual([v, v]);
    const rnd = seeded(7);
    for (let i = 0; i < 20_000; i++) {
      const v = Math.floor(2 ** (rnd.next() * 36));
      const b = bucketOf(v);
      expect(bucketLow(b)).toBeLessThanOrEqual(v);
      expect(bucketHigh(b)).toBeGreaterThanOrEqual(v);
      expect(bucketHigh(b) - bucketLow(b)).toBeLessThanOrEqual(Math.max(0, v / 128));
    }
  });

  test("buckets are contiguous across powers of two", () => {
    for (let b = 1; b < 3000; b++) expect(bucketLow(b)).toBe(bucketHigh(b - 1) + 1);
    for (const v of [127, 128, 255, 256, 257, 2 ** 20 - 1, 2 ** 20, 2 ** 20 + 1]) {
      expect(bucketLow(bucketOf(v)) <= v && v <= bucketHigh(bucketOf(v))).toBe(true);
    }
  });

  test("percentiles agree with the exact ones to within the bucket precision", () => {
    const rnd = seeded(11);
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      // a latency-like shape: mostly 1–5 ms, a tail to a second
      const v = Math.round(rnd.next() < 0.98 ? 1000 + rnd.next() * 4000 : 5000 + rnd.next() ** 3 * 1_000_000);
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9, 100]) {
      const want = exact(values, p);
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(want);
      expect(got).toBeLessThanOrEqual(want * (1 + 1 / 128));
    }
    expect(h.count).toBe(values.length);
    expect(h.max).toBe(values.at(-1) as number);
    expect(h.min).toBe(values[0] as number);
  });

  test("merging equals recording everything into one", () => {
    const rnd = seeded(3);
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    const whole = new Histogram();
    for (let i = 0; i < 10_000; i++) {
      const v = Math.floor(rnd.next() * 200_000);
      parts[i % 3]?.record(v);
      whole.record(v);
    }
    const merged = new Histogram();
    for (const p of parts) merged.add(p);
    expect([merged.count, merged.min, merged.max, merged.sum]).toEqual([whole.count, whole.min, whole.max, whole.sum]);
    expect(Array.from(merged.counts)).toEqual(Array.from(whole.counts));
    for (const p of [50, 95, 99, 99.9]) expect(merged.percentile(p)).toBe(whole.percentile(p));
  });

  test("an empty histogram reports zeros; milliseconds are stored as microseconds", () => {
    const h = new Histogram();
    expect([h.percentile(95), h.mean(), h.buckets().length]).toEqual([0, 0, 0]);
    h.recordMs(2.5);
    expect(h.percentile(50)).toBe(2500);
  });
});
