// bulk-get, bulk-put, bulk-delete. The writes are all or nothing: many-op requests through
// the write pipeline (pipeline.ts), their refusals naming every failing item by index.
import type { Database } from "../db/client.ts";
import { type Remember, rememberVia } from "./idempotency.ts";
import type { Install } from "./install.ts";
import { checkBulkKeys, prepareBulkItemsInTurns, putOps, type WriteItem } from "./items.ts";
import { runWrite, type WriteResult } from "./pipeline.ts";
import { type RecordRow, type StoredRecord, toRecord } from "./record.ts";
import { type ReadCleanup, readCleaning } from "./records.ts";
import { refusalOfMany } from "./refusals.ts";
import { type CleanupObserver, ignoreCleanup } from "./ttl.ts";
import type { LimitDefaults } from "./usage.ts";

type FoundRow = RecordRow & ReadCleanup & { key: string | null; fits: boolean | null };

/**
 * bulk-get: 1 round trip, 2 when the namespace holds expired rows (see readCleaning). Items in request order, as many as fit in
 * `maxPageBytes` (the first always does); the records past it are named in `unprocessed`,
 * for the client to ask for again.
 */
export async function bulkGet(
  db: Database,
  install: Install,
  namespace: string,
  keys: readonly string[],
  maxPageBytes: number,
  observe: CleanupObserver = ignoreCleanup,
) {
  const wanted = checkBulkKeys(keys);
  const params = [install.installId, install.tenantId, namespace, wanted, maxPageBytes];
  const { rows, cleaned } = await readCleaning<FoundRow>(
    db,
    { name: "records.bulk_get", params },
    { name: "records.get_cleaning", params },
  );
  observe("bulk_get", install, cleaned);
  const byKey = new Map(rows.filter((r) => r.key !== null).map((r) => [r.key as string, r]));
  const items: StoredRecord[] = [];
  const missing: string[] = [];
  const unprocessed: string[] = [];
  for (const key of wanted) {
    const row = byKey.get(key);
    if (row === undefined) missing.push(key);
    else if (row.fits) items.push(toRecord(row as RecordRow));
    else unprocessed.push(key);
  }
  return { items, missing, unprocessed };
}

/** bulk-put: 2 round trips whatever the item count (see pipeline.ts). */
export async function bulkPut(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  items: readonly WriteItem[],
  observe: CleanupObserver = ignoreCleanup,
  remember?: Remember<BulkPutResult>,
): Promise<BulkPutResult> {
  const ops = putOps(namespace, await prepareBulkItemsInTurns(items));
  const result = await runWrite(
    db,
    defaults,
    install,
    { ops, trigger: "bulk_put" },
    observe,
    rememberVia(remember, bulkPutOf),
  );
  return bulkPutOf(result);
}

type BulkPutResult = { items: Array<{ key: string; revision: number; created: boolean; expiresAt: string | null }> };

function bulkPutOf(result: WriteResult): BulkPutResult {
  if (!result.ok) throw refusalOfMany(result.refusal, "written");
  return {
    items: result.results.map((r) => ({
      key: r.key,
      revision: r.revision as number,
      created: r.created,
      expiresAt: r.written?.expiresAt?.toISOString() ?? null,
    })),
  };
}

export type BulkDeleteItem = { key: string; ifRevision?: number };

/** bulk-delete: 2 round trips (see pipeline.ts). Absent keys are no error unless an
 * ifRevision names them. */
export async function bulkDelete(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  items: readonly BulkDeleteItem[],
  remember?: Remember<{ deleted: number }>,
): Promise<{ deleted: number }> {
  const keys = checkBulkKeys(items.map((i) => i.key));
  const ops = keys.map((key, index) => ({
    op: "delete" as const,
    namespace,
    key,
    ifRevision: items[index]?.ifRevision,
  }));
  const deletedOf = (result: WriteResult) => {
    if (!result.ok) throw refusalOfMany(result.refusal, "deleted");
    return { deleted: result.results.filter((r) => r.deleted).length };
  };
  return deletedOf(await runWrite(db, defaults, install, { ops }, ignoreCleanup, rememberVia(remember, deletedOf)));
}
