// The SQL loader: statements and the fragments they include.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadQueries, statementText } from "../../src/db/sql.ts";

test("the read cleanup is written once and sent inside both cleaning reads", () => {
  const queries = loadQueries();
  for (const name of ["records.get_cleaning", "records.list_cleaning"] as const) {
    expect(queries[name]).not.toMatch(/^-- include:/m);
    expect(queries[name]).toContain("last_revision = last_revision + cleaned.n");
  }
});

test("an include names a fragment that exists, by its path", () => {
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-sql-"));
  try {
    mkdirSync(join(dir, "a"));
    writeFileSync(join(dir, "a/part.sql"), "-- fragment: a.part\nx as (select 1)\n");
    writeFileSync(join(dir, "a/one.sql"), "-- name: a.one\nwith\n-- include: a.part\nselect * from x\n");
    writeFileSync(join(dir, "a/two.sql"), "-- name: a.two\nwith\n-- include: a.other\nselect 1\n");
    expect(statementText(dir, "a/one.sql")).toBe(
      "-- name: a.one\nwith\n-- fragment: a.part\nx as (select 1)\nselect * from x\n",
    );
    expect(() => statementText(dir, "a/two.sql")).toThrow("unknown fragment a.other");
    writeFileSync(join(dir, "a/wrong.sql"), "-- fragment: a.elsewhere\ny as (select 1)\n");
    expect(() => statementText(dir, "a/one.sql")).toThrow('its path says "a.wrong"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
