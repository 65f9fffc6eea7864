import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors.ts";
import {
  checkKey,
  checkNamespace,
  decodeCursor,
  decodeSegment,
  encodeCursor,
  keyProblem,
  prefixUpperBound,
} from "../../src/records/keys.ts";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as AppError).code;
  }
  return "no error";
};

describe("keys", () => {
  test.each(["a", "a/b", "100%", "a_b", "back\\slash", "...", "with space", "é", "𝄞", "x".repeat(512)])(
    "accepts %p",
    (key) => expect(keyProblem(key)).toBeUndefined(),
  );

  test.each([
    ["", "empty"],
    [".", "dot"],
    ["..", "dot dot"],
    ["a\u0000b", "NUL"],
    ["a\nb", "newline"],
    ["a\u007fb", "DEL"],
    ["x".repeat(513), "513 bytes"],
    ["é".repeat(257), "514 bytes of 2-byte characters"],
    ["\ud800", "unpaired surrogate"],
  ])("refuses %p (%s)", (key) => expect(codeOf(() => checkKey(key))).toBe("INVALID_KEY"));

  test("a path segment is decoded exactly once, and bad escapes are refused", () => {
    expect(decodeSegment("a%2Fb%25c", "INVALID_KEY")).toBe("a/b%c");
    expect(decodeSegment("%2525", "INVALID_KEY")).toBe("%25");
    expect(decodeSegment("%F0%9D%84%9E", "INVALID_KEY")).toBe("𝄞");
    for (const bad of ["%ZZ", "%", "a%2", "%FF", "%C3%28", "%ED%A0%80"]) {
      expect(codeOf(() => decodeSegment(bad, "INVALID_KEY"))).toBe("INVALID_KEY");
    }
  });

  test("namespaces", () => {
    for (const ok of ["a", "settings", "A.b-c_d", `a${"b".repeat(62)}`]) expect(checkNamespace(ok)).toBe(ok);
    for (const bad of ["", ".a", "-a", "a/b", "a b", `a${"b".repeat(63)}`, "é"]) {
      expect(codeOf(() => checkNamespace(bad))).toBe("INVALID_NAMESPACE");
    }
  });
});

describe("prefix upper bound", () => {
  const bytes = (s: string) => Buffer.from(s, "utf8");
  const inRange = (key: string, prefix: string) =>
    Buffer.compare(bytes(key), bytes(prefix)) >= 0 && Buffer.compare(bytes(key), bytes(prefixUpperBound(prefix))) < 0;

  test("covers exactly the keys that start with the prefix, in byte order", () => {
    const keys = [
      "a",
      "ab",
      "abz",
      "ac",
      "a\u007f",
      "a\u0080",
      "aé",
      "a𝄞",
      "b",
      "a\uffff",
      "a\u{10ffff}x",
      "\u{10ffff}",
    ];
    for (const prefix of ["", "a", "ab", "a\u007f", "aé", "a\ud7ff", "\u{10ffff}", "a\u{10ffff}"]) {
      for (const key of keys)
        expect([prefix, key, inRange(key, prefix)]).toEqual([prefix, key, key.startsWith(prefix)]);
    }
  });

  test("skips the surrogate range", () => {
    expect(prefixUpperBound("a\ud7ff")).toBe("a\ue000");
  });
});

describe("cursor", () => {
  const scope = { tenantId: "t", installId: "i", namespace: "ns", prefix: "p" };

  test("round-trips the last key", () => {
    expect(decodeCursor(scope, encodeCursor(scope, "p/𝄞 %_\\"))).toBe("p/𝄞 %_\\");
  });

  test("is refused for another install, namespace or prefix, and when tampered with", () => {
    const cursor = encodeCursor(scope, "pk");
    for (const other of [
      { ...scope, installId: "j" },
      { ...scope, tenantId: "u" },
      { ...scope, namespace: "other" },
      { ...scope, prefix: "" },
    ]) {
      expect(codeOf(() => decodeCursor(other, cursor))).toBe("INVALID_REQUEST");
    }
    for (const bad of ["", "!!!", "abc", Buffer.from("{}").toString("base64url"), `${cursor}x`, "a".repeat(5000)]) {
      expect(codeOf(() => decodeCursor(scope, bad))).toBe("INVALID_REQUEST");
    }
  });
});

test("AppError carries the contract status", () => {
  const e = new AppError("REVISION_MISMATCH", "x", { currentRevision: 3 });
  expect(e.status).toBe(412);
  expect(e.body()).toEqual({ error: { code: "REVISION_MISMATCH", message: "x", details: { currentRevision: 3 } } });
});
