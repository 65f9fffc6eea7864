// Records one at a time, and list: the domain of GET/PUT/DELETE /v1/namespaces/{ns}/records.
// Writes and deletes are one-op requests through the write pipeline (pipeline.ts); their
// refusals are rendered in the shapes of a request of one record. Round trips are counted
// per operation.
import type { Database } from "../db/client.ts";
import type { QueryName } from "../db/sql.ts";
import { type Remember, rememberVia } from "./idempotency.ts";
import type { Install } from "./install.ts";
import { prepareWriteItems, putOps } from "./items.ts";
import { decodeCursor, encodeCursor, prefixUpperBound } from "./keys.ts";
import { account, type OpResult, runWrite, type WriteResult } from "./pipeline.ts";
import { type ExpiryInput, type RecordMeta, type RecordRow, type StoredRecord, toMeta, toRecord } from "./record.ts";
import { refusalOfOne } from "./refusals.ts";
import { type CleanupObserver, ignoreCleanup } from "./ttl.ts";
import type { LimitDefaults } from "./usage.ts";

export type Precondition = { ifMatch?: number; ifNoneMatch?: boolean };

type FoundRow = RecordRow & { key: string | null } & ReadCleanup;
type ListedRow = FoundRow & { before_bytes: string | number | null };

/** What a read's rows say of the namespace's expired rows: records.get, records.bulk_get and
 * records.list whether there are any, their _cleaning variants how many they deleted. */
export type ReadCleanup = { expired_pending?: boolean; cleaned?: number | string };

type Read = { name: QueryName; params: readonly unknown[] };

/**
 * A read and, only when it saw expired rows in the namespace, its _cleaning variant, which
 * deletes and counts them in its own statement (and so its transaction) and reads again
 * (spec section 8): the second round trip is paid only when there is something to clean.
 * Returns the rows of the read whose result stands and the rows deleted.
 */
export async function readCleaning<Row extends ReadCleanup>(
  db: Database,
  read: Read,
  cleaning: Read,
): Promise<{ rows: Row[]; cleaned: number }> {
  const rows = await db.run<Row>(read.name, read.params);
  if (rows[0]?.expired_pending !== true) return { rows, cleaned: 0 };
  const again = await db.run<Row>(cleaning.name, cleaning.params);
  return { rows: again, cleaned: Number(again[0]?.cleaned ?? 0) };
}

/** GET: 1 round trip; 2 when the namespace holds expired rows (the second cleans them). The
 * record, or undefined. */
export async function getRecord(
  db: Database,
  install: Install,
  namespace: string,
  key: string,
  observe: CleanupObserver = ignoreCleanup,
): Promise<StoredRecord | undefined> {
  const scope = [install.installId, install.tenantId, namespace];
  const read = await readCleaning<FoundRow>(
    db,
    { name: "records.get", params: [...scope, key] },
    // one key: the first record always fits the byte cut, whatever the limit
    { name: "records.get_cleaning", params: [...scope, [key], 1] },
  );
  observe("get", install, read.cleaned);
  const [row] = read.rows;
  return row?.key == null ? undefined : toRecord(row as RecordRow);
}

export type WriteBody = ExpiryInput & { value: unknown };

/** PUT: 2 round trips (see pipeline.ts). */
export async function putRecord(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  key: string,
  body: WriteBody,
  precondition: Precondition,
  observe: CleanupObserver = ignoreCleanup,
  remember?: Remember<{ created: boolean; record: RecordMeta }>,
): Promise<{ created: boolean; record: RecordMeta }> {
  const item = { ...body, key, ifRevision: precondition.ifMatch, ifAbsent: precondition.ifNoneMatch };
  const ops = putOps(namespace, prepareWriteItems([item], false));
  const result = await runWrite(db, defaults, install, { ops, trigger: "put" }, observe, rememberVia(remember, putOf));
  return putOf(result);
}

function writtenOne(result: WriteResult): OpResult & { written: NonNullable<OpResult["written"]>; revision: number } {
  if (!result.ok) throw refusalOfOne(result.refusal);
  const [written] = result.results;
  if (written?.written === undefined || written.revision === null) throw new Error("the write pipeline wrote nothing");
  return { ...written, written: written.written, revision: written.revision };
}

const rowOf = (written: ReturnType<typeof writtenOne>) => ({
  key: written.key,
  revision: written.revision,
  expires_at: written.written.expiresAt,
  created_at: written.written.createdAt,
  updated_at: written.written.updatedAt,
});

function putOf(result: WriteResult): { created: boolean; record: RecordMeta } {
  const written = writtenOne(result);
  return { created: written.created, record: toMeta(rowOf(written)) };
}

