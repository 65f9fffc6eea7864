// The request and response shapes of the contract (spec section 5), as TypeBox schemas: the
// single source of validation, of the OpenAPI document and of the handlers' types.
// TypeBox itself, not Elysia's `t`: Elysia's Integer also accepts numeric strings ("5").
import { Type as t } from "@sinclair/typebox";
import { EXPORT_FORMAT } from "../records/export.ts";
import { MAX_TTL_SECONDS } from "../records/record.ts";

const strict = { additionalProperties: false } as const;

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

export const BulkKeysBody = (maxItems: number) => t.Object({ keys: t.Array(key, { minItems: 1, maxItems }) }, strict);

export const BulkPutBody = (maxItems: number) =>
  t.Object(
    {
      items: t.Array(
        t.Object(
          { key, value: t.Unknown(), ...ttl, ifRevision: t.Optional(revision), ifAbsent: t.Optional(t.Literal(true)) },
          strict,
        ),
        { minItems: 1, maxItems },
      ),
    },
    strict,
  );

export const BulkDeleteBody = (maxItems: number) =>
  t.Union([
    t.Object({ keys: t.Array(key, { minItems: 1, maxItems }) }, strict),
    t.Object(
      { items: t.Array(t.Object({ key, ifRevision: t.Optional(revision) }, strict), { minItems: 1, maxItems }) },
      strict,
    ),
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
export const SchemaBody = (maxValueBytes: number) =>
  t.Object(
    {
      jsonSchema: t.Union([t.Object({}), t.Boolean()], { description: "a JSON Schema, draft 2020-12" }),
      defaultTtlSeconds: t.Optional(t.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
      maxValueBytes: t.Optional(t.Integer({ minimum: 1, maximum: maxValueBytes })),
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

export const ErrorResponse = t.Object({
  error: t.Object({ code: t.String(), message: t.String(), details: t.Optional(t.Record(t.String(), t.Unknown())) }),
});

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
