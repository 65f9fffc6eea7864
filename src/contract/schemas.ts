// The request, response and query shapes of the contract (spec section 5), as TypeBox
// schemas: the single source of validation, of the OpenAPI document and of the handlers' and
// clients' types. Imports nothing of the server, so that a client can import it as is.
// TypeBox itself, not Elysia's `t`: Elysia's Integer also accepts numeric strings ("5").
// The shapes do not change with configuration: the deployment's limits (item counts, value
// bytes) are applied to them by the server (http/limits.ts), not built into them.
import { type Static, Type as t } from "@sinclair/typebox";

/** The longest TTL, and how far ahead an expiresAt may lie: one year, in seconds. */
export const MAX_TTL_SECONDS = 31_536_000;

const strict = { additionalProperties: false } as const;

/** A tenant, extension, install or request id: 1–128 characters of [A-Za-z0-9._:-]. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const ttl = {
  ttlSeconds: t.Optional(t.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
  expiresAt: t.Optional(
    t.String({
      description:
        "RFC 3339 date-time with a real date (any fraction digits, kept to the ms), in the future, at most one year ahead",
    }),
  ),
};
const revision = t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const key = t.String({ description: "1–512 bytes of UTF-8, no control characters, not . or .." });
const timestamp = t.String({ description: "RFC 3339" });

export const WriteBody = t.Object({ value: t.Unknown(), ...ttl }, strict);

export const BulkKeysBody = t.Object({ keys: t.Array(key, { minItems: 1 }) }, strict);

export const BulkPutBody = t.Object(
  {
    items: t.Array(
      t.Object(
        { key, value: t.Unknown(), ...ttl, ifRevision: t.Optional(revision), ifAbsent: t.Optional(t.Literal(true)) },
        strict,
      ),
      { minItems: 1 },
    ),
  },
  strict,
);

export const BulkDeleteBody = t.Union([
  t.Object({ keys: t.Array(key, { minItems: 1 }) }, strict),
  t.Object({ items: t.Array(t.Object({ key, ifRevision: t.Optional(revision) }, strict), { minItems: 1 }) }, strict),
]);

const recordFields = {
  key,
  revision,
  expiresAt: t.Union([timestamp, t.Null()]),
  createdAt: timestamp,
  updatedAt: timestamp,
};
export const Record = t.Object({ ...recordFields, value: t.Unknown() });
export const WriteResponse = t.Object(recordFields);
export const ListPage = t.Object({
  items: t.Array(t.Object({ ...recordFields, value: t.Optional(t.Unknown()) })),
  cursor: t.Union([t.String(), t.Null()]),
});
export const BulkGetResponse = t.Object({
  items: t.Array(Record),
  missing: t.Array(key),
  unprocessed: t.Array(key, {
    description: "live records left out to keep the answer under STORAGE_MAX_PAGE_BYTES; ask for them again",
  }),
});
export const BulkPutResponse = t.Object({
  items: t.Array(t.Object({ key, revision, created: t.Boolean(), expiresAt: t.Union([timestamp, t.Null()]) })),
});
export const Deleted = t.Object({ deleted: t.Integer({ minimum: 0 }) });
export const Namespaces = t.Object({
  namespaces: t.Array(t.Object({ namespace: t.String(), recordCount: t.Integer(), bytesUsed: t.Integer() })),
});
export const SchemaBody = t.Object(
  {
    jsonSchema: t.Union([t.Object({}), t.Boolean()], { description: "a JSON Schema, draft 2020-12" }),
    defaultTtlSeconds: t.Optional(t.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
    maxValueBytes: t.Optional(
      t.Integer({ minimum: 1, description: "at most the deployment's STORAGE_MAX_VALUE_BYTES" }),
    ),
  },
  strict,
);
export const Schema = t.Object({
  jsonSchema: t.Unknown(),
  version: revision,
  defaultTtlSeconds: t.Union([t.Integer(), t.Null()]),
  maxValueBytes: t.Union([t.Integer(), t.Null()]),
});
const limitsFields = { maxBytes: t.Integer({ minimum: 0 }), maxRecords: t.Integer({ minimum: 0 }) };
export const Usage = t.Object({
  bytesUsed: t.Integer(),
  recordCount: t.Integer(),
  limits: t.Object({ ...limitsFields, maxValueBytes: t.Integer() }),
});
export const LimitsBody = t.Object(
  {
    maxBytes: t.Optional(t.Union([t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), t.Null()])),
    maxRecords: t.Optional(t.Union([t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), t.Null()])),
  },
  strict,
);
export const Limits = t.Object(limitsFields);
/** PATCH body: a JSON Merge Patch (RFC 7396) of the record's value; any JSON value. */
export const PatchBody = t.Unknown({
  description: "a JSON Merge Patch (RFC 7396): null members remove, a non-object replaces the value",
});

