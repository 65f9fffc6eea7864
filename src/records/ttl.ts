// TTL cleanup beyond what requests do on the way: the scheduled sweeper's batches, the
// bounded count of the backlog, the sampled sweep of lists, and how cleanups are reported.
import type { Database } from "../db/client.ts";
import type { CleanupTrigger } from "../metrics.ts";
import type { Install } from "./install.ts";

/**
 * Told how many expired rows a request deleted, and why, once its transaction committed
 * (never for one rolled back). The metrics' countCleanup is one; domain functions take it
 * instead of returning counts for their callers to pass on.
 */
export type CleanupObserver = (
  trigger: CleanupTrigger,
  who: Pick<Install, "tenantId" | "extensionId">,
  deleted: number,
) => void;

export const ignoreCleanup: CleanupObserver = () => {};

/** Every `every`th call says true (never when every is 0): which lists of this service
 * instance also sweep their whole install (TTL_LIST_SWEEP_EVERY). */
export function sweepSampler(every: number): () => boolean {
  let calls = 0;
  return () => every > 0 && ++calls % every === 0;
}

export type SweptInstall = {
  swept_tenant_id: string;
  swept_extension_id: string | null;
  swept_install_id: string;
  deleted: number;
};

/** One bounded batch: at most maxInstalls installs, maxRows rows each. Returns nothing when
 * another caller holds the sweeper's lock (or nothing has expired). 1 round trip. */
export const sweepBatch = (db: Database, maxInstalls: number, maxRows: number) =>
  db.run<SweptInstall>("ttl.sweep", [maxInstalls, maxRows]);

/** Expired rows not yet deleted, counted up to `limit`. 1 round trip. */
export async function countPending(db: Database, limit: number): Promise<number> {
  const [row] = await db.run<{ pending: number }>("ttl.pending", [limit]);
  return row?.pending ?? 0;
}
