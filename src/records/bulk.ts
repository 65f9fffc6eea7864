// bulk-get, bulk-put, bulk-delete: all or nothing for the writes.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type Install, writeInInstall } from "./install.ts";
import { checkBulkKeys, type WriteItem } from "./items.ts";
import { type RecordRow, type StoredRecord, toRecord } from "./record.ts";
import type { LimitDefaults } from "./usage.ts";
import { writeRecords } from "./write.ts";

type FoundRow = RecordRow & { cleaned: number; key: string | null; fits: boolean | null };

/**
 * bulk-get: 1 round trip (cleanup included). Items in request order, as many as fit in
 * `maxPageBytes` (the first always does); the records past it are named in `unprocessed`,
 * for the client to ask for again.
 */
export async function bulkGet(
  db: Database,
  install: Install,
  namespace: string,
  keys: readonly string[],
  maxPageBytes: number,
) {
  const wanted = checkBulkKeys(keys);
  const rows = await db.run<FoundRow>("records.get", [
    install.installId,
    install.tenantId,
    namespace,
    wanted,
    maxPageBytes,
  ]);
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
  return { result: { items, missing, unprocessed }, cleaned: rows[0]?.cleaned ?? 0 };
}

/** bulk-put: 4 round trips whatever the item count (see write.ts). */
export async function bulkPut(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  items: readonly WriteItem[],
) {
  const { written, replacedExpired, swept } = await writeRecords(db, defaults, install, namespace, items, true);
  return {
    replacedExpired,
    swept,
    items: written.map((w) => ({
      key: w.key,
      revision: w.revision,
      created: w.created,
      expiresAt: w.expiresAt?.toISOString() ?? null,
    })),
  };
}

export type BulkDeleteItem = { key: string; ifRevision?: number };

type DeleteRow = { idx: number; key: string; ok: boolean; current_revision: number | null; deleted: boolean };

/** bulk-delete: 3 round trips. Absent keys are no error unless an ifRevision names them. */
export async function bulkDelete(db: Database, install: Install, namespace: string, items: readonly BulkDeleteItem[]) {
  const keys = checkBulkKeys(items.map((i) => i.key));
  const rows = await writeInInstall(db, install, async (q) => {
    const r = await q.run<DeleteRow>("records.delete", [
      install.installId,
      install.tenantId,
      namespace,
      keys,
      items.map((i) => i.ifRevision ?? null),
    ]);
    if (r.some((row) => !row.ok)) {
      throw fail("REVISION_MISMATCH", "a precondition failed; nothing was deleted", {
        failed: r
          .filter((row) => !row.ok)
          .map((row) => ({ index: row.idx - 1, key: row.key, currentRevision: row.current_revision })),
      });
    }
    return r;
  });
  return { deleted: rows.filter((r) => r.deleted).length };
}
