// The write pipeline's decision (src/records/plan.ts), without a database: state and ops in,
// a plan, a sweep or a refusal out.
import { describe, expect, test } from "bun:test";
import { type Checks, decide, type Op, type State, type Stored } from "../../src/records/plan.ts";
import { prepareValue } from "../../src/records/values.ts";

const limits = { maxBytes: 1000, maxRecords: 10, maxValueBytes: 100 };
const absent: Stored = { revision: null, sizeBytes: null, live: null };
const live = (revision: number, sizeBytes: number): Stored => ({ revision, sizeBytes, live: true });
const expired = (revision: number, sizeBytes: number): Stored => ({ revision, sizeBytes, live: false });

const put = (key: string, value: unknown, more: Partial<Extract<Op, { op: "put" }>> = {}): Op => ({
  op: "put",
  namespace: "ns",
  key,
  parsed: value,
  value: prepareValue(key, value, Number.POSITIVE_INFINITY, "value"),
  ttl: null,
  expiresAt: null,
  ...more,
});
const del = (key: string, more: Partial<Extract<Op, { op: "delete" }>> = {}): Op => ({
  op: "delete",
  namespace: "ns",
  key,
  ...more,
});

const state = (stored: Stored[], more: Partial<State> = {}): State => ({
  stored,
  namespaces: new Map(),
  usage: { bytes: 0, records: 0, lastRevision: 40 },
  limits,
  swept: false,
  ...more,
});
const none: Checks = new Map();

describe("decide: plans", () => {
  test("a put of a new key: one revision, created, counted", () => {
    const d = decide([put("a", "xy")], state([absent]), none);
    if (d.kind !== "apply") throw new Error(d.kind);
    expect(d.plan.outcomes).toEqual([
      { op: "put", namespace: "ns", key: "a", revision: 41, created: true, deleted: false },
    ]);
    // size: key (1) + JSON "xy" (4)
    expect(d.plan.delta).toEqual({ bytes: 5, records: 1 });
    expect(d.plan.lastRevision).toBe(41);
    expect(d.plan.puts[0]).toMatchObject({ namespace: "ns", key: "a", json: '"xy"', sizeBytes: 5, revision: 41 });
  });

  test("replacing: live is a replace, expired a create whose old size still leaves the stored figures", () => {
    const d = decide([put("a", 1), put("b", 2)], state([live(7, 10), expired(8, 20)]), none);
    if (d.kind !== "apply") throw new Error(d.kind);
    expect(d.plan.outcomes.map((o) => [o.revision, o.created])).toEqual([
      [41, false],
      [42, true],
    ]);
    expect(d.plan.delta).toEqual({ bytes: 2 - 10 + 2 - 20, records: 0 });
    expect(d.plan.replacedExpired).toBe(1);
  });

  test("deletes: a stored row is deleted and takes a revision; an absent key changes nothing", () => {
    const d = decide([del("a"), del("b"), del("c")], state([live(3, 10), expired(4, 6), absent]), none);
    if (d.kind !== "apply") throw new Error(d.kind);
    expect(d.plan.deletes).toEqual([
      { namespace: "ns", key: "a", sizeBytes: 10, revision: 41, expired: false },
      { namespace: "ns", key: "b", sizeBytes: 6, revision: 42, expired: true },
    ]);
    expect(d.plan.outcomes.map((o) => [o.revision, o.deleted])).toEqual([
      [41, true],
      [42, false],
      [null, false],
    ]);
    expect(d.plan.delta).toEqual({ bytes: -16, records: -2 });
    expect(d.plan.replacedExpired).toBe(0);
  });

  test("ops of several namespaces take each namespace's default TTL", () => {
    const ops = [put("a", 1), put("a", 1, { namespace: "other" }), put("b", 1, { ttl: 5 })];
    const namespaces = new Map([
      ["ns", { schemaVersion: null, defaultTtlSeconds: 60, maxValueBytes: null }],
      ["other", { schemaVersion: null, defaultTtlSeconds: null, maxValueBytes: null }],
    ]);
    const d = decide(ops, state([absent, absent, absent], { namespaces }), none);
    if (d.kind !== "apply") throw new Error(d.kind);
    expect(d.plan.puts.map((p) => [p.namespace, p.ttl])).toEqual([
      ["ns", 60],
      ["other", null],
      ["ns", 5],
    ]);
  });
});

