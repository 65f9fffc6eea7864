// Schema/value pairs known to be slow for backtracking regex engines or naive validators.
// Each names the answer expected: the schema refused at PUT ("refused", 400), or accepted
// and the value then valid ("valid", 2xx) or not ("invalid", 422). Every value stays within
// the value limits (64 KiB of JSON, 32 nested levels). Shared by the Bun tests and the Deno
// run (test/deno/hostile-corpus.ts), so it imports nothing runtime-specific.

export type Outcome = "refused" | "valid" | "invalid";
export type HostileCase = { name: string; schema: unknown; value: unknown; expect: Outcome };

const rep = (s: string, n: number) => s.repeat(n);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** $defs d0 … d{n-1}, each an anyOf of two $refs to the next: 2^n paths to the last. */
const doublingRefs = (n: number, keyword = "anyOf") => ({
  $ref: "#/$defs/d0",
  $defs: Object.fromEntries(
    range(n).map((i) => [
      `d${i}`,
      i === n - 1 ? { type: "number" } : { [keyword]: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] },
    ]),
  ),
});

/** dependentRequired of `entries` lists of 20 names: Ajv generates a test per name. */
export const dependentRequiredLists = (entries: number) => ({
  dependentRequired: Object.fromEntries(range(entries).map((i) => [`p${i}`, range(20).map((j) => `p${j}`)])),
});

const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
};

