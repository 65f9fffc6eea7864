// What the router cannot be trusted with, read without a server or a database: the strict
// query string, the list route's query and the conditional-request headers.
import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors.ts";
import { listQuery, preconditionOf, strictQuery } from "../../src/http/request.ts";

const at = (query: string, headers: Record<string, string> = {}) =>
  new Request(`http://localhost/v1/namespaces/ns/records${query}`, { headers });

const refusal = (run: () => unknown) => {
  try {
    run();
    return "accepted";
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return `${error.status} ${error.code}: ${error.message}`;
  }
};

describe("strictQuery", () => {
  test("decodes names and values once, + as a space, empty parts skipped", () => {
    const q = strictQuery(at("?a=x%20y&b=1+2&&c"), ["a", "b", "c"]);
    expect([...q]).toEqual([
      ["a", "x y"],
      ["b", "1 2"],
      ["c", ""],
    ]);
    expect([...strictQuery(at(""), ["a"])]).toEqual([]);
    expect([...strictQuery(at("?"), ["a"])]).toEqual([]);
  });

  test("refuses unknown names, repeated names and bad escapes", () => {
    expect(refusal(() => strictQuery(at("?z=1"), ["a"]))).toBe('400 INVALID_REQUEST: unknown query parameter "z"');
    expect(refusal(() => strictQuery(at("?a=1&a=2"), ["a"]))).toBe(
      '400 INVALID_REQUEST: query parameter "a" is given twice',
    );
    expect(refusal(() => strictQuery(at("?a=%ff"), ["a"]))).toContain("400 INVALID_REQUEST: the query string");
    expect(refusal(() => strictQuery(at("?a=%zz"), ["a"]))).toContain("400 INVALID_REQUEST");
  });
});

describe("listQuery", () => {
  test("defaults: no prefix, 100 (or the maximum if lower), no cursor, values", () => {
    expect(listQuery(at(""), 1000)).toEqual({ prefix: "", limit: 100, cursor: undefined, values: true });
    expect(listQuery(at(""), 50).limit).toBe(50);
    expect(listQuery(at("?cursor="), 1000).cursor).toBeUndefined();
  });

  test("reads every parameter; a prefix is literal", () => {
    expect(listQuery(at("?prefix=a%25_%5C&limit=7&cursor=abc&values=false"), 1000)).toEqual({
      prefix: "a%_\\",
      limit: 7,
      cursor: "abc",
      values: false,
    });
    expect(listQuery(at("?prefix=.."), 1000).prefix).toBe("..");
  });

  test("refuses a limit outside 1 to the maximum, or not written as digits", () => {
    for (const limit of ["0", "1001", "-1", "1.5", "1e2", "0x10", "", " 5", "1234567"]) {
      expect(refusal(() => listQuery(at(`?limit=${encodeURIComponent(limit)}`), 1000))).toBe(
        "400 INVALID_REQUEST: limit must be an integer from 1 to 1000",
      );
    }
    expect(listQuery(at("?limit=1000"), 1000).limit).toBe(1000);
  });

  test("refuses values other than true or false, and a prefix no key could have", () => {
    expect(refusal(() => listQuery(at("?values=no"), 1000))).toBe("400 INVALID_REQUEST: values must be true or false");
    expect(refusal(() => listQuery(at("?prefix=%01"), 1000))).toStartWith("400 INVALID_REQUEST: prefix:");
    expect(refusal(() => listQuery(at("?offset=1"), 1000))).toBe(
      '400 INVALID_REQUEST: unknown query parameter "offset"',
    );
  });
});

describe("preconditionOf", () => {
  test("none, If-Match with a revision ETag (weak, bare digits too), or If-None-Match: *", () => {
    expect(preconditionOf(at(""))).toEqual({});
    expect(preconditionOf(at("", { "if-match": '"12"' }))).toEqual({ ifMatch: 12 });
    expect(preconditionOf(at("", { "if-match": ' W/"3" ' }))).toEqual({ ifMatch: 3 });
    expect(preconditionOf(at("", { "if-match": "42" }))).toEqual({ ifMatch: 42 });
    expect(preconditionOf(at("", { "if-none-match": " * " }))).toEqual({ ifNoneMatch: true });
  });

  test("refuses both at once, a tag that is no revision, and If-None-Match other than *", () => {
    expect(refusal(() => preconditionOf(at("", { "if-match": '"1"', "if-none-match": "*" })))).toBe(
      "400 INVALID_REQUEST: give If-Match or If-None-Match, not both",
    );
    for (const tag of ['"0"', '"abc"', '"1", "2"', "*", '"12345678901234567"', '"-1"']) {
      expect(refusal(() => preconditionOf(at("", { "if-match": tag })))).toBe(
        '400 INVALID_REQUEST: If-Match must be a revision ETag like "12"',
      );
    }
    expect(refusal(() => preconditionOf(at("", { "if-none-match": '"3"' })))).toBe(
      "400 INVALID_REQUEST: If-None-Match supports only *",
    );
  });
});
