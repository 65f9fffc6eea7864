import { describe, expect, test } from "bun:test";
import type { AppError } from "../../src/errors.ts";
import { jsonDepthExceeds } from "../../src/http/body.ts";
import { expiryParams, toRecord } from "../../src/records/record.ts";
import { canonicalFromJsonb, prepareValue, valueProblem } from "../../src/records/values.ts";

const nest = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

describe("values", () => {
  test("nesting: 32 arrays/objects pass, 33 do not", () => {
    expect(valueProblem(nest(32))).toBeUndefined();
    expect(valueProblem(nest(33))).toContain("32");
    expect(valueProblem(nest(100_000))).toContain("32");
  });

  test("scalars of every JSON type pass", () => {
    for (const v of [null, true, false, 0, -1.5, 1e308, "", "é𝄞", [], {}]) expect(valueProblem(v)).toBeUndefined();
  });

  test("what jsonb cannot hold is refused", () => {
    expect(valueProblem("a\u0000b")).toBeDefined();
    expect(valueProblem({ k: "\udc00" })).toBeDefined();
    expect(valueProblem({ "\u0000": 1 })).toBeDefined();
    expect(valueProblem([Number.POSITIVE_INFINITY])).toBeDefined();
    expect(valueProblem(JSON.parse("1e400"))).toBeDefined();
  });

  test("size is UTF-8 bytes of the key plus of JSON.stringify(value)", () => {
    const p = prepareValue("ké", { a: "é" }, 100, "value");
    expect(p.json).toBe('{"a":"é"}');
    expect(p.valueBytes).toBe(10);
    expect(p.sizeBytes).toBe(13);
  });

  test("a value over the limit is VALUE_TOO_LARGE naming the key", () => {
    try {
      prepareValue("k", "x".repeat(100), 101, "item 3");
      throw new Error("accepted");
    } catch (error) {
      expect((error as AppError).code).toBe("VALUE_TOO_LARGE");
      expect((error as AppError).details).toMatchObject({ key: "k", limit: 101, size: 102 });
      expect((error as AppError).message).toContain("item 3");
    }
    expect(prepareValue("k", "x".repeat(99), 101, "v").valueBytes).toBe(101);
  });
});

describe("body depth pre-check", () => {
  test("counts brackets outside strings only", () => {
    expect(jsonDepthExceeds("[[[]]]", 3)).toBe(false);
    expect(jsonDepthExceeds("[[[[]]]]", 3)).toBe(true);
    expect(jsonDepthExceeds('["[[[[[[", "\\"[[[["]', 1)).toBe(false);
    expect(jsonDepthExceeds(`{"a":${"[".repeat(50)}`, 35)).toBe(true);
  });
});

describe("expiry", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
      return "ok";
    } catch (error) {
      return (error as AppError).code;
    }
  };

  test("ttlSeconds, expiresAt, or neither", () => {
    expect(expiryParams({ ttlSeconds: 5 }, now)).toEqual([5, null]);
    expect(expiryParams({}, now)).toEqual([null, null]);
    expect(expiryParams({ expiresAt: "2026-01-01T02:00:00+01:00" }, now)).toEqual([null, "2026-01-01T01:00:00.000Z"]);
  });

  test("refuses both, the past, more than a year ahead, and non-RFC 3339 text", () => {
    expect(codeOf(() => expiryParams({ ttlSeconds: 5, expiresAt: "2026-02-01T00:00:00Z" }, now))).toBe(
      "INVALID_REQUEST",
    );
    expect(codeOf(() => expiryParams({ expiresAt: "2025-12-31T23:59:59Z" }, now))).toBe("INVALID_REQUEST");
    expect(codeOf(() => expiryParams({ expiresAt: "2027-01-01T00:00:01Z" }, now))).toBe("INVALID_REQUEST");
    expect(codeOf(() => expiryParams({ expiresAt: "tomorrow" }, now))).toBe("INVALID_REQUEST");
    expect(codeOf(() => expiryParams({ expiresAt: "2026-02-01" }, now))).toBe("INVALID_REQUEST");
    expect(codeOf(() => expiryParams({ expiresAt: "2026-12-31T23:59:59.5Z" }, now))).toBe("ok");
  });
});

describe("canonical text of a value read back", () => {
  // jsonb's rendering of {"b":[5e-324,1e+300,-0],"a":"é"}: members sorted, numbers in full
  const jsonbText = `{"a": "é", "b": [0.${"0".repeat(323)}5, 1${"0".repeat(300)}, 0]}`;
  const row = { key: "k", revision: 1, expires_at: null, created_at: new Date(0), updated_at: new Date(0) };

  test("jsonb's text becomes JSON.stringify of the value, as long as what was counted", () => {
    const canonical = canonicalFromJsonb(jsonbText);
    expect(canonical).toBe('{"a":"é","b":[5e-324,1e+300,0]}');
    expect(canonical.length).toBe(JSON.stringify({ b: [5e-324, 1e300, -0], a: "é" }).length);
  });

  test("a row older than value_json is canonicalised; value_json's text passes through untouched", () => {
    expect(toRecord({ ...row, value: jsonbText, value_from_jsonb: true }).valueJson).toBe(
      '{"a":"é","b":[5e-324,1e+300,0]}',
    );
    const written = '{"b":[5e-324,1e+300,0],"a":"é"}';
    expect(toRecord({ ...row, value: written, value_from_jsonb: false }).valueJson).toBe(written);
  });
});
