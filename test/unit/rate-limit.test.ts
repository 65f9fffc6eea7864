import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import type { AppError } from "../../src/errors.ts";
import { leaseSize } from "../../src/http/rate-lease.ts";
import { createRateLimiter } from "../../src/http/rate-limit.ts";

const a = { tenantId: "t1", installId: "a" };
const b = { tenantId: "t1", installId: "b" };

const refused = (fn: () => void) => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error as AppError;
  }
};

test("a burst of twice the rate, then one request per 1/rate seconds", () => {
  let t = 0;
  const take = createRateLimiter(5, () => t);
  for (let i = 0; i < 10; i++) expect(refused(() => take(a))).toBeUndefined();
  const error = refused(() => take(a));
  expect(error?.code).toBe("RATE_LIMITED");
  expect(error?.status).toBe(429);
  expect(error?.headers).toEqual({ "retry-after": "1" });
  t += 199;
  expect(refused(() => take(a))?.code).toBe("RATE_LIMITED");
  t += 2; // 200 ms: one token
  expect(refused(() => take(a))).toBeUndefined();
  expect(refused(() => take(a))?.code).toBe("RATE_LIMITED");
  // another install has its own bucket
  expect(refused(() => take(b))).toBeUndefined();
  // a long pause refills to the burst, not beyond
  t += 60_000;
  for (let i = 0; i < 10; i++) expect(refused(() => take(a))).toBeUndefined();
  expect(refused(() => take(a))?.code).toBe("RATE_LIMITED");
});

test("Retry-After says when the next token comes, at least a second", () => {
  let t = 0;
  const take = createRateLimiter(1, () => t); // burst of 2
  take(a);
  take(a);
  expect(refused(() => take(a))?.headers).toEqual({ "retry-after": "1" });
  t += 999;
  expect(refused(() => take(a))?.code).toBe("RATE_LIMITED");
  t += 1;
  expect(refused(() => take(a))).toBeUndefined();
});

test("a rate of 0 turns the limit off", () => {
  const take = createRateLimiter(0, () => 0);
  for (let i = 0; i < 1000; i++) take(a);
});

test("budgets belong to the (tenant, install) pair; a principal without an install is not limited", () => {
  const take = createRateLimiter(1, () => 0); // burst of 2
  const intruder = { tenantId: "t2", installId: "a" };
  take(intruder);
  take(intruder);
  expect(refused(() => take(intruder))?.code).toBe("RATE_LIMITED");
  expect(refused(() => take(a))).toBeUndefined();
  for (let i = 0; i < 10; i++) take({ tenantId: undefined, installId: undefined });
});

test("a lease is a tenth of the rate (at least one token) unless configured, and never above the burst", () => {
  expect([leaseSize(100, 0), leaseSize(5, 0), leaseSize(1, 0), leaseSize(1234, 0)]).toEqual([10, 1, 1, 124]);
  expect([leaseSize(100, 25), leaseSize(100, 500)]).toEqual([25, 200]);
  expect(loadConfig({ STORAGE_RATE_LIMIT_LEASE: "7" }).limits.rateLimitLease).toBe(7);
  expect(loadConfig({}).limits.rateLimitLease).toBe(0);
  expect(() => loadConfig({ STORAGE_RATE_LIMIT_LEASE: "-1" })).toThrow(/STORAGE_RATE_LIMIT_LEASE/);
});

test("the fallback's burst can be set apart from the rate", () => {
  let t = 0;
  const take = createRateLimiter(100, () => t, 3);
  for (let i = 0; i < 3; i++) take(a);
  expect(refused(() => take(a))?.code).toBe("RATE_LIMITED");
  t += 10; // one token at 100/s
  expect(refused(() => take(a))).toBeUndefined();
});
