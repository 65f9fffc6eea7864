// The lines of an import stream (docs/decisions.md "Export and import"), checked one by one
// as they arrive: the format and order of the lines, keys and namespaces, values as a write
// holds them, the stream's own schemas and value limits. Pure: no database, no I/O.
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { MAX_TTL_SECONDS } from "../contract/index.ts";
import { AppError, fail } from "../errors.ts";
import { checkKey, checkNamespace } from "./keys.ts";
import { violations } from "./schemas.ts";
import { parseTimestamp } from "./timestamp.ts";
import { prepareValidator, type SchemaLimits } from "./validator.ts";
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

// faults of one kind (413, 422) named in one answer; the first line of each is enough to act on
const MAX_REPORTED = 100;
// one year of expiry, and a day of clock difference between the exporting deployment and this one
const MAX_EXPIRY_AHEAD_MS = (MAX_TTL_SECONDS + 86_400) * 1000;

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
    /** the deployment's value and schema limits: an imported schema is held to them as a PUT is */
    private readonly limits: SchemaLimits,
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
    const validate = atLine(number, () =>
      prepareValidator(line.jsonSchema, {
        maxSchemaBytes: this.limits.maxSchemaBytes,
        maxValueBytes: Math.min(this.limits.maxValueBytes, line.maxValueBytes ?? Number.POSITIVE_INFINITY),
      }),
    );
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
    const limit = Math.min(this.limits.maxValueBytes, schema?.maxValueBytes ?? Number.POSITIVE_INFINITY);
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
