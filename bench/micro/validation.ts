// Request validation: the gate's strict compiled TypeBox checks of the bodies, and namespace
// JSON Schema validation when this build has it.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { bench, group } from "mitata";
import { limitedBodies } from "../../src/http/limits.ts";

const value = {
  theme: "dark",
  shortcuts: Array.from({ length: 20 }, (_, i) => ({ key: `ctrl+${i}`, action: `action-${i}` })),
  recent: Array.from({ length: 50 }, (_, i) => `item-${i}`),
};
const bodies = limitedBodies({ maxBulkItems: 500, maxBulkKeys: 1000, maxValueBytes: 262_144 });
const write = TypeCompiler.Compile(bodies.write);
const bulkPut = TypeCompiler.Compile(bodies.bulkPut);
const bulkKeys = TypeCompiler.Compile(bodies.bulkKeys);
const writeBody = { value, ttlSeconds: 3600 };
const bulkBody = {
  items: Array.from({ length: 100 }, (_, i) => ({ key: `user/${i}/prefs`, value, ifAbsent: true as const })),
};
const keysBody = { keys: Array.from({ length: 100 }, (_, i) => `user/${i}/prefs`) };
const invalid = { value, ttlSeconds: "3600" };

group("request validation (compiled TypeBox, as the gate runs it)", () => {
  bench("PUT body", () => write.Check(writeBody));
  bench("PUT body, invalid (+ first error)", () => write.Check(invalid) || write.Errors(invalid).First());
  bench("bulk-put body, 100 items", () => bulkPut.Check(bulkBody));
  bench("bulk-get body, 100 keys", () => bulkKeys.Check(keysBody));
});

// Namespace schemas (PUT /v1/namespaces/{ns}/schema) validate values with Ajv's draft 2020-12
// entry point. Where this build does not have it yet, say so instead of measuring nothing.
const ajvModule = "ajv/dist/2020.js";
let Ajv2020: (new (options: object) => { compile(schema: object): (data: unknown) => boolean }) | undefined;
try {
  Ajv2020 = (await import(ajvModule)).default;
} catch {
  process.stderr.write("schema validation: skipped (Ajv is not installed: namespace schemas are not in this build)\n");
}
if (Ajv2020 !== undefined) {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile({
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["theme"],
    properties: {
      theme: { enum: ["light", "dark", "system"] },
      shortcuts: { type: "array", items: { type: "object", properties: { key: { type: "string" } } } },
      recent: { type: "array", items: { type: "string" }, maxItems: 100 },
    },
  });
  group("namespace schema validation (Ajv 2020-12)", () => {
    bench("valid value", () => validate(value));
    bench("invalid value (all errors)", () => validate({ theme: 3, recent: [1] }));
  });
}
