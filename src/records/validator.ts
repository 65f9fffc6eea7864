// A tenant's schema is data, not trusted code (spec section 18): it is bounded in size and
// nesting, its patterns run on RE2, its validation cost is bounded before it is accepted,
// and its compile time is bounded. No database here, so Deno runs this module directly
// (test/deno/hostile-corpus.ts).
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { fail } from "../errors.ts";
import { utf8Length } from "./keys.ts";
import { patternProblem, re2Engine } from "./patterns.ts";
import { schemaCost } from "./schema-cost.ts";
import { valueProblem } from "./values.ts";

export const MAX_SCHEMA_DEPTH = 32;
/** The CPU a value's validation may take (spec section 18). */
export const VALIDATION_BOUND_MS = 50;
/**
 * Nanoseconds per work unit of the cost model (src/records/schema-cost.ts), set from the
 * slowest unit measured over the hostile corpus on Bun and Deno, with room to spare
 * (bench/README.md, "Schema validation cost").
 */
export const UNIT_NS = 12;
const BUDGET_UNITS = (VALIDATION_BOUND_MS * 1e6) / UNIT_NS;
/**
 * Ajv's compile time grows with the number of subschemas: on this 2-core machine under
 * load, 500 properties took 0.4-0.6 s and 2,000 took 1.2-2 s (bench/README.md). So a schema
 * of more than MAX_SUBSCHEMAS is refused before it is compiled, and one that still takes
 * longer than COMPILE_BOUND_MS is refused after (measured at PUT). The schema compiled on a
 * cache miss in the request path is one accepted under these bounds.
 */
export const MAX_SUBSCHEMAS = 1000;
export const COMPILE_BOUND_MS = 1000;

export type SchemaLimits = { maxSchemaBytes: number; maxValueBytes: number };

/** JSON with object members in sorted order: equal JSON values, equal strings. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  let out: string;
  if (Array.isArray(v)) {
    out = "[";
    for (let i = 0; i < v.length; i++) out += (i === 0 ? "" : ",") + canonical(v[i]);
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length > 1) keys.sort();
  out = "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    out += `${i === 0 ? "" : ","}${JSON.stringify(k)}:${canonical(o[k])}`;
  }
  return `${out}}`;
}

/**
 * uniqueItems in linear time: each item's canonical JSON (members sorted) into a map.
 * Ajv's own compares every pair of items that are not all of one scalar type: 30,000
 * objects took seconds.
 */
function uniqueItems(schema: boolean, data: unknown[]): boolean {
  uniqueItems.errors = undefined;
  if (!schema) return true;
  const seen = new Map<string, number>();
  for (let j = 0; j < data.length; j++) {
    const k = canonical(data[j]);
    const i = seen.get(k);
    if (i !== undefined) {
      uniqueItems.errors = [
        {
          keyword: "uniqueItems",
          message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
          params: { i: j, j: i },
        },
      ];
      return false;
    }
    seen.set(k, j);
  }
  return true;
}
uniqueItems.errors = undefined as Partial<ErrorObject>[] | undefined;

// checks schemas against the draft 2020-12 meta-schema: compiled once, not once per schema
// (each fresh instance compiled it again: ~40 ms of every schema's compile time)
const metaAjv = new Ajv2020({ strict: false, allErrors: false });

/**
 * Compiles a schema with Ajv, or refuses it with the compiler's reason. A fresh Ajv instance
 * each time: one instance refuses a second schema with an $id it already holds, and a shared
 * one would let an install's schema $ref another install's. Unknown keywords are ignored, as
 * JSON Schema says; "format" is an annotation only (no format vocabulary is loaded); `$data`
 * is off, so `{"$data": …}` is an ordinary object. $refs are never inlined (a schema
 * referenced 1,000 times would be generated 1,000 times); long enum and required lists are
 * looped over, not unrolled.
 */
export function compileSchema(jsonSchema: unknown): ValidateFunction {
  if (!metaAjv.validateSchema(jsonSchema as object)) {
    throw fail(
      "INVALID_REQUEST",
      `jsonSchema is not a valid JSON Schema (draft 2020-12): ${metaAjv.errorsText(metaAjv.errors, { dataVar: "jsonSchema" })}`,
    );
  }
  try {
    const ajv = new Ajv2020({
      allErrors: false,
      strict: false,
      validateSchema: false,
      loadSchema: undefined,
      $data: false,
      inlineRefs: false,
      loopEnum: 16,
      loopRequired: 16,
      code: { regExp: re2Engine, optimize: false },
    });
    ajv.removeKeyword("uniqueItems");
    ajv.addKeyword({
      keyword: "uniqueItems",
      type: "array",
      schemaType: "boolean",
      validate: uniqueItems,
      errors: true,
    });
    return ajv.compile(jsonSchema as object);
  } catch (error) {
    throw fail("INVALID_REQUEST", `jsonSchema is not a valid JSON Schema (draft 2020-12): ${(error as Error).message}`);
  }
}

