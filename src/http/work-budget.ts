// Per-install work budget (spec section 18, noisy neighbours): the request rate limit counts
// requests, but one request may carry 8 MiB and another a few bytes, and one schema
// validation may take 50 ms where another takes 5 µs. What one install may take of this
// process's CPU is bounded here, in bytes of work a second:
//
//   work of a request = request body bytes + response body bytes
//                       + schema validation time × WORK_BYTES_PER_VALIDATION_MS
//
// A token bucket per (tenant, install) pair refills at STORAGE_WORK_LIMIT_BYTES a second up to
// a burst of twice the largest request body (so that a maximal request always fits). A
// request is admitted while its install's bucket is not in debt, and is charged as its work
// becomes known (the declared body length at admission, the rest once read, validated and
// answered), so the bucket may go into debt: the install's next requests are 429 until the
// debt is paid back, with a Retry-After saying when.
//
// Measured on this service (bench/README.md, "noisy"): handling a request costs the event
// loop about 40 ms per MiB of a bulk-put and about 6 ms per MiB of a list page, and PostgreSQL
// as much again; at the default 256 KiB/s one install sending the most expensive requests
// left the other installs' p99 within 1.1× of what it was without it (1 MiB/s: 5.6×).
//
// Kept in each process's memory: it bounds the share of this process's CPU, which is what the
// other installs served by this process wait for (a second process has CPU of its own).
import { BoundedMap } from "../bounded-map.ts";
import { AppError } from "../errors.ts";
import { meter } from "../work-meter.ts";
import { type Bucket, type Limited, pairKey, refilled } from "./rate-limit.ts";

/** One millisecond of schema validation counts as this many bytes of work (16 KiB): about what
 * the service spends per millisecond reading, writing and answering bytes. */
export const WORK_BYTES_PER_VALIDATION_MS = 16 * 1024;

/** Charges the principal's measured work (work-meter.ts) to `budget`, wherever the principal goes. */
export function meterPrincipal(principal: Limited, budget: WorkBudget): void {
  meter(principal, (ms) => budget.charge(principal, ms * WORK_BYTES_PER_VALIDATION_MS));
}

export type WorkBudget = {
  /** 429 RATE_LIMITED while the principal's install is in debt; admin tokens (no install)
   * and a limit of 0 always pass. */
  admit(principal: Limited): void;
  /** Spends `bytes` (≥ 0) of the install's budget; the bucket may go into debt, down to one
   * burst. */
  charge(principal: Limited, bytes: number): void;
};

const MAX_BUCKETS = 50_000;

/**
 * @param bytesPerSecond refill rate (STORAGE_WORK_LIMIT_BYTES); 0 turns the budget off
 * @param burstBytes the bucket's size, and the deepest debt it may run
 */
export function createWorkBudget(
  bytesPerSecond: number,
  burstBytes: number,
  now: () => number = () => performance.now(),
): WorkBudget {
  const buckets = new BoundedMap<string, Bucket>(MAX_BUCKETS);
  const off = bytesPerSecond <= 0;
  // a bucket's tokens are bytes here
  const bucketOf = (principal: Limited): Bucket =>
    refilled(buckets, pairKey(principal), bytesPerSecond, burstBytes, now());
  return {
    admit(principal) {
      if (off || principal.installId === undefined) return;
      const bucket = bucketOf(principal);
      if (bucket.tokens >= 0) return;
      const retryAfter = Math.max(1, Math.ceil(-bucket.tokens / bytesPerSecond));
      throw new AppError(
        "RATE_LIMITED",
        `this install has used its work budget of ${bytesPerSecond} bytes/s (request and response bytes, schema validation time); retry after ${retryAfter} s`,
        { retryAfterSeconds: retryAfter, reason: "work_budget" },
        { "retry-after": String(retryAfter) },
      );
    },
    charge(principal, bytes) {
      if (off || principal.installId === undefined || !(bytes > 0)) return;
      const bucket = bucketOf(principal);
      bucket.tokens = Math.max(-burstBytes, bucket.tokens - bytes);
    },
  };
}
