// Import of an install from an export (docs/decisions.md "Export and import"): every line
// is checked as it arrives (format, keys, values, the stream's own schemas, value limits),
// then the whole is applied in one transaction behind the install's lock, or nothing is.
//
// Round trips: BEGIN; installs.lock + installs.sweep_expired + installs.import_check
// pipelined; then, pipelined together, the limits, the schemas, one records.import per
// 5,000 records and installs.account; COMMIT. 4 whatever the size.

import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValidateFunction } from "ajv/dist/2020.js";
import type { Database } from "../db/client.ts";
import { AppError, fail } from "../errors.ts";
import type { InstallRef } from "./admin.ts";
import type { UsageRow } from "./install.ts";
import { checkKey, checkNamespace } from "./keys.ts";
import { MAX_TTL_SECONDS } from "./record.ts";
import { compileSchema, violations } from "./schemas.ts";
import { parseTimestamp } from "./timestamp.ts";
import { type LimitDefaults, limitsOf, quotaBreach, quotaExceeded } from "./usage.ts";
import { prepareValue, valueProblem } from "./values.ts";

export type ImportLineSchemas = {
  install: TSchema;
  limits: TSchema;
  schema: TSchema;
  record: TSchema;
  end: TSchema;
};

type Checker = ReturnType<typeof TypeCompiler.Compile>;
export type LineChecks = Readonly<Record<keyof ImportLineSchemas, Checker>>;

/** The line schemas compiled, once per route rather than once per import. */
export const compileLineSchemas = (schemas: ImportLineSchemas): LineChecks =>
  Object.fromEntries(
    Object.entries(schemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
  ) as LineChecks;
type Limits = { maxBytes: number | null; maxRecords: number | null };
type SchemaLine = {
  namespace: string;
  jsonSchema: unknown;
  defaultTtlSeconds: number | null;
  maxValueBytes: number | null;
};
type RecordLine = { namespace: string; key: string; value: unknown; expiresAt: string | null };

/** What an import stream holds once every line passed: applied by applyImport. */
export type ImportPlan = {
  extensionId: string;
  limits: Limits | undefined;
  schemas: Array<SchemaLine & { json: string }>;
  records: {
    namespaces: string[];
    keys: string[];
    values: string[];
    sizes: number[];
    /** expiry in ms since the epoch, null: none */
    expires: Array<number | null>;
  };
};

// records.import rows per statement: 5,000 rows of 1 KiB values are a 5 MB message
const IMPORT_BATCH = 5000;
// faults of one kind (413, 422) named in one answer; the first line of each is enough to act on
const MAX_REPORTED = 100;
// one year of expiry, and a day of clock difference between the exporting deployment and this one
const MAX_EXPIRY_AHEAD_MS = (MAX_TTL_SECONDS + 86_400) * 1000;
// every statement of the import's transaction, the inserts of up to STORAGE_MAX_IMPORT_BYTES
// included: a 100,000-record import took about 3 s on a busy 2-core machine
export const IMPORT_TRANSACTION_LIMIT_MS = 120_000;

const bad = (line: number, message: string) => fail("INVALID_REQUEST", `line ${line}: ${message}`, { line });

/** Runs a check of the write path, naming the line in what it refuses. */
function atLine<T>(line: number, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw new AppError(error.code, `line ${line}: ${error.message}`, { ...error.details, line });
  }
}

/**
 * Reads an import stream line by line (the HTTP edge cuts the lines); pure, no database.
 * A malformed line is refused at once (400, naming it); values over their limit (413) and
 * values that fail their namespace's schema (422) are collected to the end, so that a 400
 * further on still comes first, as the contract's order of errors wants.
 */
export class ImportReader {
  private stage: "start" | "head" | "records" | "ended" = "start";
  private plan: ImportPlan = {
    extensionId: "",
    limits: undefined,
    schemas: [],
    records: { namespaces: [], keys: [], values: [], sizes: [], expires: [] },
  };
  private readonly namespaces = new Map<string, { validate: ValidateFunction; maxValueBytes: number | null }>();
  private readonly seen = new Map<string, number>();
  private recordLines = 0;
  private readonly tooLarge: Array<Record<string, unknown>> = [];
  private readonly violating: Array<Record<string, unknown>> = [];

  constructor(
    private readonly check: LineChecks,
    private readonly maxValueBytes: number,
    private readonly now = Date.now(),
  ) {}

