import { expect, test } from "bun:test";
import type { AppError } from "../../src/errors.ts";
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
