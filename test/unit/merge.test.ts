// Merge patches, increments and the atomic request's checks, without a database
// (src/records/merge.ts, src/records/atomic.ts, the check and conflict ops of plan.ts).
import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors.ts";
import { prepareAtomic } from "../../src/records/atomic.ts";
import { increment, mergePatch, parsePointer } from "../../src/records/merge.ts";
import { decide, type Op, type State, type Stored } from "../../src/records/plan.ts";
import { prepareValue } from "../../src/records/values.ts";

describe("mergePatch (RFC 7396, appendix A)", () => {
  const cases: Array<[unknown, unknown, unknown]> = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    [null, { a: 1 }, { a: 1 }],
  ];
  test.each(cases)("%j + %j", (target, patch, result) => {
    const before = JSON.stringify(target);
    expect(mergePatch(target, patch)).toEqual(result);
    expect(JSON.stringify(target)).toBe(before);
  });

  test("keeps the stored order, new members after; __proto__ stays a member", () => {
    expect(JSON.stringify(mergePatch({ b: 1, a: 2 }, { c: 3, a: 4 }))).toBe('{"b":1,"a":4,"c":3}');
    const merged = mergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(JSON.stringify(merged)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe("increment", () => {
  test("creates the record and intermediate objects, adds to numbers", () => {
    expect(increment(undefined, [], 2)).toEqual({ ok: true, value: 2 });
    expect(increment(5, [], -1.5)).toEqual({ ok: true, value: 3.5 });
    expect(increment(undefined, ["a", "b"], 1)).toEqual({ ok: true, value: { a: { b: 1 } } });
    expect(increment({ a: { b: 1, c: "x" } }, ["a", "b"], 1)).toEqual({ ok: true, value: { a: { b: 2, c: "x" } } });
    expect(increment({ "a/b": { "~": 1 } }, parsePointer("/a~1b/~0", "path"), 1)).toEqual({
      ok: true,
      value: { "a/b": { "~": 2 } },
    });
  });
  test("conflicts", () => {
    expect(increment("x", [], 1)).toMatchObject({ ok: false, conflict: { reason: "not_a_number" } });
    expect(increment({ a: "x" }, ["a"], 1)).toMatchObject({ ok: false, conflict: { reason: "not_a_number" } });
    expect(increment({ a: [1] }, ["a", "0"], 1)).toMatchObject({ ok: false, conflict: { reason: "not_an_object" } });
    expect(increment(3, ["a"], 1)).toMatchObject({ ok: false, conflict: { reason: "not_an_object" } });
    expect(increment(Number.MAX_VALUE, [], Number.MAX_VALUE)).toMatchObject({
      ok: false,
      conflict: { reason: "not_finite" },
    });
  });
  test("pointers", () => {
    expect(parsePointer("", "path")).toEqual([]);
    expect(parsePointer("/", "path")).toEqual([""]);
    expect(() => parsePointer("a", "path")).toThrow(AppError);
    expect(() => parsePointer("/a~2", "path")).toThrow(AppError);
  });
});

describe("prepareAtomic", () => {
  const failedOf = (body: { checks?: unknown[]; ops: unknown[] }) => {
    try {
      prepareAtomic(body);
    } catch (error) {
      return ((error as AppError).details as { failed: Array<{ in: string; index: number }> }).failed.map(
        (f) => `${f.in}:${f.index}`,
      );
    }
    return [];
  };
  test("names every malformed check and op, and every repeated op key", () => {
    expect(
      failedOf({
        checks: [
          { namespace: "a", key: "k", revision: 0 },
          { namespace: "a", key: "k", revision: null },
        ],
        ops: [
          { op: "set", namespace: "a", key: "k", value: 1 },
          { op: "set", namespace: "a", key: "k", value: 1 },
          { op: "increment", namespace: "a", key: "j", by: Number.POSITIVE_INFINITY },
          { op: "increment", namespace: "a", key: "d", path: "/a".repeat(33), by: 1 },
          { op: "merge", namespace: "a", key: "m" },
          { op: "delete", namespace: "a", key: "k2", extra: 1 },
        ],
      }),
    ).toEqual(["checks:0", "ops:1", "ops:2", "ops:3", "ops:4", "ops:5"]);
    expect(
      failedOf({
        ops: [
          { op: "delete", namespace: "a", key: "k" },
          { op: "delete", namespace: "b", key: "k" },
        ],
      }),
    ).toEqual([]);
  });
});

describe("decide: checks, conflicts and one shared revision", () => {
  const limits = { maxBytes: 1000, maxRecords: 10, maxValueBytes: 100 };
  const absent: Stored = { revision: null, sizeBytes: null, live: null };
  const live = (revision: number, sizeBytes: number): Stored => ({ revision, sizeBytes, live: true });
  const state = (stored: Stored[]): State => ({
    stored,
    namespaces: new Map(),
    usage: { bytes: 10, records: 1, lastRevision: 40 },
    limits,
    swept: false,
  });
  const put = (key: string, value: unknown): Op => ({
    op: "put",
    namespace: "ns",
    key,
    parsed: value,
    value: prepareValue(key, value, Number.POSITIVE_INFINITY, "value"),
    ttl: null,
    expiresAt: null,
  });
  test("every key written shares one revision; checks change nothing", () => {
    const ops: Op[] = [
      { op: "check", namespace: "ns", key: "a", ifRevision: 7 },
      put("b", 1),
      { op: "delete", namespace: "ns", key: "a" },
    ];
    const d = decide(ops, state([live(7, 10), absent, live(7, 10)]), new Map(), "shared");
    if (d.kind !== "apply") throw new Error(d.kind);
    expect(d.plan.outcomes.map((o) => o.revision)).toEqual([null, 41, 41]);
    expect(d.plan.lastRevision).toBe(41);
    expect(d.plan.delta).toEqual({ bytes: 2 - 10, records: 0 });
  });
  test("412 before 409; 409 names each conflicting op", () => {
    const conflict: Op = { op: "conflict", namespace: "ns", key: "c", reason: "not_a_number", message: "m" };
    const check: Op = { op: "check", namespace: "ns", key: "a", ifAbsent: true };
    expect(decide([check, conflict], state([live(3, 10), absent]), new Map()).kind).toBe("refuse");
    const first = decide([check, conflict], state([live(3, 10), absent]), new Map());
    expect(first.kind === "refuse" && first.refusal.kind).toBe("precondition");
    const second = decide([check, conflict], state([absent, absent]), new Map());
    expect(second.kind === "refuse" && second.refusal).toEqual({
      kind: "conflict",
      failed: [{ index: 1, key: "c", reason: "not_a_number", message: "m" }],
    });
  });
  test("a check that must find its key is a 404 after the preconditions", () => {
    const d = decide([{ op: "check", namespace: "ns", key: "a", mustExist: true }], state([absent]), new Map());
    expect(d.kind === "refuse" && d.refusal.kind).toBe("not_found");
  });
});
