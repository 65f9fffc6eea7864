// Per-install request rate limit: a token bucket per (tenant, install) pair, STORAGE_RATE_LIMIT
// tokens a second and a burst of twice that, so one extension cannot starve the others. The
// tenant is part of the key: a token of another tenant naming the same install_id spends a
// budget of its own, never the owner's. It is kept in memory, per service instance: with N
// instances behind a balancer an install may get up to N times the rate.
import { BoundedMap } from "../bounded-map.ts";
import { AppError } from "../errors.ts";

type Bucket = { tokens: number; at: number };

// Buckets of installs not seen for a while are dropped first when the map is full; a dropped
// bucket comes back full, which only ever errs towards letting a request through.
const MAX_BUCKETS = 50_000;

export function createRateLimiter(perSecond: number, now: () => number = () => performance.now()) {
  const burst = perSecond * 2;
  const buckets = new BoundedMap<string, Bucket>(MAX_BUCKETS);

  /** Spends one token of the principal's install; admin tokens (no install) are not limited. */
  return function take({ tenantId, installId }: { tenantId?: string; installId?: string }): void {
    if (perSecond <= 0 || installId === undefined) return;
    const t = now();
    const id = `${tenantId}\u0000${installId}`; // ids never hold U+0000
    const bucket = buckets.get(id) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    buckets.set(id, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      throw new AppError(
        "RATE_LIMITED",
        `this install is over its request rate of ${perSecond}/s; retry after ${retryAfter} s`,
        { retryAfterSeconds: retryAfter },
        { "retry-after": String(retryAfter) },
      );
    }
    bucket.tokens -= 1;
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