describe("decide: refusals, in the contract's order", () => {
  const schemaNs = new Map([["ns", { schemaVersion: 1, defaultTtlSeconds: null, maxValueBytes: 5 }]]);
  const onlyNumbers: Checks = new Map([
    ["ns", (v: unknown) => (typeof v === "number" ? [] : [{ path: "", message: "must be number" }])],
  ]);

  test("413 names every value over its namespace's limit, before 422", () => {
    const d = decide(
      [put("a", "abcdef"), put("b", 1), put("c", "x".repeat(9))],
      state([absent, absent, absent], { namespaces: schemaNs }),
      onlyNumbers,
    );
    expect(d).toEqual({
      kind: "refuse",
      refusal: {
        kind: "too_large",
        failed: [
          { index: 0, key: "a", limit: 5, size: 8 },
          { index: 2, key: "c", limit: 5, size: 11 },
        ],
      },
    });
  });

  test("422 names every violation by op, before 412", () => {
    const d = decide([put("a", "x"), put("b", 1, { ifAbsent: true })], state([absent, live(1, 2)]), onlyNumbers);
    expect(d).toEqual({
      kind: "refuse",
      refusal: { kind: "schema", errors: [{ index: 0, path: "", message: "must be number" }] },
    });
  });

  test("412: expired rows are absent to every precondition; deletes are held to theirs", () => {
    const ops = [put("a", 1, { ifRevision: 3 }), put("b", 1, { ifAbsent: true }), del("c", { ifRevision: 9 })];
    const d = decide(ops, state([expired(3, 2), expired(5, 2), live(8, 2)]), none);
    expect(d).toEqual({
      kind: "refuse",
      refusal: {
        kind: "precondition",
        failed: [
          { index: 0, key: "a", currentRevision: null },
          { index: 2, key: "c", currentRevision: 8 },
        ],
      },
    });
  });

  test("404 for a delete that must find its key, after 412", () => {
    expect(decide([del("a", { mustExist: true })], state([expired(2, 3)]), none)).toEqual({
      kind: "refuse",
      refusal: { kind: "not_found", failed: [{ index: 0, key: "a" }] },
    });
    expect(decide([del("a", { mustExist: true, ifRevision: 2 })], state([absent]), none)).toMatchObject({
      refusal: { kind: "precondition" },
    });
  });
});

describe("decide: quota", () => {
  const nearlyFull = { bytes: 996, records: 3, lastRevision: 40 };

  test("over a limit on stored figures: sweep first, then decide for good", () => {
    expect(decide([put("a", "xy")], state([absent], { usage: nearlyFull }), none)).toEqual({ kind: "sweep" });
    const after = decide([put("a", "xy")], state([absent], { usage: nearlyFull, swept: true }), none);
    expect(after).toEqual({
      kind: "refuse",
      refusal: { kind: "quota", breach: { kind: "bytes", limit: 1000, used: 996, requested: 5 } },
    });
  });

  test("replacing an expired row is a new record to the quota, though the stored figures would not rise", () => {
    const full = { bytes: 100, records: 10, lastRevision: 40 };
    expect(decide([put("a", 1)], state([expired(1, 50)], { usage: full }), none)).toEqual({ kind: "sweep" });
    expect(decide([put("a", 1)], state([live(1, 50)], { usage: full }), none).kind).toBe("apply");
  });

  test("a write that raises no figure, and any delete, pass over a lowered limit", () => {
    const over = { bytes: 5000, records: 50, lastRevision: 40 };
    expect(decide([put("a", 1)], state([live(1, 50)], { usage: over }), none).kind).toBe("apply");
    expect(decide([del("a")], state([live(1, 50)], { usage: over }), none).kind).toBe("apply");
  });

  test("after a sweep, revisions go on from the counter the state gives", () => {
    const d = decide(
      [put("a", 1)],
      state([absent], { usage: { bytes: 0, records: 0, lastRevision: 47 }, swept: true }),
      none,
    );
    expect(d.kind === "apply" && d.plan.outcomes[0]?.revision).toBe(48);
  });
});
