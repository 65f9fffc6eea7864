// bulk-get, bulk-put, bulk-delete: one statement each, all or nothing for the writes.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type Install, writeInInstall } from "./install.ts";
import { checkKey } from "./keys.ts";
import { type ExpiryInput, expiryParams, type RecordRow, type StoredRecord, toRecord } from "./record.ts";
import { prepareValue } from "./values.ts";

/** Keys checked one by one, with the failing item's index; duplicates are a 400. */
function checkKeys(keys: readonly unknown[]): string[] {
  const seen = new Set<string>();
  return keys.map((key, index) => {
    try {
      checkKey(key);
    } catch (error) {
      throw fail("INVALID_KEY", `item ${index}: ${(error as Error).message}`, { index });
    }
    const k = key as string;
    if (seen.has(k)) throw fail("INVALID_REQUEST", `item ${index}: duplicate key`, { index, key: k });
    seen.add(k);
    return k;
  });
}

type FoundRow = RecordRow & { cleaned: number; key: string | null };

/** bulk-get: 1 round trip (cleanup included). Items in request order. */
export async function bulkGet(
  db: Database,
  install: Install,
  namespace: string,
  keys: readonly string[],
): Promise<{ items: StoredRecord[]; missing: string[] }> {
  const wanted = checkKeys(keys);
  const rows = await db.run<FoundRow>("records.get", [install.installId, install.tenantId, namespace, wanted]);
  const byKey = new Map(rows.filter((r) => r.key !== null).map((r) => [r.key as string, r as RecordRow]));
  const items: StoredRecord[] = [];
  const missing: string[] = [];
  for (const key of wanted) {
    const row = byKey.get(key);
    if (row === undefined) missing.push(key);
    else items.push(toRecord(row));
  }
  return { items, missing };
}

export type BulkPutItem = ExpiryInput & { key: string; value: unknown; ifRevision?: number; ifAbsent?: boolean };

type BulkPutRow = {
  idx: number;
  key: string;
  ok: boolean;
  current_revision: number | null;
  created: boolean;
  revision: number | null;
  expires_at: Date | null;
};

const failedItems = (rows: readonly { idx: number; key: string; ok: boolean; current_revision: number | null }[]) =>
  fail("REVISION_MISMATCH", "a precondition failed; nothing was written", {
    failed: rows
      .filter((r) => !r.ok)
      .map((r) => ({ index: r.idx - 1, key: r.key, currentRevision: r.current_revision })),
  });

/** bulk-put: 3 round trips whatever the item count. */
export async function bulkPut(
  db: Database,
  install: Install,
  namespace: string,
  items: readonly BulkPutItem[],
  maxValueBytes: number,
) {
  const keys = checkKeys(items.map((i) => i.key));
  const prepared = items.map((item, index) => {
    const where = `item ${index}`;
    if (item.ifRevision !== undefined && item.ifAbsent === true) {
      throw fail("INVALID_REQUEST", `${where}: give ifRevision or ifAbsent, not both`, { index });
    }
    return { value: prepareValue(item.key, item.value, maxValueBytes, where), expiry: expiryParams(item, where) };
  });
  const rows = await writeInInstall(db, install, async (q) => {
    const r = await q.run<BulkPutRow>("records.bulk_put", [
      install.installId,
      install.tenantId,
      install.extensionId,
      namespace,
      keys,
      prepared.map((p) => p.value.json),
      prepared.map((p) => p.value.sizeBytes),
      prepared.map((p) => p.expiry[0]),
      prepared.map((p) => p.expiry[1]),
      items.map((i) => i.ifRevision ?? null),
      items.map((i) => i.ifAbsent === true),
    ]);
    if (r.some((row) => !row.ok)) throw failedItems(r);
    return r;
  });
  return {
    items: rows.map((r) => ({
      key: r.key,
      revision: r.revision as number,
      created: r.created,
      expiresAt: r.expires_at?.toISOString() ?? null,
    })),
  };
}

export type BulkDeleteItem = { key: string; ifRevision?: number };

type DeleteRow = { idx: number; key: string; ok: boolean; current_revision: number | null; deleted: boolean };

/** bulk-delete: 3 round trips. Absent keys are no error unless an ifRevision names them. */
export async function bulkDelete(db: Database, install: Install, namespace: string, items: readonly BulkDeleteItem[]) {
  const keys = checkKeys(items.map((i) => i.key));
  const rows = await writeInInstall(db, install, async (q) => {
    const r = await q.run<DeleteRow>("records.delete", [
      install.installId,
      install.tenantId,
      namespace,
      keys,
      items.map((i) => i.ifRevision ?? null),
    ]);
    if (r.some((row) => !row.ok)) throw failedItems(r);
    return r;
  });
  return { deleted: rows.filter((r) => r.deleted).length };
}
