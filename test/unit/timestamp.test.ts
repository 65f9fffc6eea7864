import { describe, expect, test } from "bun:test";
import type { AppError } from "../../src/errors.ts";
import { expiryParams } from "../../src/records/record.ts";
import { daysInMonth, parseTimestamp } from "../../src/records/timestamp.ts";

const ms = (iso: string) => new Date(iso).getTime(); // only for texts Date reads correctly

describe("parseTimestamp", () => {
  test("real date-times, with either case of T and Z and any offset", () => {
    expect(parseTimestamp("2027-02-28T12:34:56Z")).toBe(ms("2027-02-28T12:34:56.000Z"));
    expect(parseTimestamp("2027-02-28t12:34:56z")).toBe(ms("2027-02-28T12:34:56.000Z"));
    expect(parseTimestamp("2027-02-28T12:34:56+01:30")).toBe(ms("2027-02-28T11:04:56.000Z"));
    expect(parseTimestamp("2027-02-28T12:34:56-00:00")).toBe(ms("2027-02-28T12:34:56.000Z"));
    expect(parseTimestamp("2027-01-01T00:30:00+23:59")).toBe(ms("2026-12-31T00:31:00.000Z"));
    expect(parseTimestamp("2027-12-31T23:59:59-23:59")).toBe(ms("2028-01-01T23:58:59.000Z"));
    expect(parseTimestamp("1970-01-01T00:00:00Z")).toBe(0);
    expect(parseTimestamp("1969-12-31T23:59:59.999Z")).toBe(-1);
  });

  test("the last day of every month, and February 29th of leap years only", () => {
    for (const [year, month, days] of [
      [2027, 1, 31],
      [2027, 2, 28],
      [2028, 2, 29],
      [2000, 2, 29],
      [1900, 2, 28],
      [2100, 2, 28],
      [2400, 2, 29],
      [2027, 3, 31],
      [2027, 4, 30],
      [2027, 5, 31],
      [2027, 6, 30],
      [2027, 7, 31],
      [2027, 8, 31],
      [2027, 9, 30],
      [2027, 10, 31],
      [2027, 11, 30],
      [2027, 12, 31],
    ] as const) {
      expect(daysInMonth(year, month)).toBe(days);
      const mm = String(month).padStart(2, "0");
      expect(parseTimestamp(`${year}-${mm}-${days}T00:00:00Z`)).toBe(ms(`${year}-${mm}-${days}T00:00:00.000Z`));
      expect(parseTimestamp(`${year}-${mm}-${days + 1}T00:00:00Z`)).toBeUndefined();
    }
  });

  test("years before 100 are not read as 19xx", () => {
    expect(parseTimestamp("0000-01-01T00:00:00Z")).toBe(-62_167_219_200_000);
    expect(parseTimestamp("0099-12-31T23:59:59Z")).toBe(-59_011_459_201_000);
    expect(parseTimestamp("9999-12-31T23:59:59Z")).toBe(253_402_300_799_000);
  });

  test("impossible dates and times are refused, never rolled over", () => {
    for (const text of [
      "2027-02-30T00:00:00Z",
      "2027-02-29T00:00:00Z",
      "2100-02-29T00:00:00Z",
      "2027-04-31T00:00:00Z",
      "2027-06-31T00:00:00Z",
      "2027-09-31T00:00:00Z",
      "2027-11-31T00:00:00Z",
      "2027-01-32T00:00:00Z",
      "2027-00-10T00:00:00Z",
      "2027-13-01T00:00:00Z",
      "2027-01-00T00:00:00Z",
      "2027-01-01T24:00:00Z",
      "2027-01-01T23:60:00Z",
      "2027-01-01T23:59:60Z",
      "2027-01-01T00:00:00+24:00",
      "2027-01-01T00:00:00+23:60",
      "2027-01-01T00:00:00-99:00",
    ]) {
      expect([text, parseTimestamp(text)]).toEqual([text, undefined]);
    }
  });

  test("text that is not an RFC 3339 date-time is refused", () => {
    for (const text of [
      "",
      "soon",
      "2027-01-01",
      "2027-01-01T00:00:00",
      "2027-01-01 00:00:00Z",
      "2027-01-01T00:00Z",
      "2027-1-01T00:00:00Z",
      "27-01-01T00:00:00Z",
      "+2027-01-01T00:00:00Z",
      "2027-01-01T00:00:00.Z",
      "2027-01-01T00:00:00,5Z",
      "2027-01-01T00:00:00+0100",
      "2027-01-01T00:00:00+01",
      "2027-01-01T00:00:00UTC",
      "2027-01-01T00:00:00Z ",
      " 2027-01-01T00:00:00Z",
      "2027-01-01T00:00:00Z\n",
      "２０２７-01-01T00:00:00Z",
      "2027-01-01T00:00:00.١Z",
    ]) {
      expect([text, parseTimestamp(text)]).toEqual([text, undefined]);
    }
  });

  test("any number of fraction digits; past the millisecond they are cut off", () => {
    expect(parseTimestamp("2027-01-01T00:00:00.5Z")).toBe(ms("2027-01-01T00:00:00.500Z"));
    expect(parseTimestamp("2027-01-01T00:00:00.123456Z")).toBe(ms("2027-01-01T00:00:00.123Z"));
    expect(parseTimestamp("2027-01-01T00:00:00.1234567891Z")).toBe(ms("2027-01-01T00:00:00.123Z"));
    expect(parseTimestamp(`2027-01-01T00:00:00.${"9".repeat(40)}Z`)).toBe(ms("2027-01-01T00:00:00.999Z"));
    expect(parseTimestamp("1969-12-31T23:59:59.9999Z")).toBe(-1);
  });
});

describe("expiryParams", () => {
  const now = Date.parse("2027-01-01T00:00:00Z");
  const messageOf = (fn: () => unknown) => {
    try {
      fn();
      return "ok";
    } catch (error) {
      return `${(error as AppError).code}: ${(error as AppError).message}`;
    }
  };

  test("an impossible expiresAt is a 400 naming the field", () => {
    for (const expiresAt of ["2027-02-30T00:00:00Z", "2027-04-31T00:00:00Z", "2027-01-01T23:59:60Z"]) {
      const message = messageOf(() => expiryParams({ expiresAt }, now));
      expect(message).toStartWith("INVALID_REQUEST: expiresAt");
    }
  });

  test("ten fraction digits are accepted and kept to the millisecond", () => {
    expect(expiryParams({ expiresAt: "2027-03-01T10:00:00.1234567891Z" }, now)).toEqual([
      null,
      "2027-03-01T10:00:00.123Z",
    ]);
    expect(expiryParams({ expiresAt: "2027-03-01t11:00:00.9999999999+01:00" }, now)).toEqual([
      null,
      "2027-03-01T10:00:00.999Z",
    ]);
  });
});
