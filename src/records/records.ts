// Records one at a time, and list: the domain of GET/PUT/DELETE /v1/namespaces/{ns}/records.
// Round trips are counted per operation; see install.ts for the write transaction's three.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import { type Install, writeInInstall } from "./install.ts";
import { decodeCursor, encodeCursor, prefixUpperBound } from "./keys.ts";
import {
  type ExpiryInput,
  expiryParams,
  type RecordMeta,
  type RecordRow,
  type StoredRecord,
  toMeta,
  toRecord,
} from "./record.ts";
import { prepareValue } from "./values.ts";

export type Precondition = { ifMatch?: number; ifNoneMatch?: boolean };

const mismatch = (currentRevision: number | null) =>
  fail("REVISION_MISMATCH", "the record's revision does not match the precondition", { currentRevision });

type FoundRow = RecordRow & { cleaned: number; key: string | null };

/** GET: 1 round trip (expired-row cleanup included). */
export async function getRecord(db: Database, install: Install, namespace: string, key: string): Promise<StoredRecord> {
  const [row] = await db.run<FoundRow>("records.get", [install.installId, install.tenantId, namespace, [key]]);
  if (row?.key == null) throw fail("NOT_FOUND", "no such record");
  return toRecord(row as RecordRow);
}

export type WriteBody = ExpiryInput & { value: unknown };

type PutRow = {
  ok: boolean;
  current_revision: number | null;
  revision: number | null;
  expires_at: Date | null;
  created_at: Date | null;
  updated_at: Date | null;
};

/** PUT: 3 round trips (BEGIN, lock + upsert pipelined, COMMIT). */
export async function putRecord(
  db: Database,
  install: Install,
  namespace: string,
  key: string,
  body: WriteBody,
  precondition: Precondition,
  maxValueBytes: number,
): Promise<{ created: boolean; record: RecordMeta }> {
  const value = prepareValue(key, body.value, maxValueBytes, "value");
  const [ttl, expiresAt] = expiryParams(body, "value");
  const row = await writeInInstall(db, install, async (q) => {
    const [r] = await q.run<PutRow>("records.put", [
      install.installId,
      install.tenantId,
      install.extensionId,
      namespace,
      key,
      value.json,
      value.sizeBytes,
      ttl,
      expiresAt,
      precondition.ifMatch ?? null,
      precondition.ifNoneMatch ?? false,
    ]);
    if (r === undefined || !r.ok) throw mismatch(r?.current_revision ?? null);
    if (r.revision === null) throw new Error("records.put held its precondition but wrote nothing");
    return r;
  });
  return {
    created: row.current_revision === null,
    record: toMeta({
      key,
      revision: row.revision as number,
      expires_at: row.expires_at,
      created_at: row.created_at as Date,
      updated_at: row.updated_at as Date,
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

export type ListOptions = { prefix: string; limit: number; cursor: string | undefined; values: boolean };
export type ListPage = { items: Array<RecordMeta | StoredRecord>; cursor: string | null };

/** List: 1 round trip (expired-row cleanup included). Asks for one row more than the page
 * to know, without a second query, whether another page follows. */
export async function listRecords(
  db: Database,
  install: Install,
  namespace: string,
  options: ListOptions,
): Promise<ListPage> {
  const scope = { tenantId: install.tenantId, installId: install.installId, namespace, prefix: options.prefix };
  const after = options.cursor === undefined ? "" : decodeCursor(scope, options.cursor);
  const rows = await db.run<FoundRow>("records.list", [
    install.installId,
    install.tenantId,
    namespace,
    after,
    options.prefix,
    prefixUpperBound(options.prefix),
    options.limit + 1,
    options.values,
  ]);
  const found = rows.filter((r) => r.key !== null) as RecordRow[];
  const items = found.slice(0, options.limit).map(options.values ? toRecord : toMeta);
  const last = items.at(-1);
  return {
    items,
    cursor: found.length > options.limit && last !== undefined ? encodeCursor(scope, last.key) : null,
  };
}