function patchedOf(result: WriteResult): StoredRecord {
  const written = writtenOne(result);
  return { ...toMeta(rowOf(written)), valueJson: written.written.valueJson };
}

/**
 * PATCH (JSON Merge Patch, RFC 7396): 2 round trips like a PUT (see pipeline.ts): the stored
 * value is read with the state under the install's lock (records.state_values), so
 * concurrent patches never lose an update. The merged value is sized, validated and charged
 * like a PUT's and keeps the record's expiry. Absent or expired: 404; If-Match honoured.
 */
export async function patchRecord(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  key: string,
  patch: unknown,
  ifMatch: number | undefined,
  observe: CleanupObserver = ignoreCleanup,
  remember?: Remember<StoredRecord>,
): Promise<StoredRecord> {
  const ops = [{ op: "merge" as const, namespace, key, patch, ifRevision: ifMatch, mustExist: true }];
  const result = await runWrite(
    db,
    defaults,
    install,
    { ops, trigger: "put" },
    observe,
    rememberVia(remember, patchedOf),
  );
  return patchedOf(result);
}

/** DELETE: 2 round trips (see pipeline.ts). 404 when absent or expired; If-Match honoured. */
export async function deleteRecord(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  key: string,
  ifMatch: number | undefined,
  remember?: Remember<void>,
): Promise<void> {
  const ops = [{ op: "delete" as const, namespace, key, ifRevision: ifMatch, mustExist: true }];
  const deleted = (result: WriteResult): void => {
    if (!result.ok) throw refusalOfOne(result.refusal);
  };
  deleted(await runWrite(db, defaults, install, { ops }, ignoreCleanup, rememberVia(remember, deleted)));
}

export type ListOptions = {
  prefix: string;
  limit: number;
  cursor: string | undefined;
  values: boolean;
  /** STORAGE_MAX_PAGE_BYTES: the page stops once its records' size_bytes reach it */
  maxPageBytes: number;
};
export type ListPage = { items: Array<RecordMeta | StoredRecord>; cursor: string | null };

type SweepRow = { cleaned: number; bytes: number; last_revision: number | null };

/**
 * List: 1 round trip; 2 when the namespace holds expired rows (the second cleans them, see
 * readCleaning). Asks for one row more
 * than the page to know, without a second query, whether another page follows. With
 * sweepInstall (the sampled sweep of every Nth list), the whole install's expired rows are
 * deleted too: 3 round trips (BEGIN + sweep; its accounting + the list pipelined; COMMIT).
 */
export async function listRecords(
  db: Database,
  install: Install,
  namespace: string,
  options: ListOptions,
  sweepInstall = false,
  observe: CleanupObserver = ignoreCleanup,
): Promise<ListPage> {
  const scope = { tenantId: install.tenantId, installId: install.installId, namespace, prefix: options.prefix };
  const after = options.cursor === undefined ? "" : decodeCursor(scope, options.cursor);
  const params = [
    install.installId,
    install.tenantId,
    namespace,
    after,
    options.prefix,
    prefixUpperBound(options.prefix),
    options.limit + 1,
    options.values,
    options.maxPageBytes,
  ];
  let swept = 0;
  let cleaned = 0;
  let rows: ListedRow[];
  if (sweepInstall) {
    rows = await db.transaction(async (q) => {
      // accounted before the list, whose own cleanup adds to the counter after it
      const [sweep] = await q.run<SweepRow>("installs.sweep_expired", [install.installId, install.tenantId]);
      const accounted =
        sweep !== undefined && sweep.cleaned > 0 && sweep.last_revision !== null
          ? account(q, install, {
              bytes: -sweep.bytes,
              records: -sweep.cleaned,
              // each row swept takes a revision
              lastRevision: sweep.last_revision + sweep.cleaned,
            })
          : undefined;
      const [, listed] = await Promise.all([accounted, q.run<ListedRow>("records.list_cleaning", params)]);
      swept = sweep?.cleaned ?? 0;
      return listed;
    });
    cleaned = Number(rows[0]?.cleaned ?? 0);
  } else {
    ({ rows, cleaned } = await readCleaning<ListedRow>(
      db,
      { name: "records.list", params },
      { name: "records.list_cleaning", params },
    ));
  }
  observe("list", install, cleaned);
  observe("sampling", install, swept);
  const found = rows.filter((r) => r.key !== null);
  // the rows that start under the byte limit, at most `limit`; a row past them means more
  const fitting = found.filter((r, i) => i < options.limit && Number(r.before_bytes) < options.maxPageBytes);
  const items = (fitting as RecordRow[]).map(options.values ? toRecord : toMeta);
  const last = items.at(-1);
  return {
    items,
    cursor: found.length > fitting.length && last !== undefined ? encodeCursor(scope, last.key) : null,
  };
}
