// /v1 record and namespace routes: admitted by the admission macro (gate.ts), which hands
// each handler its typed install, namespace and key; the handler calls the domain and turns
// its result into a reply (reply.ts) in one step.
import { Elysia } from "elysia";
import type { Config } from "../../config.ts";
import { S } from "../../contract/index.ts";
import type { Database } from "../../db/client.ts";
import { fail } from "../../errors.ts";
import type { Metrics } from "../../metrics.ts";
import { type AtomicResult, atomic } from "../../records/atomic.ts";
import { bulkDelete, bulkGet, bulkPut } from "../../records/bulk.ts";
import { keyFaults, type WriteItem, writeItemFaults } from "../../records/items.ts";
import { deleteNamespace, listNamespaces } from "../../records/namespaces.ts";
import type { RecordMeta, StoredRecord } from "../../records/record.ts";
import { deleteRecord, getRecord, listRecords, patchRecord, putRecord } from "../../records/records.ts";
import type { CleanupObserver } from "../../records/ttl.ts";
import { valueProblem } from "../../records/values.ts";
import type { Watchers } from "../../records/watch.ts";
import { answers, BODY, documented, INSTALL, NAMESPACE, passedQuery } from "../answers.ts";
import { ifNoneMatchOf, notModified } from "../conditional.ts";
import { type Admission, admission as admissionMacro, type ItemCheck } from "../gate.ts";
import { replying } from "../idempotency.ts";
import { bulkGetJson, listPageJson, recordJson } from "../json.ts";
import { limitedBodies } from "../limits.ts";
import { contentOf, MERGE_PATCH_BODY } from "../media-types.ts";
import { jsonText, noContent, ok, type Reply, send } from "../reply.ts";
import { listQuery, preconditionOf } from "../request.ts";

export type RouteDeps = {
  db: Database;
  config: Config;
  admission: Admission;
  metrics: Metrics;
  /** told of every cleanup of expired rows after it committed (metrics, watchers) */
  observeCleanup?: CleanupObserver;
  /** the open watch streams of this process (a purge ends its install's) */
  watchers?: Watchers;
  /** whether this list also sweeps its whole install (records/ttl.ts, sweepSampler) */
  sampleSweep: () => boolean;
};

const etag = (revision: number) => `"${revision}"`;

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
// a reused Idempotency-Key (any write), an op that cannot apply (atomic)
const WRITES = ["CONFLICT"] as const;

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
/** PATCH: the whole record, with its value as written, and its tag. */
const patchedReply = (record: StoredRecord): Reply =>
  jsonText(200, recordJson(record), { etag: etag(record.revision) });

