// TTL cleanup beyond what requests do on the way: the scheduled sweeper's batches and the
// bounded count of the backlog.
import type { Database } from "../db/client.ts";

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
