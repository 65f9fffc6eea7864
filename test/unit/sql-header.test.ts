// How a SQL header's "returns:" line is read as columns (test/helpers/sql-header.ts), which
// sql-headers.test.ts holds against what PostgreSQL describes.
import { expect, test } from "bun:test";
import { returnedColumns } from "../helpers/sql-header.ts";

const file = (...header: string[]) => [...header, "select 1"].join("\n");

test("the columns after the last colon outside parentheses, notes dropped, continuation lines joined", () => {
  expect(
    returnedColumns(
      file(
        "-- name: a.b",
        "-- returns: one row per change, in order (oldest: first): revision, value (text, null: none),",
        "--   kind",
        "-- $1 install_id",
      ),
    ),
  ).toEqual(["revision", "value", "kind"]);
  expect(returnedColumns(file("-- name: a.b", "-- returns: nothing", "-- $1 x"))).toEqual([]);
});

test("a line that names no columns, a group or prose among them, or no line at all, is refused", () => {
  expect(() => returnedColumns(file("-- returns: one row per applied version"))).toThrow("names no columns");
  expect(() => returnedColumns(file("-- returns: one row: expired_pending, and the record columns"))).toThrow(
    '"and the record columns" is not a column name',
  );
  expect(() => returnedColumns(file("-- returns: one row: a, b; none when absent"))).toThrow("is not a column name");
  expect(() => returnedColumns(file("-- name: a.b"))).toThrow("no returns: line");
});
