// Per-install request rate limit: a token bucket per (tenant, install) pair, STORAGE_RATE_LIMIT
// tokens a second and a burst of twice that, so one extension cannot starve the others. The
// tenant is part of the key: a token of another tenant naming the same install_id spends a
// budget of its own, never the owner's.
//
// This file holds the bucket kept in one process's memory: the whole limit of the embedded
// database (one process by construction), and the fallback of the shared limiter
// (rate-lease.ts) while the database cannot answer it. On its own it holds per process:
// N processes would allow N times the rate.
import { BoundedMap } from "../bounded-map.ts";
import { AppError } from "../errors.ts";

/** A token bucket: its level and when it was last refilled (performance.now() ms). */
export type Bucket = { tokens: number; at: number };

/** The request's principal, as far as the limit cares: admin tokens name no install. */
export type Limited = { tenantId?: string; installId?: string };

/** Spends one token of the principal's install, or throws 429; a promise only when the
 * decision had to wait for the shared store. */
export type RateLimiter = (principal: Limited) => void | Promise<void>;

// Buckets of installs not seen for a while are dropped first when the map is full; a dropped
// bucket comes back full, which only ever errs towards letting a request through.
const MAX_BUCKETS = 50_000;

/** The key of a (tenant, install) pair; ids never hold U+0000. */
export const pairKey = ({ tenantId, installId }: Limited) => `${tenantId}\u0000${installId}`;

/** The 429 of an install over its rate, told when to come back (whole seconds, at least 1). */
export function rateLimited(perSecond: number, waitSeconds: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(waitSeconds));
  return new AppError(
    "RATE_LIMITED",
    `this install is over its request rate of ${perSecond}/s; retry after ${retryAfter} s`,
    { retryAfterSeconds: retryAfter },
    { "retry-after": String(retryAfter) },
  );
}

/**
 * The bucket of `id` at `t`, refilled at `perSecond` up to `burst` since it was last seen; one
 * not seen yet (or dropped from the bounded map) starts full. Shared by the request rate and
 * the work budget (work-budget.ts), whose units are bytes.
 */
export function refilled(buckets: BoundedMap<string, Bucket>, id: string, perSecond: number, burst: number, t: number) {
  const bucket = buckets.get(id) ?? { tokens: burst, at: t };
  bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
  bucket.at = t;
  buckets.set(id, bucket);
  return bucket;
}

export function createRateLimiter(
  perSecond: number,
  now: () => number = () => performance.now(),
  burst: number = perSecond * 2,
) {
  const buckets = new BoundedMap<string, Bucket>(MAX_BUCKETS);

  /** Spends one token of the principal's install; admin tokens (no install) are not limited. */
  return function take(principal: Limited): void {
    if (perSecond <= 0 || principal.installId === undefined) return;
    const bucket = refilled(buckets, pairKey(principal), perSecond, burst, now());
    if (bucket.tokens < 1) throw rateLimited(perSecond, (1 - bucket.tokens) / perSecond);
    bucket.tokens -= 1;
  };
}
