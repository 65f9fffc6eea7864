import { describe, expect, test } from "bun:test";
import type { AppError } from "../../src/errors.ts";
import {
  checkBulkKeys,
  invalidItems,
  keyFaults,
  prepareWriteItems,
  tooLargeOfMany,
  tooLargeOfOne,
  type WriteItem,
  writeItemFaults,
} from "../../src/records/items.ts";

const thrown = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error("nothing was thrown");
};
const indexes = (faults: ReadonlyArray<{ index: number }>) => faults.map((f) => f.index);
const now = Date.parse("2027-01-01T00:00:00Z");

describe("bulk keys", () => {
  test("every repeat is named, with the item it repeats", () => {
    const faults = keyFaults(["p", "p", "q", "q", "p"]);
    expect(indexes(faults)).toEqual([1, 3, 4]);
    expect(faults[2]).toEqual({ index: 4, key: "p", code: "INVALID_REQUEST", message: expect.stringContaining("0") });
  });

  test("every invalid key is named; the code is INVALID_KEY only when all faults are keys", () => {
    const keys = thrown(() => checkBulkKeys([".", "ok", "", "a\u0000"]));
    expect([keys.code, keys.details]).toEqual([
      "INVALID_KEY",
      {
        failed: [
          { index: 0, key: ".", code: "INVALID_KEY", message: expect.any(String) },
          { index: 2, key: "", code: "INVALID_KEY", message: expect.any(String) },
          { index: 3, key: "a\u0000", code: "INVALID_KEY", message: expect.any(String) },
        ],
      },
    ]);
    expect(thrown(() => checkBulkKeys([".", "x", "x"])).code).toBe("INVALID_REQUEST");
    expect(checkBulkKeys(["a", "b"])).toEqual(["a", "b"]);
  });

  test("a key repeating an item already named for another reason is still named", () => {
    expect(indexes(keyFaults(["a", "a", 5, "b"], new Set([0, 2])))).toEqual([1]);
  });

  test("faults are listed by index and the message names the first and how many more", () => {
    const error = invalidItems([
      { index: 4, code: "INVALID_REQUEST", message: "late" },
      { index: 1, code: "INVALID_REQUEST", message: "early" },
    ]);
    expect(indexes(error.details?.failed as Array<{ index: number }>)).toEqual([1, 4]);
    expect(error.message).toContain("item 1: early");
    expect(error.message).toContain("1 more");
  });
});

describe("write items", () => {
  const item = (key: string, extra: Partial<WriteItem> = {}): WriteItem => ({ key, value: 1, ...extra });

  test("every kind of fault in every item", () => {
    const faults = writeItemFaults(
      [
        item("a", { expiresAt: "2027-02-30T00:00:00Z" }),
        item("b"),
        item("a"),
        item("c", { ifRevision: 2, ifAbsent: true }),
        item("d", { value: "x\u0000" }),
        item("e", { ttlSeconds: 5, expiresAt: "2027-03-01T00:00:00Z" }),
        item(".."),
        item("f", { expiresAt: "2026-12-31T00:00:00Z" }),
      ],
      undefined,
      now,
    );
    expect(faults.map((f) => [f.index, f.code])).toEqual([
      [0, "INVALID_REQUEST"],
      [2, "INVALID_REQUEST"],
      [3, "INVALID_REQUEST"],
      [4, "INVALID_REQUEST"],
      [5, "INVALID_REQUEST"],
      [6, "INVALID_KEY"],
      [7, "INVALID_REQUEST"],
    ]);
    expect(faults[0]?.message).toContain("expiresAt");
  });

  test("a PUT's fault is thrown as it is, without item details", () => {
    const error = thrown(() => prepareWriteItems([item("k", { expiresAt: "2027-04-31T00:00:00Z" })], false, now));
    expect([error.code, error.details, error.message.startsWith("expiresAt")]).toEqual([
      "INVALID_REQUEST",
      undefined,
      true,
    ]);
  });

  test("values over the limit: a PUT names its key, a bulk-put every item", () => {
    const failed = [
      { index: 0, key: "a", limit: 5, size: 6 },
      { index: 2, key: "c", limit: 5, size: 6 },
    ];
    const bulk = tooLargeOfMany(failed);
    expect([bulk.status, bulk.code, bulk.details]).toEqual([
      413,
      "VALUE_TOO_LARGE",
      { failed: failed.map((f) => ({ ...f, message: expect.any(String) })) },
    ]);
    const single = tooLargeOfOne(failed.slice(0, 1));
    expect([single.status, single.details]).toEqual([413, { key: "a", limit: 5, size: 6 }]);
  });
});
