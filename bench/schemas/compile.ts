// Ajv's compile time per element for the keywords it generates code for per array element or
// object member: `bun bench/schemas/compile.ts` (bench/README.md, "Schema compile cost").
// CPU time of this process, the least of 3 runs, so other processes on a shared machine do
// not count. Per family, the largest schema within the cap on compile units
// (src/records/schema-cost.ts): its size, units, compile time and microseconds per unit.

import { compileUnits } from "../../src/records/schema-cost.ts";
import { compileSchema, MAX_COMPILE_UNITS } from "../../src/records/validator.ts";
import { cpuMs } from "../../tools/cpu.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const families: Record<string, (n: number) => unknown> = {
  "dependentRequired: n entries of 20 names": (n) => ({
    dependentRequired: Object.fromEntries(range(n).map((i) => [`p${i}`, range(20).map((j) => `p${j}`)])),
  }),
  "required: n/16 properties of 15 names": (n) => ({
    properties: Object.fromEntries(range(n / 16).map((i) => [`p${i}`, { required: range(15).map((j) => `r${j}`) }])),
  }),
  "required: one list of 20n names (looped)": (n) => ({ required: range(n * 20).map((i) => `r${i}`) }),
  "properties: n names": (n) => ({
    properties: Object.fromEntries(range(n).map((i) => [`p${i}`, { type: "integer" }])),
  }),
  "properties: n empty": (n) => ({ properties: Object.fromEntries(range(n).map((i) => [`p${i}`, {}])) }),
  "patternProperties: n patterns": (n) => ({
    patternProperties: Object.fromEntries(range(n).map((i) => [`^p${i}x`, { type: "integer" }])),
  }),
  "enum: n/15 lists of 15 objects (unrolled)": (n) => ({
    properties: Object.fromEntries(
      range(n / 15).map((i) => [`p${i}`, { enum: range(15).map((j) => ({ k: j, v: "x" })) }]),
    ),
  }),
  "enum: one list of 20n strings (looped)": (n) => ({ enum: range(n * 20).map((i) => `v${i}`) }),
  "const: n objects": (n) => ({
    properties: Object.fromEntries(range(n).map((i) => [`p${i}`, { const: { k: i, v: "xxxxxxxxxx" } }])),
  }),
  "dependentSchemas: n entries": (n) => ({
    dependentSchemas: Object.fromEntries(range(n).map((i) => [`p${i}`, { required: [`q${i}`] }])),
  }),
  "prefixItems: n items": (n) => ({ prefixItems: range(n).map(() => ({ type: "integer" })) }),
  "$defs: n definitions, each $ref'd": (n) => ({
    properties: Object.fromEntries(range(n).map((i) => [`p${i}`, { $ref: `#/$defs/d${i}` }])),
    $defs: Object.fromEntries(range(n).map((i) => [`d${i}`, { type: "integer" }])),
  }),
  "anyOf: n branches": (n) => ({ anyOf: range(n).map((i) => ({ const: i })) }),
  "type lists: n properties of 4 types": (n) => ({
    properties: Object.fromEntries(range(n).map((i) => [`p${i}`, { type: ["integer", "string", "null", "array"] }])),
  }),
  "keywords: n properties of 8 keywords": (n) => ({
    properties: Object.fromEntries(
      range(n).map((i) => [
        `p${i}`,
        {
          type: "string",
          minLength: 1,
          maxLength: 9,
          pattern: "^a",
          title: "t",
          description: "d",
          default: "a",
          readOnly: false,
        },
      ]),
    ),
  }),
  "unevaluatedProperties over n properties in allOf": (n) => ({
    allOf: range(n / 4).map((i) => ({
      properties: Object.fromEntries(range(4).map((j) => [`p${i}_${j}`, { type: "integer" }])),
    })),
    unevaluatedProperties: false,
  }),
  "if/then/else: n properties": (n) => ({
    properties: Object.fromEntries(
      // biome-ignore lint/suspicious/noThenProperty: "then" is the JSON Schema keyword
      range(n).map((i) => [`p${i}`, { if: { type: "string" }, then: { maxLength: 3 }, else: { type: "integer" } }]),
    ),
  }),
  "nesting: n objects 16 deep": (n) => ({
    properties: Object.fromEntries(
      range(Math.max(1, Math.floor(n / 16))).map((i) => {
        let s: unknown = { type: "integer" };
        for (let d = 0; d < 16; d++) s = { type: "object", properties: { a: s }, required: ["a"] };
        return [`p${i}`, s];
      }),
    ),
  }),
  "uniqueItems and items: n arrays": (n) => ({
    properties: Object.fromEntries(
      range(n).map((i) => [`p${i}`, { type: "array", uniqueItems: true, items: { type: "string" } }]),
    ),
  }),
};

/** The largest n whose schema stays within the cap (and, like a PUT, within 64 KiB). */
function largestWithin(build: (n: number) => unknown): number {
  let lo = 16;
  let hi = 16;
  const fits = (n: number) => compileUnits(build(n)) <= MAX_COMPILE_UNITS && JSON.stringify(build(n)).length <= 65_536;
  while (fits(hi * 2) && hi < 1 << 16) hi *= 2;
  hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

compileSchema({ type: "object" }); // warm up
console.log(`n: the largest schema of each family within ${MAX_COMPILE_UNITS} compile units and 64 KiB`);
let worst = { us: 0, ms: 0 };
for (const [name, build] of Object.entries(families)) {
  const n = largestWithin(build);
  const schema = build(n);
  const units = compileUnits(schema);
  const ms = cpuMs(() => compileSchema(schema));
  const us = (ms * 1000) / units;
  worst = { us: Math.max(worst.us, us), ms: Math.max(worst.ms, ms) };
  console.log(
    `${name.padEnd(44)} n=${String(n).padStart(5)} ${String(JSON.stringify(schema).length).padStart(6)} B ${String(units).padStart(5)} units ${ms.toFixed(1).padStart(6)} ms CPU ${us.toFixed(2).padStart(6)} µs/unit`,
  );
}
console.log(
  `slowest: ${worst.ms.toFixed(1)} ms CPU within the cap; ${worst.us.toFixed(2)} µs per compile unit (cap ${MAX_COMPILE_UNITS} units)`,
);