const namespace = t.String({ description: "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$" });
/** One check of an atomic request: the key live at `revision`, or absent (`null`). */
export const AtomicCheck = t.Object(
  { namespace, key, revision: t.Union([revision, t.Null()], { description: "null: the key must be absent" }) },
  strict,
);
export const AtomicSet = t.Object({ op: t.Literal("set"), namespace, key, value: t.Unknown(), ...ttl }, strict);
export const AtomicDelete = t.Object({ op: t.Literal("delete"), namespace, key }, strict);
export const AtomicIncrement = t.Object(
  {
    op: t.Literal("increment"),
    namespace,
    key,
    path: t.Optional(t.String({ description: 'a JSON Pointer (RFC 6901) into the value; "" (default): the value' })),
    by: t.Number({ description: "a finite number added to the number at path" }),
  },
  strict,
);
export const AtomicMerge = t.Object(
  { op: t.Literal("merge"), namespace, key, patch: t.Unknown({ description: "RFC 7396 merge patch" }) },
  strict,
);
export const AtomicOp = t.Union([AtomicSet, AtomicDelete, AtomicIncrement, AtomicMerge]);
/** POST /v1/atomic: checks and ops over any namespaces of the install, all or nothing. */
export const AtomicBody = t.Object(
  { checks: t.Optional(t.Array(AtomicCheck)), ops: t.Array(AtomicOp, { minItems: 1 }) },
  strict,
);
/** The envelope of an atomic body the edge checks; each check and op is then checked by the
 * service, which names every failing one by index. Each element is an Unknown (anything
 * passes the edge's check) that carries its shape as `anyOf` for the OpenAPI document only:
 * TypeBox checks an Unknown by its kind, whatever keywords it holds. */
export const AtomicEnvelope = t.Object(
  {
    checks: t.Optional(t.Array(t.Unknown({ anyOf: [AtomicCheck] }))),
    ops: t.Array(t.Unknown({ anyOf: [AtomicSet, AtomicDelete, AtomicIncrement, AtomicMerge] }), { minItems: 1 }),
  },
  strict,
);
export const AtomicResponse = t.Object({
  items: t.Array(
    t.Object({
      namespace,
      key,
      revision: t.Union([revision, t.Null()], { description: "null: a delete that found nothing" }),
      created: t.Boolean(),
      deleted: t.Boolean(),
    }),
  ),
});

/** The answer of a 204: no body. */
export const NoContent = t.Undefined({ description: "No Content" });

/** The list route's query string (spec section 5); parsed strictly by the server. */
export const ListQuery = t.Object(
  {
    prefix: t.Optional(t.String({ description: "literal key prefix: %, _ and \\ match themselves" })),
    limit: t.Optional(
      t.String({
        pattern: "^[0-9]{1,6}$",
        description: "an integer from 1 to the deployment's list limit (default 100)",
      }),
    ),
    cursor: t.Optional(t.String({ description: "the previous page's cursor" })),
    values: t.Optional(
      t.Union([t.Literal("true"), t.Literal("false")], { description: "true or false; false leaves values out" }),
    ),
  },
  strict,
);

// The change feed (spec section 16).
export const ChangesQuery = t.Object(
  {
    since: t.Optional(
      t.String({ description: "a cursor from an earlier page or event, or now; absent: the oldest change kept" }),
    ),
    namespace: t.Optional(t.String({ description: "only this namespace's changes (on /v1/changes)" })),
    prefix: t.Optional(t.String({ description: "only changes of keys with this literal prefix" })),
    limit: t.Optional(t.String({ pattern: "^[0-9]{1,6}$", description: "an integer from 1 to 1000 (default 100)" })),
    values: t.Optional(
      t.Union([t.Literal("true"), t.Literal("false")], {
        description: "true: a put carries the record's value while it is still at that revision",
      }),
    ),
  },
  strict,
);
export const WatchQuery = t.Object(
  {
    since: t.Optional(t.String({ description: "a cursor, or now (the default); Last-Event-ID takes precedence" })),
    namespace: t.Optional(t.String({ description: "only this namespace's changes (on /v1/watch)" })),
    prefix: t.Optional(t.String({ description: "only changes of keys with this literal prefix" })),
    values: t.Optional(t.Union([t.Literal("true"), t.Literal("false")], { description: "as on changes" })),
  },
  strict,
);
export const Change = t.Object({
  type: t.Union([t.Literal("put"), t.Literal("delete"), t.Literal("namespace_deleted")]),
  namespace: t.String(),
  key: t.Optional(key),
  revision: t.Integer({ minimum: 1 }),
  expiresAt: t.Optional(timestamp),
  value: t.Optional(t.Unknown({ description: "with values=true, while the record is still at this revision" })),
  reason: t.Optional(t.Literal("expired")),
});
export const ChangesPage = t.Object({
  items: t.Array(Change),
  cursor: t.String({ description: "where the next page starts (since=)" }),
});

