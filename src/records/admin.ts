// The platform's view of installs: usage of any install, quota overrides, and purge on
// uninstall. Installs are named by tenant and install id, not by a token.
import { type Database, sentAhead } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type LimitDefaults, limitsOf, usageOf } from "./usage.ts";

export type InstallRef = { tenantId: string; installId: string };

/** Usage of any install; zeros for one never seen. 1 round trip. */
export const adminUsage = (db: Database, defaults: LimitDefaults, ref: InstallRef) => usageOf(db, ref, defaults);

export type LimitsChange = { maxBytes?: number | null; maxRecords?: number | null };

/** Sets quota overrides (null: back to the default); the limits then in force. 1 round trip. */
export async function setLimits(db: Database, defaults: LimitDefaults, ref: InstallRef, change: LimitsChange) {
  const [row] = await db.run<{ max_bytes: number | null; max_records: number | null }>("installs.set_limits", [
    ref.installId,
    ref.tenantId,
    change.maxBytes ?? null,
    change.maxRecords ?? null,
    change.maxBytes !== undefined,
    change.maxRecords !== undefined,
  ]);
  if (row === undefined) throw fail("FORBIDDEN", "this install belongs to another tenant");
  const { maxBytes, maxRecords } = limitsOf(row, defaults);
  return { maxBytes, maxRecords };
}

/**
 * Deletes everything of an install, atomically and idempotently: the usage row lock first
 * (the order every write takes), then records and schemas in one statement, which resets
 * the usage row to a tombstone (zero usage, default limits) that keeps the install's tenant
 * and its revision and schema-version counters. 1 round trip (BEGIN, lock, purge and COMMIT
 * pipelined). Its change feed goes too, so its open watch streams end.
 */
export async function purgeInstall(db: Database, ref: InstallRef): Promise<void> {
  await db.transaction(async (q) => {
    const purging = sentAhead(
      Promise.all([
        q.run("installs.lock_existing", [ref.installId, ref.tenantId]),
        q.run("installs.purge", [ref.installId, ref.tenantId]),
        // its watchers, in every process, read the feed again and are told to reset (410)
        q.run("changes.notify", [ref.installId]),
      ]),
    );
    q.commit();
    await purging;
  });
}