export const HOSTILE_CORPUS: HostileCase[] = [
  // ReDoS patterns: exponential on a backtracking engine, linear on RE2
  {
    name: "pattern (a|a)*",
    schema: { type: "string", pattern: "^(a|a)*$" },
    value: `${rep("a", 40_000)}!`,
    expect: "invalid",
  },
  {
    name: "pattern (a+)+",
    schema: { type: "string", pattern: "^(a+)+$" },
    value: `${rep("a", 60_000)}!`,
    expect: "invalid",
  },
  {
    name: "pattern (a|aa)+",
    schema: { type: "string", pattern: "^(a|aa)+$" },
    value: `${rep("a", 60_000)}!`,
    expect: "invalid",
  },
  {
    name: "pattern (\\w+\\s?)*",
    schema: { pattern: "^(\\w+\\s?)*$" },
    value: `${rep("word ", 12_000)}!`,
    expect: "invalid",
  },
  {
    name: "pattern e-mail ReDoS",
    schema: {
      pattern:
        "^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
    },
    value: `${rep("a", 50_000)}!`,
    expect: "invalid",
  },
  { name: "pattern .*.*.*=", schema: { pattern: "^.*.*.*.*.*=.*$" }, value: rep("x", 60_000), expect: "invalid" },
  {
    name: "pattern wide alternation, repeated",
    schema: {
      type: "string",
      pattern: `^(${range(300)
        .map((i) => `w${i}x`)
        .join("|")})*$`,
    },
    value: rep("w299x", 12_000),
    expect: "valid",
  },
  { name: "pattern backreference", schema: { pattern: "^(a+)\\1$" }, value: "aa", expect: "refused" },
  { name: "pattern lookahead", schema: { pattern: "^(?=.*\\d).{8,}$" }, value: "abcdefgh1", expect: "refused" },
  { name: "pattern lookbehind", schema: { pattern: "(?<!a)b" }, value: "b", expect: "refused" },
  {
    name: "patternProperties ReDoS key",
    schema: { type: "object", patternProperties: { "^(x+x+)+y$": { type: "number" } }, additionalProperties: false },
    value: { [`${rep("x", 60_000)}`]: 1 },
    expect: "invalid",
  },
  {
    name: "propertyNames ReDoS",
    schema: { type: "object", propertyNames: { pattern: "^(a|a)*$" } },
    value: Object.fromEntries(range(1500).map((i) => [`${rep("a", 25)}${i}!`, 0])),
    expect: "invalid",
  },
  // keywords whose cost grows faster than the value in naive validators
  {
    name: "uniqueItems over 5,000 objects",
    schema: { type: "array", uniqueItems: true },
    value: range(5000).map((i) => ({ i })),
    expect: "valid",
  },
  {
    name: "uniqueItems over 5,000 objects, last repeats the first",
    schema: { type: "array", uniqueItems: true },
    value: [...range(4999).map((i) => ({ i })), { i: 0 }],
    expect: "invalid",
  },
  {
    name: "uniqueItems over 10,000 mixed items",
    schema: { uniqueItems: true },
    value: range(10_000).map((i) => (i % 2 === 0 ? i : [i])),
    expect: "valid",
  },
  {
    name: "uniqueItems nested at every level",
    schema: { $defs: { n: { type: "array", uniqueItems: true, items: { $ref: "#/$defs/n" } } }, $ref: "#/$defs/n" },
    value: nested(31, [], (inner) => [inner, []]),
    expect: "refused",
  },
  { name: "anyOf doubling through $refs (2^30)", schema: doublingRefs(30), value: 1, expect: "refused" },
  { name: "oneOf doubling through $refs (2^30)", schema: doublingRefs(30, "oneOf"), value: 1, expect: "refused" },
  { name: "allOf doubling through $refs (2^12)", schema: doublingRefs(12, "allOf"), value: 1, expect: "valid" },
  {
    name: "anyOf nested 14 deep, one branch each",
    schema: {
      type: "array",
      items: nested(14, { type: "integer" }, (inner) => ({ anyOf: [inner, { type: "string" }] })),
    },
    value: range(16_000).map(() => 1),
    expect: "refused",
  },
  {
    name: "not nested 31 deep",
    schema: nested(31, { type: "string" }, (inner) => ({ not: inner })),
    value: "x",
    expect: "invalid",
  },
  {
    name: "items: oneOf of 1,000 branches",
    schema: { type: "array", items: { oneOf: range(1000).map((i) => ({ const: i })) } },
    value: range(16_000).map(() => 0),
    expect: "refused",
  },
  {
    name: "items: enum of 2,000 objects",
    schema: { type: "array", items: { enum: range(2000).map((i) => ({ k: i, v: "x" })) } },
    value: range(3000).map((i) => ({ k: i % 2000, v: "x" })),
    expect: "refused",
  },
  {
    name: "enum of 200 objects, one value",
    schema: { enum: range(200).map((i) => ({ k: i, v: rep("x", 20) })) },
    value: { k: 199, v: rep("x", 20) },
    expect: "valid",
  },
  {
    name: "contains with minContains 40,000",
    schema: { type: "array", contains: { const: 7 }, minContains: 40_000 },
    value: range(30_000).map(() => 7),
    expect: "invalid",
  },
  {
    name: "recursive $ref with anyOf over a 32-deep value",
    schema: {
      $defs: {
        n: {
          anyOf: [
            { type: "array", items: { $ref: "#/$defs/n" } },
            { type: "object", additionalProperties: { $ref: "#/$defs/n" } },
            { type: "number" },
          ],
        },
      },
      $ref: "#/$defs/n",
    },
    value: nested(15, [1, 2, 3], (inner) => [{ a: inner }, 1]),
    expect: "valid",
  },
  {
    name: "recursive $ref doubling per level",
    schema: {
      anyOf: [
        { type: "array", items: { $ref: "#" } },
        { type: "array", items: { $ref: "#" } },
      ],
    },
    value: nested(31, [], (inner) => [inner]),
    expect: "refused",
  },
  {
    name: "$ref cycle in place",
    schema: { $defs: { a: { $ref: "#/$defs/b" }, b: { anyOf: [{ $ref: "#/$defs/a" }] } }, $ref: "#/$defs/a" },
    value: 1,
    expect: "refused",
  },
  {
    // 150: 200 entries count 4,304 compile units, over the cap of 4,000
    name: "dependentSchemas, 150 entries",
    schema: {
      type: "object",
      dependentSchemas: Object.fromEntries(range(150).map((i) => [`p${i}`, { required: [`q${i}`] }])),
    },
    value: Object.fromEntries(range(3000).map((i) => [`p${i}`, i])),
    expect: "invalid",
  },
  {
    name: "if/then/else chain 30 deep",
    schema: {
      type: "array",
      // biome-ignore lint/suspicious/noThenProperty: "then" is the JSON Schema keyword
      items: nested(30, { type: "null" }, (inner) => ({ if: { type: "string" }, then: { maxLength: 3 }, else: inner })),
    },
    value: range(16_000).map(() => 1),
    expect: "refused",
  },
  {
    name: "unevaluatedProperties over anyOf of 200 branches",
    schema: {
      type: "object",
      anyOf: range(200).map((i) => ({ properties: { [`a${i}`]: { type: "number" } } })),
      unevaluatedProperties: false,
    },
    value: Object.fromEntries(range(5000).map((i) => [`a${i}`, 1])),
    expect: "refused",
  },
  {
    name: "unevaluatedItems with prefixItems and contains",
    schema: { type: "array", prefixItems: [{ type: "number" }], contains: { type: "string" }, unevaluatedItems: false },
    value: [1, ...range(15_000).map(() => "s")],
    expect: "valid",
  },
  {
    name: "maxLength over astral characters",
    schema: { type: "string", maxLength: 15_000 },
    value: rep("\u{1F600}", 16_000),
    expect: "invalid",
  },
  {
    name: "required, 3,000 names",
    schema: { type: "object", required: range(3000).map((i) => `r${i}`) },
    value: Object.fromEntries(range(3000).map((i) => [`s${i}`, 0])),
    expect: "invalid",
  },
  {
    name: "properties, 2,000 names, additionalProperties false",
    schema: {
      type: "object",
      properties: Object.fromEntries(range(2000).map((i) => [`p${i}`, { type: "integer" }])),
      additionalProperties: false,
    },
    value: Object.fromEntries(range(5000).map((i) => [`p${i}`, 1])),
    expect: "refused",
  },
  {
    name: "dependentRequired, 500 lists of 20 names (seconds to compile)",
    schema: dependentRequiredLists(500),
    value: { p0: 1 },
    expect: "refused",
  },
  { name: "$data is a literal", schema: { const: { $data: "/x" } }, value: { $data: "/x" }, expect: "valid" },
  { name: "remote $ref", schema: { $ref: "https://example.com/schema.json" }, value: 1, expect: "refused" },
  { name: "schema over 64 KiB", schema: { enum: range(12_000).map((i) => `v${i}`) }, value: "v1", expect: "refused" },
  { name: "schema nested 33 deep", schema: nested(33, {}, (inner) => ({ not: inner })), value: 1, expect: "refused" },
];