  line(text: string, number: number): void {
    if (this.stage === "ended") throw bad(number, "nothing may follow the end line");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw bad(number, "not well-formed JSON");
    }
    const type = (parsed as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !(type in this.check)) {
      throw bad(number, "type must be one of install, limits, schema, record, end");
    }
    const checker = this.check[type as keyof ImportLineSchemas];
    if (!checker.Check(parsed)) {
      const first = checker.Errors(parsed).First();
      throw bad(number, `${first?.path ? `${first.path.slice(1)}: ` : ""}${first?.message ?? "does not match"}`);
    }
    if (this.stage === "start" && type !== "install") throw bad(number, "the first line must be the install line");
    switch (type) {
      case "install":
        if (this.stage !== "start") throw bad(number, "the install line comes once, first");
        this.plan.extensionId = (parsed as { extensionId: string }).extensionId;
        this.stage = "head";
        return;
      case "limits": {
        if (this.stage !== "head" || this.plan.limits !== undefined || this.plan.schemas.length > 0) {
          throw bad(number, "the limits line comes once, after the install line and before schemas and records");
        }
        const { maxBytes, maxRecords } = parsed as Limits;
        this.plan.limits = { maxBytes, maxRecords };
        return;
      }
      case "schema":
        if (this.stage !== "head") throw bad(number, "schemas come before the records");
        this.schema(parsed as SchemaLine, number);
        return;
      case "record":
        this.stage = "records";
        this.record(parsed as RecordLine, number);
        return;
      default: {
        const end = parsed as { records: number; schemas: number };
        if (end.records !== this.recordLines || end.schemas !== this.plan.schemas.length) {
          throw bad(
            number,
            `the end line counts ${end.records} records and ${end.schemas} schemas, the stream holds ${this.recordLines} and ${this.plan.schemas.length}`,
          );
        }
        this.stage = "ended";
      }
    }
  }

  private schema(line: SchemaLine, number: number): void {
    atLine(number, () => checkNamespace(line.namespace));
    if (this.namespaces.has(line.namespace)) throw bad(number, `a second schema for namespace ${line.namespace}`);
    const problem = valueProblem(line.jsonSchema);
    if (problem !== undefined) throw bad(number, `jsonSchema: ${problem}`);
    const validate = atLine(number, () => compileSchema(line.jsonSchema));
    this.namespaces.set(line.namespace, { validate, maxValueBytes: line.maxValueBytes });
    this.plan.schemas.push({ ...line, json: JSON.stringify(line.jsonSchema) });
  }

  private record(line: RecordLine, number: number): void {
    this.recordLines++;
    const { namespace, key } = line;
    atLine(number, () => checkNamespace(namespace));
    atLine(number, () => checkKey(key));
    const id = `${namespace}\u0000${key}`;
    const earlier = this.seen.get(id);
    if (earlier !== undefined) throw bad(number, `the same namespace and key as line ${earlier}`);
    this.seen.set(id, number);
    let expires: number | null = null;
    if (line.expiresAt !== null) {
      const at = parseTimestamp(line.expiresAt);
      if (at === undefined) throw bad(number, "expiresAt must be an RFC 3339 date-time with a real date and time");
      if (at > this.now + MAX_EXPIRY_AHEAD_MS) throw bad(number, "expiresAt may be at most one year ahead");
      expires = at;
    }
    const schema = this.namespaces.get(namespace);
    const limit = Math.min(this.maxValueBytes, schema?.maxValueBytes ?? Number.POSITIVE_INFINITY);
    // sized here, against the namespace's limit below, so that a 413 waits for the 400s
    const prepared = atLine(number, () => prepareValue(key, line.value, Number.MAX_SAFE_INTEGER, "value"));
    if (prepared.valueBytes > limit) {
      if (this.tooLarge.length < MAX_REPORTED) {
        this.tooLarge.push({ line: number, namespace, key, limit, size: prepared.valueBytes });
      }
      return;
    }
    if (schema !== undefined && !schema.validate(line.value)) {
      if (this.violating.length < MAX_REPORTED) {
        for (const v of violations(schema.validate.errors)) this.violating.push({ line: number, namespace, key, ...v });
      }
      return;
    }
    const r = this.plan.records;
    r.namespaces.push(namespace);
    r.keys.push(key);
    r.values.push(prepared.json);
    r.sizes.push(prepared.sizeBytes);
    r.expires.push(expires);
  }

  /** The plan, once the stream ended with its end line and every line passed. */
  finish(): ImportPlan {
    if (this.stage !== "ended") {
      throw fail("INVALID_REQUEST", "the stream ends before its end line: it is not a whole export (cut short?)");
    }
    if (this.tooLarge.length > 0) {
      const [first] = this.tooLarge as [Record<string, unknown>];
      throw fail(
        "VALUE_TOO_LARGE",
        `line ${first.line}: the value is ${first.size} bytes, over the limit of ${first.limit}; nothing was written`,
        { failed: this.tooLarge },
      );
    }
    if (this.violating.length > 0) {
      throw fail(
        "SCHEMA_VIOLATION",
        `line ${this.violating[0]?.line}: the value does not match its namespace's schema; nothing was written`,
        { errors: this.violating },
      );
    }
    return this.plan;
  }
}

