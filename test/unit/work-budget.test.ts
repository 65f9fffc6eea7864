// Spec section 18: the per-install work budget (src/http/work-budget.ts).
import { expect, test } from "bun:test";
import type { AppError } from "../../src/errors.ts";
import { createWorkBudget, meterPrincipal, WORK_BYTES_PER_VALIDATION_MS } from "../../src/http/work-budget.ts";
import { chargeValidation } from "../../src/work-meter.ts";

const a = { tenantId: "t1", installId: "a" };
const b = { tenantId: "t1", installId: "b" };
const otherTenant = { tenantId: "t2", installId: "a" };

const refusal = (fn: () => void) => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error as AppError;
  }
};

test("admitted while not in debt; the debt is paid back at the rate, and Retry-After says when", () => {
  let t = 0;
  const budget = createWorkBudget(1000, 4000, () => t);
  expect(refusal(() => budget.admit(a))).toBeUndefined();
  budget.charge(a, 4000); // the whole burst: 0 left, still admitted
  expect(refusal(() => budget.admit(a))).toBeUndefined();
  budget.charge(a, 2500); // 2,500 bytes of debt: 2.5 s at 1,000 bytes/s
  const error = refusal(() => budget.admit(a));
  expect([error?.status, error?.code, error?.headers, error?.details]).toEqual([
    429,
    "RATE_LIMITED",
    { "retry-after": "3" },
    { retryAfterSeconds: 3, reason: "work_budget" },
  ]);
  t += 2400;
  expect(refusal(() => budget.admit(a))?.code).toBe("RATE_LIMITED");
  t += 100;
  expect(refusal(() => budget.admit(a))).toBeUndefined();
  // other installs, and the same install_id under another tenant, have budgets of their own
  expect(refusal(() => budget.admit(b))).toBeUndefined();
  expect(refusal(() => budget.admit(otherTenant))).toBeUndefined();
});

test("the debt is bounded by one burst; a long pause refills to the burst, not beyond", () => {
  let t = 0;
  const budget = createWorkBudget(1000, 4000, () => t);
  budget.charge(a, 1e9);
  expect(refusal(() => budget.admit(a))?.headers).toEqual({ "retry-after": "4" });
  t += 3_600_000;
  budget.charge(a, 4000);
  expect(refusal(() => budget.admit(a))).toBeUndefined();
  budget.charge(a, 1);
  expect(refusal(() => budget.admit(a))?.code).toBe("RATE_LIMITED");
});

test("0 turns it off; admin tokens (no install) are never charged", () => {
  const off = createWorkBudget(0, 4000, () => 0);
  off.charge(a, 1e9);
  expect(refusal(() => off.admit(a))).toBeUndefined();
  const budget = createWorkBudget(1000, 4000, () => 0);
  budget.charge({ tenantId: "t1" }, 1e9);
  expect(refusal(() => budget.admit({ tenantId: "t1" }))).toBeUndefined();
});

test("validation time reported for a metered principal is charged at 16 KiB per ms", () => {
  let t = 0;
  const budget = createWorkBudget(WORK_BYTES_PER_VALIDATION_MS, 10 * WORK_BYTES_PER_VALIDATION_MS, () => t);
  const principal = { ...a };
  chargeValidation(principal, 100); // not metered yet: nothing charged
  expect(refusal(() => budget.admit(principal))).toBeUndefined();
  meterPrincipal(principal, budget);
  chargeValidation(principal, 10); // the whole burst
  expect(refusal(() => budget.admit(principal))).toBeUndefined();
  chargeValidation(principal, 2); // 2 ms = 2 s of refill
  expect(refusal(() => budget.admit(principal))?.headers).toEqual({ "retry-after": "2" });
  t += 2000;
  expect(refusal(() => budget.admit(principal))).toBeUndefined();
});
