// The change feed's cursor: a position that round-trips, bound to its install, refused when
// tampered with; and the change's JSON as the routes write it.
import { describe, expect, test } from "bun:test";
import { changeJson } from "../../src/http/json.ts";
import { decodePosition, encodePosition } from "../../src/records/changes.ts";

const a = { tenantId: "t", installId: "a" };
const b = { tenantId: "t", installId: "b" };

describe("change feed cursor", () => {
  test("round-trips a position, mid-revision or after a whole revision", () => {
    for (const p of [
      { revision: 0, namespace: "", key: "" },
      { revision: 42, namespace: "", key: "" },
      { revision: 7, namespace: "ns", key: "k/é" },
      { revision: 7, namespace: "ns", key: "" },
    ]) {
      expect(decodePosition(a, encodePosition(a, p))).toEqual(p);
    }
  });

  test("is refused for another install, the same install of another tenant, and when tampered with", () => {
    const cursor = encodePosition(a, { revision: 3, namespace: "", key: "" });
    expect(() => decodePosition(b, cursor)).toThrow("not a cursor of this install");
    expect(() => decodePosition({ tenantId: "u", installId: "a" }, cursor)).toThrow();
    const forged = (body: unknown) => Buffer.from(JSON.stringify(body)).toString("base64url");
    const tag = JSON.parse(Buffer.from(cursor, "base64url").toString())[1];
    expect(decodePosition(a, forged([1, tag, 9]))).toEqual({ revision: 9, namespace: "", key: "" });
    for (const bad of [
      forged([1, tag, -1]),
      forged([1, tag, 1.5]),
      forged([1, tag, "9"]),
      forged([2, tag, 9]),
      forged([1, tag, 9, "ns"]),
      forged([1, tag, 9, 1, "k"]),
      forged({ r: 9 }),
      `${cursor}=`,
      "",
      "%%",
      "x".repeat(5000),
    ]) {
      expect(() => decodePosition(a, bad)).toThrow();
    }
  });
});

describe("change JSON", () => {
  test("carries the value's text as written, and only the fields that apply", () => {
    expect(
      JSON.parse(changeJson({ type: "put", namespace: "n", key: "k", revision: 3, valueJson: '{"b":1,"a":[1e+21]}' })),
    ).toEqual({ type: "put", namespace: "n", key: "k", revision: 3, value: { b: 1, a: [1e21] } });
    expect(changeJson({ type: "namespace_deleted", namespace: "n", revision: 4 })).toBe(
      '{"type":"namespace_deleted","namespace":"n","revision":4}',
    );
    expect(
      JSON.parse(changeJson({ type: "delete", namespace: "n", key: "k", revision: 5, reason: "expired" })),
    ).toEqual({ type: "delete", namespace: "n", key: "k", revision: 5, reason: "expired" });
  });
});
