// /v1 record and namespace routes: admit (gate), read the path and query, call the domain.
import { Elysia } from "elysia";
import type { Config } from "../../config.ts";
import { S } from "../../contract/index.ts";
import type { Database } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import type { Metrics } from "../../metrics.ts";
import { bulkDelete, bulkGet, bulkPut } from "../../records/bulk.ts";
import { keyFaults, type WriteItem, writeItemFaults } from "../../records/items.ts";
import { deleteNamespace, listNamespaces } from "../../records/namespaces.ts";
import { deleteRecord, getRecord, listRecords, putRecord } from "../../records/records.ts";
import { answers, BODY, documented, INSTALL, NAMESPACE, passedQuery } from "../answers.ts";
import { ifNoneMatchOf, notModified } from "../conditional.ts";
import { addVary } from "../cors.ts";
import { type Admission, admission as admissionMacro, type ItemCheck } from "../gate.ts";
import { bulkGetJson, listPageJson, recordJson } from "../json.ts";
import { limitedBodies } from "../limits.ts";
import { listQuery, preconditionOf } from "../request.ts";

export type RouteDeps = { db: Database; config: Config; admission: Admission; metrics: Metrics };

const etag = (revision: number) => `"${revision}"`;

/** A body already written as JSON text (see http/json.ts). */
function json(set: { headers: Record<string, unknown> }, text: string): string {
  set.headers["content-type"] = "application/json";
  return text;
}

// What the domain finds wrong with the items of a bulk body whose envelope is valid (see gate.ts).
type Keyed = { keys?: unknown[]; items?: Array<{ key?: unknown } | null> };
const keysOf = (body: unknown) => {
  const b = body as Keyed;
  return b.keys ?? (b.items ?? []).map((item) => item?.key);
};
const checkKeys: ItemCheck = (body, skip) => keyFaults(keysOf(body), skip);
const checkWrites: ItemCheck = (body, skip) => writeItemFaults((body as { items: WriteItem[] }).items, skip);

// The errors each kind of route gives besides admission's (see answers.ts)
const RECORD = [...NAMESPACE, "INVALID_KEY"] as const;
const WRITE = ["QUOTA_EXCEEDED", "VALUE_TOO_LARGE", "SCHEMA_VIOLATION", "REVISION_MISMATCH"] as const;

export function recordRoutes({ db, config, admission, metrics }: RouteDeps) {
  const { limits } = config;
  // the sampled sweep: every Nth list of this process also sweeps its whole install
  let lists = 0;
  const sampleSweep = () => config.ttl.listSweepEvery > 0 && ++lists % config.ttl.listSweepEvery === 0;
  const body = limitedBodies(limits);
  const tags = ["records"];

  return new Elysia({ name: "records" })
    .use(admissionMacro(admission))
    .get(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, set, install, namespace, key }) => {
        const condition = ifNoneMatchOf(request);
        const { record, cleaned } = await getRecord(db, install, namespace, key);
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
      {
        record: "storage:read",
        detail: {
          tags,
          summary: "Read one record (If-None-Match: 304 when it matches)",
          ...documented({ 200: S.Record }, RECORD),
        },
      },
    )
    .put(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, body, set, install, namespace, key }) => {
        const result = await putRecord(db, limits, install, namespace, key, body, preconditionOf(request));
        metrics.countCleanup("put", install, result.replacedExpired);
        metrics.countCleanup("quota", install, result.swept);
        set.status = result.created ? 201 : 200;
        set.headers.etag = etag(result.record.revision);
        return result.record;
      },
      {
        record: { scope: "storage:write", body: body.write },
        body: body.write,
        response: answers({ 200: S.WriteResponse, 201: S.WriteResponse }, [...RECORD, ...BODY, ...WRITE]),
        detail: {
          tags,
          summary: "Create or replace a record (If-Match / If-None-Match: * make it conditional)",
        },
      },
    )
    .delete(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, set, install, namespace, key }) => {
        const precondition = preconditionOf(request);
        if (precondition.ifNoneMatch) throw fail("INVALID_REQUEST", "DELETE honours If-Match only");
        await deleteRecord(db, install, namespace, key, precondition.ifMatch);
        set.status = 204;
      },
      {
        record: "storage:write",
        response: answers({ 204: S.NoContent }, [...RECORD, "REVISION_MISMATCH"]),
        detail: { tags, summary: "Delete a record (If-Match honoured)" },
      },
    )
    .get(
      "/v1/namespaces/:ns/records",
      async ({ request, set, install, namespace }) => {
        const query = listQuery(request, limits.maxListLimit);
        const { page, cleaned, swept } = await listRecords(db, install, namespace, {
          ...query,
          sweepInstall: sampleSweep(),
        });
        metrics.countCleanup("list", install, cleaned);
        metrics.countCleanup("sampling", install, swept);
        return json(set, listPageJson(page));
      },
      {
        namespace: "storage:read",
        query: passedQuery(S.ListQuery),
        detail: {
          tags,
          summary: "List records in key byte order (prefix, limit, cursor, values=false)",
          ...documented({ 200: S.ListPage }, NAMESPACE),
        },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-get",
      async ({ body, set, install, namespace }) => {
        const { result, cleaned } = await bulkGet(db, install, namespace, body.keys);
        metrics.countCleanup("bulk_get", install, cleaned);
        return json(set, bulkGetJson(result));
      },
      {
        namespace: { scope: "storage:read", body: body.bulkKeys, itemCheck: checkKeys },
        body: body.bulkKeys,
        detail: {
          tags,
          summary: "Read many records",
          ...documented({ 200: S.BulkGetResponse }, [...NAMESPACE, ...BODY, "INVALID_KEY"]),
        },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-put",
      async ({ body, install, namespace }) => {
        const { items, replacedExpired, swept } = await bulkPut(db, limits, install, namespace, body.items);
        metrics.countCleanup("bulk_put", install, replacedExpired);
        metrics.countCleanup("quota", install, swept);
        return { items };
      },
      {
        namespace: { scope: "storage:write", body: body.bulkPut, itemCheck: checkWrites },
        body: body.bulkPut,
        response: answers({ 200: S.BulkPutResponse }, [...RECORD, ...BODY, ...WRITE]),
        detail: { tags, summary: "Write many records, all or nothing" },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-delete",
      ({ body, install, namespace }) =>
        bulkDelete(db, install, namespace, "keys" in body ? body.keys.map((key) => ({ key })) : body.items),
      {
        namespace: { scope: "storage:write", body: body.bulkDelete, itemCheck: checkKeys },
        body: body.bulkDelete,
        response: answers({ 200: S.Deleted }, [...RECORD, ...BODY, "REVISION_MISMATCH"]),
        detail: { tags, summary: "Delete many records, all or nothing" },
      },
    )
    .get("/v1/namespaces", ({ install }) => listNamespaces(db, install), {
      install: "storage:read",
      response: answers({ 200: S.Namespaces }, INSTALL),
      detail: { tags: ["namespaces"], summary: "The install's namespaces that hold live records" },
    })
    .delete("/v1/namespaces/:ns", ({ install, namespace }) => deleteNamespace(db, install, namespace), {
      namespace: "storage:write",
      response: answers({ 200: S.Deleted }, NAMESPACE),
      detail: { tags: ["namespaces"], summary: "Delete every record of a namespace, atomically" },
    });
}