export type WriteBody = Static<typeof WriteBody>;
export type BulkPutBody = Static<typeof BulkPutBody>;
export type BulkKeysBody = Static<typeof BulkKeysBody>;
export type BulkDeleteBody = Static<typeof BulkDeleteBody>;
export type SchemaBody = Static<typeof SchemaBody>;
export type LimitsBody = Static<typeof LimitsBody>;
export type WriteResponse = Static<typeof WriteResponse>;
export type ListPage = Static<typeof ListPage>;
export type BulkGetResponse = Static<typeof BulkGetResponse>;
export type BulkPutResponse = Static<typeof BulkPutResponse>;
export type Usage = Static<typeof Usage>;
export type Schema = Static<typeof Schema>;
export type AtomicBody = Static<typeof AtomicBody>;
export type AtomicResponse = Static<typeof AtomicResponse>;
export type Change = Static<typeof Change>;
export type ChangesPage = Static<typeof ChangesPage>;
export type AtomicCheck = Static<typeof AtomicCheck>;
export type AtomicOp = Static<typeof AtomicOp>;

/** The version of the export format (the header line's `format`). */
export const EXPORT_FORMAT = 1;

// Export and import of an install (docs/decisions.md "Export and import"): NDJSON, one of
// these objects per line, told apart by `type`. The header comes first and the end line
// last; limits, then schemas, come before the records.
const nullableCount = t.Union([t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), t.Null()]);
export const ExportInstallLine = t.Object(
  {
    type: t.Literal("install"),
    format: t.Literal(EXPORT_FORMAT),
    tenantId: t.String(),
    installId: t.String(),
    extensionId: t.String({ description: "the extension the install was first written by ('' when none yet)" }),
    exportedAt: timestamp,
  },
  strict,
);
export const ExportLimitsLine = t.Object(
  {
    type: t.Literal("limits"),
    maxBytes: nullableCount,
    maxRecords: nullableCount,
  },
  { ...strict, description: "the install's overrides; null: the deployment's default" },
);
export const ExportSchemaLine = (maxValueBytes: number) =>
  t.Object(
    {
      type: t.Literal("schema"),
      namespace: t.String(),
      jsonSchema: t.Union([t.Object({}), t.Boolean()], { description: "a JSON Schema, draft 2020-12" }),
      defaultTtlSeconds: t.Union([t.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS }), t.Null()]),
      maxValueBytes: t.Union([t.Integer({ minimum: 1, maximum: maxValueBytes }), t.Null()]),
    },
    strict,
  );
export const ExportRecordLine = t.Object(
  {
    type: t.Literal("record"),
    namespace: t.String(),
    key,
    value: t.Unknown({ description: "the value exactly as reads return it" }),
    expiresAt: t.Union([timestamp, t.Null()]),
  },
  strict,
);
export const ExportEndLine = t.Object(
  {
    type: t.Literal("end"),
    records: t.Integer({ minimum: 0, description: "record lines before this one" }),
    schemas: t.Integer({ minimum: 0, description: "schema lines before this one" }),
  },
  strict,
);
export const ExportLine = (maxValueBytes: number) =>
  t.Union([ExportInstallLine, ExportLimitsLine, ExportSchemaLine(maxValueBytes), ExportRecordLine, ExportEndLine]);
export const ImportResult = t.Object({
  records: t.Integer({ minimum: 0, description: "records written" }),
  skippedExpired: t.Integer({ minimum: 0, description: "records whose expiry had passed, not written" }),
  schemas: t.Integer({ minimum: 0 }),
  revision: t.Union([revision, t.Null()], { description: "the revision every imported record got (null: none)" }),
});
