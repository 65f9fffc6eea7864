// The request rate limit for the whole deployment: every service process (and instance)
// against one database shares one bucket per (tenant, install) pair, a row of
// ext_storage_rate_buckets, without a database write per request. A process leases a few
// tokens at a time (one statement, sql/ratelimit/lease.sql) and spends them in memory; it
// asks for more, in the background, once its share falls below half a lease, so a request of
// a busy install does not wait for the database. Tokens a process leased and did not spend
// go back to the bucket once the pair has been idle here for a second.
//
// What it costs and how exact it is (bench/README.md, "Rate limit across processes"):
// - about 2 × rate / lease statements a second per process at most for one install over its
//   rate (a tenth of the rate by default: about 20 a second, whatever the rate), and one per
//   lease for one under it;
// - never more than the bucket hands out (rate × time + burst) over any stretch, but for
//   the first request of a pair new to a process, which passes on credit while its lease is
//   taken and is charged to the bucket with it;
// - a burst of up to burst + processes × lease, when every process holds a full share
//   just as the bucket has refilled.
//
// When the database cannot answer (an error, or no lease within WAIT_MS), the process's own
// in-memory bucket (rate-limit.ts: the rate, with a burst of one lease) decides for
// FALLBACK_MS, then the store is tried again: the limit fails open to the per-process rate,
// so a store outage neither refuses every request nor lets them through unlimited. What the
// fallback lets through is owed to the shared bucket and paid by the next leases.
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { createRateLimiter, type Limited, pairKey, type RateLimiter, rateLimited } from "./rate-limit.ts";

type Share = {
  tenantId: string;
  installId: string;
  /** the process's account with the bucket: tokens leased and not yet spent, or (below zero)
   * tokens owed: a credit, or requests let through by the fallback */
  tokens: number;
  /** new to this process: its first request passes on credit */
  fresh: boolean;
  /** requests waiting for a lease: the next lease asks for them as well */
  waiting: number;
  /** the lease under way */
  pending: Promise<void> | undefined;
  /** the bucket had no whole token for this process: refused here, without asking, until then */
  emptyUntil: number;
  usedAt: number;
};

// The longest a request waits for a lease, which happens only when its process holds no
// token of the pair and knows of no refusal: past it, the store counts as unavailable. A
// lease takes about a millisecond on loopback; the first of a process also opens a
// connection, which took over 100 ms on a loaded machine.
const WAIT_MS = 500;
// Leases one waiting request may see taken before it is refused.
const LEASE_TRIES = 3;
// How long the per-process fallback decides after the store failed or was slow.
const FALLBACK_MS = 1_000;
// A pair unused this long in a process has its share settled with the bucket and forgotten.
const IDLE_MS = 1_000;
// Shares kept at most: past it the oldest is forgotten unsettled (at most a lease lost to the
// bucket, or a debt never charged).
const MAX_SHARES = 50_000;
// Settling statements per sweep, at most; the rest are forgotten unsettled.
const MAX_SETTLES_PER_SWEEP = 1_000;

/** Tokens per lease: the configured size, or a tenth of the rate (at least one), never more
 * than the burst. */
export const leaseSize = (perSecond: number, configured: number) =>
  Math.min(perSecond * 2, configured > 0 ? configured : Math.max(1, Math.ceil(perSecond / 10)));

export type SharedRateLimitOptions = {
  perSecond: number;
  /** tokens per lease (0: the default of leaseSize) */
  lease: number;
  db: Database;
  log: Logger;
};

