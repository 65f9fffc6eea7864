// Records one at a time, and list: the domain of GET/PUT/DELETE /v1/namespaces/{ns}/records.
// Round trips are counted per operation.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type Install, writeInInstall } from "./install.ts";
import { decodeCursor, encodeCursor, prefixUpperBound } from "./keys.ts";
import { type ExpiryInput, type RecordMeta, type RecordRow, type StoredRecord, toMeta, toRecord } from "./record.ts";
import type { LimitDefaults } from "./usage.ts";
import { writeRecords } from "./write.ts";

export type Precondition = { ifMatch?: number; ifNoneMatch?: boolean };

const mismatch = (currentRevision: number | null) =>
  fail("REVISION_MISMATCH", "the record's revision does not match the precondition", { currentRevision });

type FoundRow = RecordRow & { cleaned: number; key: string | null };
type ListedRow = FoundRow & { before_bytes: string | number | null };

/** GET: 1 round trip (expired-row cleanup included). `cleaned`: expired rows deleted. */
export async function getRecord(db: Database, install: Install, namespace: string, key: string) {
  // one key: the first record always fits the byte cut, whatever the limit
  const [row] = await db.run<FoundRow>("records.get", [install.installId, install.tenantId, namespace, [key], 1]);
  const cleaned = row?.cleaned ?? 0;
  if (row?.key == null) return { record: undefined, cleaned };
  return { record: toRecord(row as RecordRow), cleaned };
}

export type WriteBody = ExpiryInput & { value: unknown };

/** PUT: 4 round trips (see write.ts). */
export async function putRecord(
  db: Database,
  defaults: LimitDefaults,
  install: Install,
  namespace: string,
  key: string,
  body: WriteBody,
  precondition: Precondition,
): Promise<{ created: boolean; record: RecordMeta; replacedExpired: number; swept: number }> {
  const {
    written: [written],
    replacedExpired,
    swept,
  } = await writeRecords(
    db,
    defaults,
    install,
    namespace,
    [{ ...body, key, ifRevision: precondition.ifMatch, ifAbsent: precondition.ifNoneMatch }],
    false,
  );
  if (written === undefined) throw new Error("writeRecords wrote nothing");
  return {
    replacedExpired,
    swept,
    created: written.created,
    record: toMeta({
      key,
      revision: written.revision,
      expires_at: written.expiresAt,
      created_at: written.createdAt,
      updated_at: written.updatedAt,
    }),
  };
}

type DeleteRow = { idx: number; key: string; ok: boolean; current_revision: number | null; deleted: boolean };

/** DELETE: 3 round trips. 404 when absent or expired; If-Match honoured. */
export async function deleteRecord(
  db: Database,
  install: Install,
  namespace: string,
  key: string,
  ifMatch: number | undefined,
): Promise<void> {
  await writeInInstall(db, install, async (q) => {
    const [r] = await q.run<DeleteRow>("records.delete", [
      install.installId,
      install.tenantId,
      namespace,
      [key],
      [ifMatch ?? null],
    ]);
    if (r === undefined) throw new Error("records.delete returned no row");
    if (!r.ok) throw mismatch(r.current_revision);
    if (!r.deleted) throw fail("NOT_FOUND", "no such record");
  });
}

export type ListOptions = {
  prefix: string;
  limit: number;
  cursor: string | undefined;
  values: boolean;
  /** STORAGE_MAX_PAGE_BYTES: the page stops once its records' size_bytes reach it */
  maxPageBytes: number;
  /** Also sweep the whole install's expired rows (the sampled sweep of every Nth list). */
  sweepInstall?: boolean;
};
export type ListPage = { items: Array<RecordMeta | StoredRecord>; cursor: string | null };

/**
 * List: 1 round trip (expired-row cleanup of the namespace included). Asks for one row more
 * than the page to know, without a second query, whether another page follows. With
 * sweepInstall, 3 (BEGIN, sweep + list pipelined, COMMIT).
 */
export async function listRecords(db: Database, install: Install, namespace: string, options: ListOptions) {
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
  let rows: ListedRow[];
  if (options.sweepInstall) {
    const [sweep, listed] = await db.transaction((q) =>
      Promise.all([
        q.run<{ cleaned: number }>("installs.sweep_expired", [install.installId, install.tenantId]),
        q.run<ListedRow>("records.list", params),
      ]),
    );
    swept = sweep[0]?.cleaned ?? 0;
    rows = listed;
  } else {
    rows = await db.run<ListedRow>("records.list", params);
  }
  const found = rows.filter((r) => r.key !== null);
  // the rows that start under the byte limit, at most `limit`; a row past them means more
  const fitting = found.filter((r, i) => i < options.limit && Number(r.before_bytes) < options.maxPageBytes);
  const items = (fitting as RecordRow[]).map(options.values ? toRecord : toMeta);
  const last = items.at(-1);
  const page: ListPage = {
    items,
    cursor: found.length > fitting.length && last !== undefined ? encodeCursor(scope, last.key) : null,
  };
  return { page, cleaned: rows[0]?.cleaned ?? 0, swept };
}
