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

/** GET: 1 round trip (expired-row cleanup included). */
export async function getRecord(db: Database, install: Install, namespace: string, key: string): Promise<StoredRecord> {
  const [row] = await db.run<FoundRow>("records.get", [install.installId, install.tenantId, namespace, [key]]);
  if (row?.key == null) throw fail("NOT_FOUND", "no such record");
  return toRecord(row as RecordRow);
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
): Promise<{ created: boolean; record: RecordMeta }> {
  const [written] = await writeRecords(
    db,
    defaults,
    install,
    namespace,
    [{ ...body, key, ifRevision: precondition.ifMatch, ifAbsent: precondition.ifNoneMatch }],
    false,
  );
  if (written === undefined) throw new Error("writeRecords wrote nothing");
  return {
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