export function createSharedRateLimiter({ perSecond, lease, db, log }: SharedRateLimitOptions): RateLimiter {
  if (perSecond <= 0) return () => {};
  const now = () => performance.now();
  const burst = perSecond * 2;
  const want = leaseSize(perSecond, lease);
  // the rate in this process, with a burst of one lease: N processes allow N times the rate
  // while the store is away, but never N bursts
  const fallback = createRateLimiter(perSecond, now, want);
  const shares = new Map<string, Share>();
  let storeDownUntil = 0;
  let sweeper: ReturnType<typeof setInterval> | undefined;

  function storeFailed(error: unknown) {
    if (now() >= storeDownUntil) {
      log.warn("rate limit store unavailable: per-process limits for now", { error: (error as Error)?.message });
    }
    storeDownUntil = now() + FALLBACK_MS;
  }

  /** Leases enough tokens to bring the share to a whole lease, its debt paid and its waiting
   * requests served; one lease at a time. */
  function refill(share: Share): Promise<void> {
    if (share.pending !== undefined) return share.pending;
    const wanted = Math.max(1, want + share.waiting - share.tokens);
    share.pending = db
      .run<{ granted: number; tokens: number }>("ratelimit.lease", [
        share.installId,
        share.tenantId,
        perSecond,
        burst,
        wanted,
      ])
      .then(([row]) => {
        const granted = row?.granted ?? 0;
        share.tokens += granted;
        // less than half of what was asked: ask again only once a whole lease has
        // accumulated, so that a busy install costs each process at most about
        // 2 × rate / lease statements a second
        if (granted < wanted / 2) {
          share.emptyUntil = now() + (Math.max(1, want - (row?.tokens ?? 0)) / perSecond) * 1000;
        }
      }, storeFailed)
      .finally(() => {
        share.pending = undefined;
      });
    return share.pending;
  }

  /** Settles and forgets the shares idle for IDLE_MS; stops itself once none is left. */
  function sweep() {
    const t = now();
    let settles = 0;
    for (const [key, share] of shares) {
      if (t - share.usedAt < IDLE_MS || share.pending !== undefined) continue;
      shares.delete(key);
      if (share.tokens === 0 || t < storeDownUntil || settles >= MAX_SETTLES_PER_SWEEP) continue;
      settles++;
      db.run("ratelimit.give_back", [share.installId, share.tenantId, perSecond, burst, share.tokens]).catch(
        storeFailed,
      );
    }
    if (shares.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  function shareOf(principal: Limited, installId: string, t: number): Share {
    const key = pairKey(principal);
    let share = shares.get(key);
    if (share === undefined) {
      share = {
        tenantId: principal.tenantId ?? "",
        installId,
        tokens: 0,
        fresh: true,
        waiting: 0,
        pending: undefined,
        emptyUntil: 0,
        usedAt: t,
      };
      if (shares.size >= MAX_SHARES) shares.delete(shares.keys().next().value as string);
      shares.set(key, share);
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, IDLE_MS);
        sweeper.unref?.();
      }
    }
    share.usedAt = t;
    return share;
  }

  /** While the store is away, the process's own bucket decides; what it lets through is owed
   * to the shared bucket (a burst of it at most, so that a long outage is not paid for after
   * it), and paid by the next leases. */
  function owe(share: Share, principal: Limited): void {
    fallback(principal);
    share.tokens = Math.max(-burst, share.tokens - 1);
  }

  /** Waits for a lease (for WAIT_MS at most, across at most LEASE_TRIES leases: requests
   * waiting together may take more than one lease), then spends a token or refuses. */
  async function awaitLease(share: Share, principal: Limited): Promise<void> {
    const deadline = now() + WAIT_MS;
    share.waiting++;
    try {
      return await spendLeased(share, principal, deadline);
    } finally {
      share.waiting--;
    }
  }

  async function spendLeased(share: Share, principal: Limited, deadline: number): Promise<void> {
    for (let tries = 0; tries < LEASE_TRIES; tries++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await Promise.race([
        refill(share).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - now()), false);
        }),
      ]);
      clearTimeout(timer);
      if (!answered) storeFailed(new Error(`no lease within ${WAIT_MS} ms`));
      if (now() < storeDownUntil) return owe(share, principal);
      if (share.tokens >= 1) {
        share.tokens -= 1;
        return;
      }
      if (now() < share.emptyUntil) break;
    }
    throw rateLimited(perSecond, (share.emptyUntil - now()) / 1000);
  }

  return function take(principal: Limited): void | Promise<void> {
    const { installId } = principal;
    if (installId === undefined) return;
    const t = now();
    const share = shareOf(principal, installId, t);
    if (share.tokens >= 1) {
      share.tokens -= 1;
      if (share.tokens < want / 2 && t >= share.emptyUntil && t >= storeDownUntil) void refill(share);
      return;
    }
    if (t < storeDownUntil) return owe(share, principal);
    if (t < share.emptyUntil) throw rateLimited(perSecond, (share.emptyUntil - t) / 1000);
    if (share.fresh) {
      // the first request of a pair new to this process passes on credit while its lease is
      // taken (the lease asks for the credit as well), so it does not wait for the database
      share.fresh = false;
      share.tokens -= 1;
      void refill(share);
      return;
    }
    return awaitLease(share, principal);
  };
}
