// /v1 record and namespace routes: admit (gate), read the path and query, call the domain.
import type { TSchema } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import type { Metrics } from "../../metrics.ts";
import { bulkDelete, bulkGet, bulkPut } from "../../records/bulk.ts";
import { keyFaults, type WriteItem, writeItemFaults } from "../../records/items.ts";
import { deleteNamespace, listNamespaces } from "../../records/namespaces.ts";
import type { RecordMeta, StoredRecord } from "../../records/record.ts";
import { deleteRecord, getRecord, listRecords, putRecord } from "../../records/records.ts";
import { ifNoneMatchOf, notModified } from "../conditional.ts";
import { type Admission, bodyGate, gate, type ItemCheck } from "../gate.ts";
import { bulkGetJson, listPageJson, recordJson } from "../json.ts";
import { jsonText, type Reply, send } from "../reply.ts";
import { keyOf, listQuery, namespaceOf, preconditionOf } from "../request.ts";
import { installOf } from "../request-context.ts";
import * as S from "../schemas.ts";

export type RouteDeps = {
  db: Database;
  config: Config;
  admission: Admission;
  metrics: Metrics;
  /** whether this list also sweeps its whole install (records/ttl.ts, sweepSampler) */
  sampleSweep: () => boolean;
};

const etag = (revision: number) => `"${revision}"`;

/** The 200 response schema of a route whose body is written as text, for the OpenAPI document. */
const documented = (schema: TSchema) => ({
  responses: { 200: { description: "OK", content: { "application/json": { schema } } } },
});

// What the domain finds wrong with the items of a bulk body whose envelope is valid (see gate.ts).
type Keyed = { keys?: unknown[]; items?: Array<{ key?: unknown } | null> };
const keysOf = (body: unknown) => {
  const b = body as Keyed;
  return b.keys ?? (b.items ?? []).map((item) => item?.key);
};
const checkKeys: ItemCheck = (body, skip) => keyFaults(keysOf(body), skip);
const checkWrites: ItemCheck = (body, skip) => writeItemFaults((body as { items: WriteItem[] }).items, skip);

// Domain results as replies, one step each.

/** GET of a record: 304 when the client's tag matches. Revisions are counted per install, so
 * a browser cache must not answer one token's request with another's stored copy of the same
 * URL and revision: Vary: authorization. */
function recordReply(record: StoredRecord | undefined, condition: ReturnType<typeof ifNoneMatchOf>): Reply {
  if (record === undefined) throw fail("NOT_FOUND", "no such record");
  const headers = { etag: etag(record.revision), vary: "authorization" };
  if (notModified(condition, record.revision)) return { status: 304, headers, body: "" };
  return jsonText(200, recordJson(record), headers);
}

const writtenReply = (result: { created: boolean; record: RecordMeta }): Reply => ({
  status: result.created ? 201 : 200,
  headers: { etag: etag(result.record.revision) },
  body: result.record,
});

const ok = (body: unknown): Reply => ({ status: 200, body });
const noContent: Reply = { status: 204 };

