import { expect, test } from "bun:test";
import { S } from "../../src/contract/index.ts";
import { compileLineSchemas, ImportReader } from "../../src/records/import-lines.ts";

const lineChecks = compileLineSchemas({
  install: S.ExportInstallLine,
  limits: S.ExportLimitsLine,
  schema: S.ExportSchemaLine(64),
  record: S.ExportRecordLine,
  end: S.ExportEndLine,
});
const head = JSON.stringify({
  type: "install",
  format: 1,
  tenantId: "t",
  installId: "i",
  extensionId: "e",
  exportedAt: "2026-01-01T00:00:00Z",
});
const rec = (key: string, value: unknown, namespace = "ns") =>
  JSON.stringify({ type: "record", namespace, key, value, expiresAt: null });
const schema = (namespace: string, jsonSchema: unknown) =>
  JSON.stringify({ type: "schema", namespace, jsonSchema, defaultTtlSeconds: null, maxValueBytes: null });
const end = (records: number, schemas = 0) => JSON.stringify({ type: "end", records, schemas });

/** Feeds the lines (numbered from 1) and finishes: the plan, or the refusal's code, line and message. */
function read(...lines: string[]) {
  const reader = new ImportReader(lineChecks, { maxValueBytes: 64, maxSchemaBytes: 65_536 });
  try {
    for (const [i, text] of lines.entries()) reader.line(text, i + 1);
    return reader.finish();
  } catch (error) {
    const e = error as { code: string; message: string; details?: Record<string, unknown> };
    return { code: e.code, message: e.message, details: e.details };
  }
}

test("a whole stream gives its records as canonical text with exact sizes", () => {
  const plan = read(head, schema("s", { type: "object" }), rec("k", { b: 1, a: 2 }, "s"), rec("é", 5e-324), end(2, 1));
  expect(plan).toMatchObject({
    extensionId: "e",
    limits: undefined,
    records: { namespaces: ["s", "ns"], keys: ["k", "é"], values: ['{"b":1,"a":2}', "5e-324"], sizes: [14, 8] },
  });
});

test("the contract's order whatever the lines' order: a later 400 outranks an earlier 413 or 422", () => {
  const big = rec("big", "x".repeat(100));
  const wrong = rec("wrong", 1, "s");
  expect(read(head, schema("s", { type: "string" }), big, wrong, rec("", 1), end(3, 1))).toMatchObject({
    code: "INVALID_KEY",
    details: { line: 5 },
  });
  expect(read(head, schema("s", { type: "string" }), wrong, big, end(2, 1))).toMatchObject({
    code: "VALUE_TOO_LARGE",
    details: { failed: [{ line: 4, key: "big", limit: 64, size: 102 }] },
  });
  expect(read(head, schema("s", { type: "string" }), wrong, end(1, 1))).toMatchObject({
    code: "SCHEMA_VIOLATION",
    details: { errors: [{ line: 3, key: "wrong", path: "" }] },
  });
});

test("order and uniqueness of the lines", () => {
  const refusedAt = (...lines: string[]) => (read(...lines) as { details?: { line?: number } }).details?.line;
  expect(refusedAt(head, rec("a", 1), schema("s", true), end(1, 1))).toBe(3); // schema after a record
  expect(refusedAt(head, schema("s", true), schema("s", true), end(0, 2))).toBe(3); // two for one namespace
  expect(refusedAt(head, head, end(0))).toBe(2);
  expect(refusedAt(head, end(0), rec("a", 1))).toBe(3); // after the end
  expect(refusedAt(head, schema("s", { type: 5 }), end(0, 1))).toBe(2); // not a schema
  expect(refusedAt(head, JSON.stringify({ type: "limits", maxBytes: -1, maxRecords: null }), end(0))).toBe(2);
  expect(read(head, rec("a", 1), rec("a", 2, "other"), end(2))).toMatchObject({ records: { keys: ["a", "a"] } });
});
