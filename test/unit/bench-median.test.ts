// The median bench:peers prints for each figure over its rounds.
import { expect, test } from "bun:test";
import { median } from "../../bench/peers/statements.ts";

test("median: the middle round of an odd count, the mean of the two middle ones of an even count", () => {
  expect(median([5])).toBe(5);
  expect(median([9, 1, 5])).toBe(5);
  // two rounds: their mean, not the larger
  expect(median([53, 37])).toBe(45);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});

test("median leaves the rounds as they were", () => {
  const rounds = [3, 1, 2];
  median(rounds);
  expect(rounds).toEqual([3, 1, 2]);
});