export function recordRoutes({ db, config, admission, metrics, sampleSweep }: RouteDeps) {
  const { limits } = config;
  const observe = metrics.countCleanup;
  const read = gate(admission, "storage:read");
  const write = gate(admission, "storage:write");
  const body = {
    write: S.WriteBody,
    bulkKeys: S.BulkKeysBody(limits.maxBulkKeys),
    bulkPut: S.BulkPutBody(limits.maxBulkItems),
    bulkDelete: S.BulkDeleteBody(limits.maxBulkKeys),
  };
  const tags = ["records"];

  return new Elysia({ name: "records" })
    .get(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, set }) => {
        const condition = ifNoneMatchOf(request);
        const record = await getRecord(db, installOf(request), namespaceOf(request), keyOf(request), observe);
        return send(set, recordReply(record, condition));
      },
      { ...read, detail: { tags, summary: "Read one record", ...documented(S.Record) } },
    )
    .put(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, body, set }) => {
        const install = installOf(request);
        const ns = namespaceOf(request);
        const result = await putRecord(db, limits, install, ns, keyOf(request), body, preconditionOf(request), observe);
        return send(set, writtenReply(result)) as RecordMeta;
      },
      {
        ...bodyGate(admission, "storage:write", body.write),
        body: body.write,
        response: { 200: S.WriteResponse, 201: S.WriteResponse },
        detail: {
          tags,
          summary: "Create or replace a record (If-Match / If-None-Match: * make it conditional)",
        },
      },
    )
    .delete(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, set }) => {
        const precondition = preconditionOf(request);
        if (precondition.ifNoneMatch) throw fail("INVALID_REQUEST", "DELETE honours If-Match only");
        await deleteRecord(db, limits, installOf(request), namespaceOf(request), keyOf(request), precondition.ifMatch);
        send(set, noContent);
      },
      { ...write, detail: { tags, summary: "Delete a record (If-Match honoured)" } },
    )
    .get(
      "/v1/namespaces/:ns/records",
      async ({ request, set }) => {
        const query = listQuery(request, limits.maxListLimit);
        const page = await listRecords(
          db,
          installOf(request),
          namespaceOf(request),
          { ...query, maxPageBytes: limits.maxPageBytes },
          sampleSweep(),
          observe,
        );
        return send(set, jsonText(200, listPageJson(page)));
      },
      {
        ...read,

        detail: {
          tags,
          summary: "List records in key byte order (prefix, limit, cursor, values=false)",
          ...documented(S.ListPage),
          parameters: ["prefix", "limit", "cursor", "values"].map((name) => ({
            name,
            in: "query",
            required: false,
            schema: { type: "string" },
          })),
        },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-get",
      async ({ request, body, set }) => {
        const result = await bulkGet(
          db,
          installOf(request),
          namespaceOf(request),
          body.keys,
          limits.maxPageBytes,
          observe,
        );
        return send(set, jsonText(200, bulkGetJson(result)));
      },
      {
        ...bodyGate(admission, "storage:read", body.bulkKeys, checkKeys),
        body: body.bulkKeys,

        detail: { tags, summary: "Read many records", ...documented(S.BulkGetResponse) },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-put",
      async ({ request, body, set }) => {
        const result = await bulkPut(db, limits, installOf(request), namespaceOf(request), body.items, observe);
        return send(set, ok(result)) as typeof result;
      },
      {
        ...bodyGate(admission, "storage:write", body.bulkPut, checkWrites),
        body: body.bulkPut,
        response: S.BulkPutResponse,
        detail: { tags, summary: "Write many records, all or nothing" },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-delete",
      async ({ request, body, set }) => {
        const items = "keys" in body ? body.keys.map((key) => ({ key })) : body.items;
        const result = await bulkDelete(db, limits, installOf(request), namespaceOf(request), items);
        return send(set, ok(result)) as typeof result;
      },
      {
        ...bodyGate(admission, "storage:write", body.bulkDelete, checkKeys),
        body: body.bulkDelete,
        response: S.Deleted,
        detail: { tags, summary: "Delete many records, all or nothing" },
      },
    )
    .get(
      "/v1/namespaces",
      async ({ request, set }) => {
        const result = await listNamespaces(db, installOf(request));
        return send(set, ok(result)) as typeof result;
      },
      {
        ...read,
        response: S.Namespaces,
        detail: { tags: ["namespaces"], summary: "The install's namespaces that hold live records" },
      },
    )
    .delete(
      "/v1/namespaces/:ns",
      async ({ request, set }) => {
        const result = await deleteNamespace(db, installOf(request), namespaceOf(request));
        return send(set, ok(result)) as typeof result;
      },
      {
        ...write,
        response: S.Deleted,
        detail: { tags: ["namespaces"], summary: "Delete every record of a namespace, atomically" },
      },
    );
}