export type ImportResult = { records: number; skippedExpired: number; schemas: number; revision: number | null };

type CheckRow = { now: Date; records: number; schemas: number };

/**
 * Applies a checked import to an empty install, all or nothing, in one transaction behind
 * its lock (the order every write takes). Refused: an install of another tenant (403), one
 * holding live records or schemas (409), a quota breach under the limits the import brings
 * (or, without a limits line, the install's own) (403). Records whose expiry has passed on
 * the database's clock are not written, and counted.
 */
export async function applyImport(
  db: Database,
  defaults: LimitDefaults,
  ref: InstallRef,
  plan: ImportPlan,
): Promise<ImportResult> {
  const { installId, tenantId } = ref;
  return db.transaction(
    async (q) => {
      const lock = q.run<UsageRow>("installs.lock", [installId, tenantId, plan.extensionId]);
      const sweep = q.run("installs.sweep_expired", [installId, tenantId]);
      const check = q.run<CheckRow>("installs.import_check", [installId, tenantId]);
      const [[usage], , [state]] = await Promise.all([lock, sweep, check]);
      if (usage === undefined) throw fail("FORBIDDEN", "this install belongs to another tenant");
      if (state === undefined) throw new Error("installs.import_check returned no row");
      if (state.records > 0 || state.schemas > 0) {
        throw fail(
          "CONFLICT",
          `the install holds ${state.records} records and ${state.schemas} schemas: an import goes into an empty install (purge it first)`,
          { reason: "install_not_empty", records: state.records, schemas: state.schemas },
        );
      }

      // the records still live on the database's clock
      const now = state.now.getTime();
      const r = plan.records;
      const live: number[] = [];
      let bytes = 0;
      for (let i = 0; i < r.keys.length; i++) {
        const at = r.expires[i];
        if (at == null || at > now) {
          live.push(i);
          bytes += r.sizes[i] as number;
        }
      }
      const limits = limitsOf(
        plan.limits === undefined ? usage : { max_bytes: plan.limits.maxBytes, max_records: plan.limits.maxRecords },
        defaults,
      );
      const breach = quotaBreach({ bytes: 0, records: 0 }, { bytes, records: live.length }, limits);
      if (breach !== undefined) throw quotaExceeded(breach);

      const revision = live.length > 0 ? usage.last_revision + 1 : null;
      const work: Array<Promise<unknown>> = [];
      if (plan.limits !== undefined) {
        work.push(
          q.run("installs.set_limits", [installId, tenantId, plan.limits.maxBytes, plan.limits.maxRecords, true, true]),
        );
      }
      plan.schemas.forEach((s, i) => {
        const version = usage.last_schema_version + 1 + i;
        work.push(
          q.run("schemas.put", [
            installId,
            tenantId,
            plan.extensionId,
            s.namespace,
            s.json,
            version,
            s.defaultTtlSeconds,
            s.maxValueBytes,
          ]),
          q.run("installs.bump_schema_version", [installId, tenantId, version]),
        );
      });
      for (let from = 0; from < live.length; from += IMPORT_BATCH) {
        const batch = live.slice(from, from + IMPORT_BATCH);
        work.push(
          q.run("records.import", [
            installId,
            tenantId,
            revision,
            batch.map((i) => r.namespaces[i]),
            batch.map((i) => r.keys[i]),
            batch.map((i) => r.values[i]),
            batch.map((i) => r.sizes[i]),
            batch.map((i) => (r.expires[i] == null ? null : new Date(r.expires[i] as number).toISOString())),
          ]),
        );
      }
      if (revision !== null) {
        work.push(q.run("installs.account", [installId, tenantId, bytes, live.length, revision]));
      }
      await Promise.all(work);
      return {
        records: live.length,
        skippedExpired: r.keys.length - live.length,
        schemas: plan.schemas.length,
        revision,
      };
    },
    { limitMs: IMPORT_TRANSACTION_LIMIT_MS },
  );
}
