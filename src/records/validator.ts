// A tenant's schema is data, not trusted code (spec section 18): it is bounded in size and
// nesting, its patterns run on RE2, its validation cost is bounded before it is accepted,
// and its compile time is bounded. No database here, so Deno runs this module directly
// (test/deno/hostile-corpus.ts).
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { fail } from "../errors.ts";
import { utf8Length } from "./keys.ts";
import { patternProblem, re2Engine } from "./patterns.ts";
import { compileUnits, schemaCost, UNROLLED } from "./schema-cost.ts";
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
 * Ajv's compile time grows with the code it generates. So a schema is measured before it is
 * compiled, statically (the same answer on any machine, under any load): more than
 * MAX_SUBSCHEMAS subschemas, or more than MAX_COMPILE_UNITS compile units
 * (src/records/schema-cost.ts, `compileUnits`: the code generated per subschema, keyword,
 * unrolled list element, pattern and $ref), is refused. The largest schema of each family
 * measured within the cap compiled in at most ~60 ms of CPU on this 2-core machine under load
 * (`bun bench/schemas/compile.ts`, bench/README.md "Schema compile cost"); the dependentRequired
 * schema of 500 lists of 20 names that held the server for seconds counts about 45,000 units.
 * COMPILE_BOUND_MS is a last safety net at schema PUT and import only: a stored schema is
 * never refused in the write path for the time its compile took.
 */
export const MAX_SUBSCHEMAS = 1000;
export const MAX_COMPILE_UNITS = 4000;
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
const metaAjv = new Ajv2020({ strict: false, allErrors: false, logger: false });

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
  const refused = (why: string) =>
    fail("INVALID_REQUEST", `jsonSchema is not a valid JSON Schema (draft 2020-12): ${why}`);
  let valid: boolean;
  try {
    valid = metaAjv.validateSchema(jsonSchema as object) as boolean;
  } catch (error) {
    // whatever Ajv throws while checking a tenant's schema is a fault of that schema
    throw refused((error as Error).message);
  }
  if (!valid) throw refused(metaAjv.errorsText(metaAjv.errors, { dataVar: "jsonSchema" }));
  try {
    const ajv = new Ajv2020({
      allErrors: false,
      strict: false,
      validateSchema: false,
      loadSchema: undefined,
      $data: false,
      inlineRefs: false,
      loopEnum: UNROLLED,
      loopRequired: UNROLLED,
      code: { regExp: re2Engine, optimize: false },
      // Ajv warns on the console for each unknown format (twice per keyword): a tenant's
      // schema of hundreds of them would write hundreds of lines per compile
      logger: false,
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
    throw refused((error as Error).message);
  }
}

/** The one dialect supported; `#` at the end or not, as the meta-schema's own $id allows. */
export const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

/**
 * A `$schema` naming another dialect (draft-07, 2019-09, anything else) at the root or at the
 * root of an embedded resource (a subschema with `$id`): Ajv's 2020-12 engine has no
 * meta-schema for it and would either throw or silently apply 2020-12 rules to it.
 */
function dialectProblem(schema: unknown, pointer = ""): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  if (Array.isArray(schema)) {
    for (let i = 0; i < schema.length; i++) {
      const found = dialectProblem(schema[i], `${pointer}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const o = schema as Record<string, unknown>;
  if ((pointer === "" || "$id" in o) && "$schema" in o) {
    const d = o.$schema;
    if (typeof d !== "string" || (d !== DRAFT_2020_12 && d !== `${DRAFT_2020_12}#`)) return pointer;
  }
  for (const [k, v] of Object.entries(o)) {
    if (k === "enum" || k === "const" || k === "default" || k === "examples") continue;
    const found = dialectProblem(v, `${pointer}/${escapePointer(k)}`);
    if (found !== undefined) return found;
  }
  return undefined;
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

function pointerAt(root: unknown, pointer: string): unknown {
  let at = root;
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    at = (at as Record<string, unknown>)[part];
  }
  return at;
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
  const dialect = dialectProblem(jsonSchema);
  if (dialect !== undefined) {
    const named = JSON.stringify((pointerAt(jsonSchema, dialect) as Record<string, unknown>).$schema);
    throw fail(
      "INVALID_REQUEST",
      `jsonSchema${dialect}: only JSON Schema draft 2020-12 is supported ($schema is ${named}; use "${DRAFT_2020_12}" or leave $schema out)`,
      { keyword: "$schema", pointer: `${dialect}/$schema` },
    );
  }
  // before anything that grows with the schema's size beyond a walk: the code Ajv would generate
  const units = compileUnits(jsonSchema);
  if (units > MAX_COMPILE_UNITS) {
    throw fail(
      "INVALID_REQUEST",
      `jsonSchema counts ${units} compile units, over the limit of ${MAX_COMPILE_UNITS} (compiling it would take too long): split it or use fewer properties, required names, dependentRequired lists, patterns or $refs`,
      { limit: MAX_COMPILE_UNITS, size: units },
    );
  }
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

/**
 * Checks and compiles a schema. `compileBound`: at schema PUT and import, a schema that passed
 * every static check and still took longer than COMPILE_BOUND_MS to compile is refused, as a
 * last safety net (the static cap is what normally refuses). The write path compiles a stored
 * schema without it: whether a schema runs must not depend on the machine's load.
 */
export function prepareValidator(
  jsonSchema: unknown,
  limits: SchemaLimits,
  options: { compileBound: boolean } = { compileBound: true },
): ValidateFunction {
  checkSchema(jsonSchema, limits);
  const started = performance.now();
  const validate = compileSchema(jsonSchema);
  const ms = performance.now() - started;
  if (options.compileBound && ms > COMPILE_BOUND_MS) {
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
