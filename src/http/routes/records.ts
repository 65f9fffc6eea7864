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
import { deleteRecord, getRecord, listRecords, putRecord } from "../../records/records.ts";
import { ifNoneMatchOf, notModified } from "../conditional.ts";
import { addVary } from "../cors.ts";
import { type Admission, bodyGate, gate, type ItemCheck } from "../gate.ts";
import { bulkGetJson, listPageJson, recordJson } from "../json.ts";
import { keyOf, listQuery, namespaceOf, preconditionOf } from "../request.ts";
import { installOf } from "../request-context.ts";
import * as S from "../schemas.ts";

export type RouteDeps = { db: Database; config: Config; admission: Admission; metrics: Metrics };

const etag = (revision: number) => `"${revision}"`;

/** A body already written as JSON text (see http/json.ts). */
function json(set: { headers: Record<string, unknown> }, text: string): string {
  set.headers["content-type"] = "application/json";
  return text;
}

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

export function recordRoutes({ db, config, admission, metrics }: RouteDeps) {
  const { limits } = config;
  // the sampled sweep: every Nth list of this process also sweeps its whole install
  let lists = 0;
  const sampleSweep = () => config.ttl.listSweepEvery > 0 && ++lists % config.ttl.listSweepEvery === 0;
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
        const install = installOf(request);
        const condition = ifNoneMatchOf(request);
        const { record, cleaned } = await getRecord(db, install, namespaceOf(request), keyOf(request));
        metrics.countCleanup("get", install, cleaned);
        if (record === undefined) throw fail("NOT_FOUND", "no such record");
        set.headers.etag = etag(record.revision);
        // revisions are counted per install: a browser cache must not answer one token's
        // request with another's stored copy of the same URL and revision
        addVary(set.headers, "authorization");
        if (notModified(condition, record.revision)) {
          set.status = 304;
          return "";
        }
        return json(set, recordJson(record));
      },
      { ...read, detail: { tags, summary: "Read one record", ...documented(S.Record) } },
    )
    .put(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, body, set }) => {
        const install = installOf(request);
        const result = await putRecord(
          db,
          limits,
          install,
          namespaceOf(request),
          keyOf(request),
          body,
          preconditionOf(request),
        );
        metrics.countCleanup("put", install, result.replacedExpired);
        metrics.countCleanup("quota", install, result.swept);
        set.status = result.created ? 201 : 200;
        set.headers.etag = etag(result.record.revision);
        return result.record;
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
        await deleteRecord(db, installOf(request), namespaceOf(request), keyOf(request), precondition.ifMatch);
        set.status = 204;
      },
      { ...write, detail: { tags, summary: "Delete a record (If-Match honoured)" } },
    )
    .get(
      "/v1/namespaces/:ns/records",
      async ({ request, set }) => {
        const install = installOf(request);
        const query = listQuery(request, limits.maxListLimit);
        const { page, cleaned, swept } = await listRecords(db, install, namespaceOf(request), {
          ...query,
          maxPageBytes: limits.maxPageBytes,
          sweepInstall: sampleSweep(),
        });
        metrics.countCleanup("list", install, cleaned);
        metrics.countCleanup("sampling", install, swept);
        return json(set, listPageJson(page));
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
        const install = installOf(request);
        const { result, cleaned } = await bulkGet(db, install, namespaceOf(request), body.keys, limits.maxPageBytes);
        metrics.countCleanup("bulk_get", install, cleaned);
        return json(set, bulkGetJson(result));
      },
      {
        ...bodyGate(admission, "storage:read", body.bulkKeys, checkKeys),
        body: body.bulkKeys,

        detail: { tags, summary: "Read many records", ...documented(S.BulkGetResponse) },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-put",
      async ({ request, body }) => {
        const install = installOf(request);
        const { items, replacedExpired, swept } = await bulkPut(db, limits, install, namespaceOf(request), body.items);
        metrics.countCleanup("bulk_put", install, replacedExpired);
        metrics.countCleanup("quota", install, swept);
        return { items };
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
      ({ request, body }) =>
        bulkDelete(
          db,
          installOf(request),
          namespaceOf(request),
          "keys" in body ? body.keys.map((key) => ({ key })) : body.items,
        ),
      {
        ...bodyGate(admission, "storage:write", body.bulkDelete, checkKeys),
        body: body.bulkDelete,
        response: S.Deleted,
        detail: { tags, summary: "Delete many records, all or nothing" },
      },
    )
    .get("/v1/namespaces", ({ request }) => listNamespaces(db, installOf(request)), {
      ...read,
      response: S.Namespaces,
      detail: { tags: ["namespaces"], summary: "The install's namespaces that hold live records" },
    })
    .delete("/v1/namespaces/:ns", ({ request }) => deleteNamespace(db, installOf(request), namespaceOf(request)), {
      ...write,
      response: S.Deleted,
      detail: { tags: ["namespaces"], summary: "Delete every record of a namespace, atomically" },
    });
}