const escapePointer = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");

/** Every pattern of a schema with its JSON Pointer (enum, const, default and examples are data). */
function* patternsOf(schema: unknown, pointer = ""): Generator<[string, string]> {
  if (typeof schema !== "object" || schema === null) return;
  if (Array.isArray(schema)) {
    for (let i = 0; i < schema.length; i++) yield* patternsOf(schema[i], `${pointer}/${i}`);
    return;
  }
  for (const [k, v] of Object.entries(schema)) {
    if (k === "enum" || k === "const" || k === "default" || k === "examples") continue;
    const at = `${pointer}/${escapePointer(k)}`;
    if (k === "pattern" && typeof v === "string") yield [at, v];
    if (k === "patternProperties" && typeof v === "object" && v !== null && !Array.isArray(v)) {
      for (const p of Object.keys(v)) yield [`${at}/${escapePointer(p)}`, p];
    }
    yield* patternsOf(v, at);
  }
}

function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    max = Math.max(max, d + 1);
    if (max > MAX_SCHEMA_DEPTH) return max;
    for (const item of Object.values(v)) stack.push([item, d + 1]);
  }
  return max;
}

/**
 * Everything a schema must pass before it is accepted, short of compiling it: size, nesting,
 * what jsonb can store, patterns RE2 can run, and a bounded validation cost for values of up
 * to `limits.maxValueBytes`. Throws a 400 naming the limit, the keyword and where it is.
 */
export function checkSchema(jsonSchema: unknown, limits: SchemaLimits): void {
  const bytes = utf8Length(JSON.stringify(jsonSchema));
  if (bytes > limits.maxSchemaBytes) {
    throw fail(
      "INVALID_REQUEST",
      `jsonSchema is ${bytes} bytes of JSON, over the limit of ${limits.maxSchemaBytes} (STORAGE_MAX_SCHEMA_BYTES)`,
      { limit: limits.maxSchemaBytes, size: bytes },
    );
  }
  if (depthOf(jsonSchema) > MAX_SCHEMA_DEPTH) {
    throw fail("INVALID_REQUEST", `jsonSchema nests more than ${MAX_SCHEMA_DEPTH} arrays/objects`, {
      limit: MAX_SCHEMA_DEPTH,
    });
  }
  // stored as jsonb like a value, so held to the same rules: a U+0000 or an unpaired
  // surrogate in a string or key is refused by PostgreSQL, and 1e400 would become null
  const problem = valueProblem(jsonSchema);
  if (problem !== undefined) throw fail("INVALID_REQUEST", `jsonSchema: ${problem}`);
  for (const [pointer, pattern] of patternsOf(jsonSchema)) {
    const why = patternProblem(pattern);
    if (why !== undefined) {
      throw fail(
        "INVALID_REQUEST",
        `jsonSchema${pointer}: the pattern cannot run on the linear-time (RE2) engine: ${why}; backreferences and lookaround are not supported`,
        { pointer, pattern },
      );
    }
  }
  const cost = schemaCost(jsonSchema, limits.maxValueBytes, BUDGET_UNITS);
  if ("problem" in cost) {
    const { keyword, pointer, message } = cost.problem;
    throw fail("INVALID_REQUEST", `jsonSchema: ${message}`, { keyword, pointer });
  }
  if (cost.subschemas > MAX_SUBSCHEMAS) {
    throw fail(
      "INVALID_REQUEST",
      `jsonSchema holds ${cost.subschemas} subschemas, over the limit of ${MAX_SUBSCHEMAS} (compiling it would take too long)`,
      { limit: MAX_SUBSCHEMAS, size: cost.subschemas },
    );
  }
}

/** Checks and compiles a schema; refuses one that takes longer than COMPILE_BOUND_MS to compile. */
export function prepareValidator(jsonSchema: unknown, limits: SchemaLimits): ValidateFunction {
  checkSchema(jsonSchema, limits);
  const started = performance.now();
  const validate = compileSchema(jsonSchema);
  const ms = performance.now() - started;
  if (ms > COMPILE_BOUND_MS) {
    throw fail(
      "INVALID_REQUEST",
      `jsonSchema took ${Math.round(ms)} ms to compile, over the bound of ${COMPILE_BOUND_MS} ms: split or simplify it`,
      { limit: COMPILE_BOUND_MS },
    );
  }
  return validate;
}

const MAX_REPORTED_ERRORS = 20;

export const violations = (errors: readonly ErrorObject[] | null | undefined) =>
  (errors ?? [])
    .slice(0, MAX_REPORTED_ERRORS)
    .map((e) => ({ path: e.instancePath, message: e.message ?? "is invalid" }));
