// Export of an install: its limits, schemas and live records as NDJSON (docs/decisions.md
// "Export and import"), produced page by page as the response is read, so its memory is one
// page whatever the install's size.
//
// Not one snapshot: every page is a short transaction of its own (under the service's 5 s
// bound), so no transaction is held open for the minutes a large export may take, holding
// back vacuum and a pool connection. Each page is consistent in itself; the
// keyset walk never repeats a key and never skips one that lived throughout; a record
// written, changed or deleted while the export runs may or may not be in it.
import { EXPORT_FORMAT } from "../contract/schemas.ts";
import { type Database, sentAhead } from "../db/client.ts";
import type { InstallRef } from "./admin.ts";
import { canonicalFromJsonb } from "./values.ts";

/** Rows of one records.export page, and the bytes (size_bytes summed) after which it stops. */
export type PageBounds = { rows: number; bytes: number };
// 1,000 rows: a page takes a few milliseconds of the database, and a 100,000-record export
// 100 of them. 4 MiB: the page's values, what the service holds of an export at a time.
export const EXPORT_PAGE: PageBounds = { rows: 1000, bytes: 4 * 1024 * 1024 };

type HeadRow = { extension_id: string; max_bytes: number | null; max_records: number | null };
type SchemaRow = {
  namespace: string;
  json_schema: unknown;
  default_ttl_seconds: number | null;
  max_value_bytes: number | null;
};
type RecordRow = {
  namespace: string;
  key: string;
  value: string | null;
  value_from_jsonb: boolean;
  expires_at: Date | null;
};

const str = JSON.stringify;

export const recordLine = (r: RecordRow) =>
  `{"type":"record","namespace":${str(r.namespace)},"key":${str(r.key)},"value":${
    r.value == null ? "null" : r.value_from_jsonb ? canonicalFromJsonb(r.value) : r.value
  },"expiresAt":${r.expires_at === null ? "null" : str(r.expires_at.toISOString())}}\n`;

/** The lines before the records: header, limits and every schema. 2 round trips. */
async function head(db: Database, ref: InstallRef): Promise<{ text: string; schemas: number }> {
  const [[install], schemas] = await Promise.all([
    db.run<HeadRow>("installs.export_head", [ref.installId, ref.tenantId]),
    db.run<SchemaRow>("schemas.export", [ref.installId, ref.tenantId]),
  ]);
  const lines = [
    str({
      type: "install",
      format: EXPORT_FORMAT,
      tenantId: ref.tenantId,
      installId: ref.installId,
      extensionId: install?.extension_id ?? "",
      exportedAt: new Date().toISOString(),
    }),
    str({ type: "limits", maxBytes: install?.max_bytes ?? null, maxRecords: install?.max_records ?? null }),
    ...schemas.map((s) =>
      str({
        type: "schema",
        namespace: s.namespace,
        jsonSchema: s.json_schema,
        defaultTtlSeconds: s.default_ttl_seconds,
        maxValueBytes: s.max_value_bytes,
      }),
    ),
  ];
  return { text: `${lines.join("\n")}\n`, schemas: schemas.length };
}

/**
 * The export as a byte stream pulled by its reader: the next page is read from the
 * database only once the previous one was taken (the response's backpressure), and a
 * reader that cancels (a client gone) stops it before its next page. The head is read
 * before the stream is handed out, so a database that cannot answer is a 503, not a 200
 * cut short; a database error after that errors the stream: the response is cut short
 * without its end line, which an import refuses.
 */
export async function exportInstall(
  db: Database,
  ref: InstallRef,
  pageBounds: PageBounds = EXPORT_PAGE,
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  const first = await head(db, ref);
  const schemas = first.schemas;
  let started = false;
  let done = false;
  let after: [string, string] = ["", ""];
  let records = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (done) return;
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(first.text));
          return;
        }
        // one short transaction per page, only so that its plan walks the primary key in
        // order (transactions.ordered_scan): 2 round trips (BEGIN, the setting and the
        // page pipelined; COMMIT)
        const rows = await db.transaction(
          async (q) => {
            const ordered = q.run("transactions.ordered_scan", []);
            const page = sentAhead(
              q.run<RecordRow>("records.export", [
                ref.installId,
                ref.tenantId,
                after[0],
                after[1],
                pageBounds.rows,
                pageBounds.bytes,
              ]),
            );
            await ordered;
            return page;
          },
          { readOnly: true },
        );
        if (done) return; // cancelled while the page was read
        const last = rows.at(-1);
        // the walk ends at the first empty page: a short one may have been cut by its bytes
        if (last === undefined) {
          done = true;
          controller.enqueue(encoder.encode(`${str({ type: "end", records, schemas })}\n`));
          controller.close();
          return;
        }
        records += rows.length;
        after = [last.namespace, last.key];
        controller.enqueue(encoder.encode(rows.map(recordLine).join("")));
      },
      cancel() {
        done = true;
      },
    },
    { highWaterMark: 0 },
  );
}