export function recordRoutes({ db, config, admission, metrics, observeCleanup, sampleSweep }: RouteDeps) {
  const { limits } = config;
  const keepFor = limits.idempotencyTtlSeconds;
  const observe = observeCleanup ?? metrics.countCleanup;
  const body = limitedBodies(limits);
  const tags = ["records"];

  return new Elysia({ name: "records" })
    .use(admissionMacro(admission))
    .get(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, set, install, namespace, key }) => {
        const condition = ifNoneMatchOf(request);
        const record = await getRecord(db, install, namespace, key, observe);
        return send(set, recordReply(record, condition));
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
        const precondition = preconditionOf(request);
        return (await replying(
          set,
          request,
          keepFor,
          (remember) => putRecord(db, limits, install, namespace, key, body, precondition, observe, remember),
          writtenReply,
        )) as RecordMeta;
      },
      {
        record: { scope: "storage:write", body: body.write },
        body: body.write,
        response: answers({ 200: S.WriteResponse, 201: S.WriteResponse }, [...RECORD, ...BODY, ...WRITE, ...WRITES]),
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
        await replying(
          set,
          request,
          keepFor,
          (remember) => deleteRecord(db, limits, install, namespace, key, precondition.ifMatch, remember),
          () => noContent,
        );
      },
      {
        record: "storage:write",
        response: answers({ 204: S.NoContent }, [...RECORD, "REVISION_MISMATCH", ...WRITES]),
        detail: { tags, summary: "Delete a record (If-Match honoured)" },
      },
    )
    .patch(
      "/v1/namespaces/:ns/records/:key",
      async ({ request, body, set, install, namespace, key }) => {
        const precondition = preconditionOf(request);
        if (precondition.ifNoneMatch) throw fail("INVALID_REQUEST", "PATCH honours If-Match only");
        const problem = valueProblem(body);
        if (problem !== undefined) throw fail("INVALID_REQUEST", `patch: ${problem}`);
        return replying(
          set,
          request,
          keepFor,
          (remember) => patchRecord(db, limits, install, namespace, key, body, precondition.ifMatch, observe, remember),
          patchedReply,
        );
      },
      {
        record: { scope: "storage:write", body: S.PatchBody, types: MERGE_PATCH_BODY },
        // documented here rather than hooked: Elysia's document names application/json only
        detail: {
          tags,
          summary: "Apply a JSON Merge Patch (RFC 7396) to a record's value (If-Match honoured; keeps its expiry)",
          requestBody: { required: true, content: contentOf(MERGE_PATCH_BODY, S.PatchBody) },
          ...documented({ 200: S.Record }, [...RECORD, ...BODY, ...WRITE, ...WRITES]),
        },
      },
    )
    .get(
      "/v1/namespaces/:ns/records",
      async ({ request, set, install, namespace }) => {
        const query = listQuery(request, limits.maxListLimit);
        const page = await listRecords(
          db,
          install,
          namespace,
          { ...query, maxPageBytes: limits.maxPageBytes },
          sampleSweep(),
          observe,
        );
        return send(set, jsonText(200, listPageJson(page)));
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
        const result = await bulkGet(db, install, namespace, body.keys, limits.maxPageBytes, observe);
        return send(set, jsonText(200, bulkGetJson(result)));
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
      async ({ request, body, set, install, namespace }) => {
        return (await replying(
          set,
          request,
          keepFor,
          (remember) => bulkPut(db, limits, install, namespace, body.items, observe, remember),
          ok,
        )) as S.BulkPutResponse;
      },
      {
        namespace: { scope: "storage:write", body: body.bulkPut, itemCheck: checkWrites },
        body: body.bulkPut,
        response: answers({ 200: S.BulkPutResponse }, [...RECORD, ...BODY, ...WRITE, ...WRITES]),
        detail: { tags, summary: "Write many records, all or nothing" },
      },
    )
    .post(
      "/v1/namespaces/:ns/bulk-delete",
      async ({ request, body, set, install, namespace }) => {
        const items = "keys" in body ? body.keys.map((key) => ({ key })) : body.items;
        return (await replying(
          set,
          request,
          keepFor,
          (remember) => bulkDelete(db, limits, install, namespace, items, remember),
          ok,
        )) as { deleted: number };
      },
      {
        namespace: { scope: "storage:write", body: body.bulkDelete, itemCheck: checkKeys },
        body: body.bulkDelete,
        response: answers({ 200: S.Deleted }, [...RECORD, ...BODY, "REVISION_MISMATCH", ...WRITES]),
        detail: { tags, summary: "Delete many records, all or nothing" },
      },
    )
    .get(
      "/v1/namespaces",
      async ({ set, install }) => {
        const result = await listNamespaces(db, install);
        return send(set, ok(result)) as typeof result;
      },
      {
        install: "storage:read",
        response: answers({ 200: S.Namespaces }, INSTALL),
        detail: { tags: ["namespaces"], summary: "The install's namespaces that hold live records" },
      },
    )
    .delete(
      "/v1/namespaces/:ns",
      async ({ request, set, install, namespace }) => {
        return (await replying(
          set,
          request,
          keepFor,
          (remember) => deleteNamespace(db, install, namespace, remember),
          ok,
        )) as { deleted: number };
      },
      {
        namespace: "storage:write",
        response: answers({ 200: S.Deleted }, [...NAMESPACE, ...WRITES]),
        detail: { tags: ["namespaces"], summary: "Delete every record of a namespace, atomically" },
      },
    )
    .post(
      "/v1/atomic",
      async ({ request, body, set, install }) => {
        return (await replying(
          set,
          request,
          keepFor,
          (remember) => atomic(db, limits, install, body, observe, remember),
          ok,
        )) as AtomicResult;
      },
      {
        install: { scope: "storage:write", body: body.atomic },
        body: body.atomic,
        response: answers({ 200: S.AtomicResponse }, [
          ...INSTALL,
          ...BODY,
          "INVALID_KEY",
          "INVALID_NAMESPACE",
          ...WRITE,
          ...WRITES,
        ]),
        detail: {
          tags: ["atomic"],
          summary: "Checks and ops (set, delete, increment, merge) over any namespaces, all or nothing",
        },
      },
    );
}
