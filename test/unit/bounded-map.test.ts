// The caches' one bounded map: at most `max` entries, the least recently used forgotten first.
import { expect, test } from "bun:test";
import { BoundedMap } from "../../src/bounded-map.ts";

const keys = (map: BoundedMap<string, number>, candidates: string[]) =>
  candidates.filter((k) => map.get(k) !== undefined);

test("holds at most max entries, forgetting the least recently set", () => {
  const map = new BoundedMap<string, number>(2);
  map.set("a", 1).set("b", 2).set("c", 3);
  expect(map.size).toBe(2);
  expect(map.get("a")).toBeUndefined();
  expect([map.get("b"), map.get("c")]).toEqual([2, 3]);
});

test("a read or a write makes an entry the most recently used", () => {
  const map = new BoundedMap<string, number>(2);
  map.set("a", 1).set("b", 2);
  map.get("a");
  map.set("c", 3); // b goes: a was read since
  expect(keys(map, ["a", "b", "c"])).toEqual(["a", "c"]);
  map.set("a", 10); // a again, so c is now the oldest
  map.set("d", 4);
  expect(keys(map, ["a", "b", "c", "d"])).toEqual(["a", "d"]);
  expect(map.get("a")).toBe(10);
});

test("replacing an entry of a full map forgets nothing else", () => {
  const map = new BoundedMap<string, number>(2);
  map.set("a", 1).set("b", 2).set("b", 3);
  expect([map.size, map.get("a"), map.get("b")]).toEqual([2, 1, 3]);
});

test("delete, and a size that never passes max under many keys", () => {
  const map = new BoundedMap<number, number>(100);
  for (let i = 0; i < 10_000; i++) map.set(i, i);
  expect(map.size).toBe(100);
  expect(map.get(9_999)).toBe(9_999);
  expect(map.get(9_899)).toBeUndefined();
  expect(map.delete(9_999)).toBe(true);
  expect(map.delete(9_999)).toBe(false);
  expect(map.size).toBe(99);
});

test("refuses a bound that is not a positive integer", () => {
  for (const max of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedMap(max)).toThrow(RangeError);
});
