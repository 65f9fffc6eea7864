import { expect, test } from "bun:test";
import { migrationVersions } from "../../src/db/migrate.ts";
import { loadMigrations, parseMigration, splitStatements } from "../../src/db/migration-file.ts";

test("statements split at top-level semicolons only", () => {
  const sql = `
    -- a comment; with a semicolon
    create table a (x text default 'semi;colon', "we;ird" int);
    /* block; /* nested; */ still comment; */
    do $$ begin perform 1; perform 2; end $$;
    do $body$ begin raise notice 'it''s; $$ fine'; end $body$;
    select 'it''s';
    -- trailing comment only
  `;
  expect(splitStatements(sql)).toEqual([
    `-- a comment; with a semicolon
    create table a (x text default 'semi;colon', "we;ird" int)`,
    `/* block; /* nested; */ still comment; */
    do $$ begin perform 1; perform 2; end $$`,
    `do $body$ begin raise notice 'it''s; $$ fine'; end $body$`,
    `select 'it''s'`,
  ]);
});

test("unterminated quotes are refused rather than guessed", () => {
  expect(() => splitStatements("select 'oops")).toThrow("unterminated string");
  expect(() => splitStatements("do $$ begin")).toThrow("unterminated dollar quote");
});

test("a dbmate file has an up and a down section; transaction:false is honoured", () => {
  const m = parseMigration(
    "20990101000000_x.sql",
    "-- migrate:up transaction:false\ncreate index concurrently i on t (x);\n\n-- migrate:down\ndrop index i;\n",
  );
  expect(m.version).toBe("20990101000000");
  expect(m.up.transaction).toBe(false);
  expect(m.down.transaction).toBe(true);
  expect(splitStatements(m.up.sql)).toEqual(["create index concurrently i on t (x)"]);
  expect(splitStatements(m.down.sql)).toEqual(["drop index i"]);
  expect(() => parseMigration("x.sql", "-- migrate:up\n")).toThrow("version");
  expect(() => parseMigration("1_x.sql", "select 1;")).toThrow("no -- migrate:up");
});

test("the project's migrations parse, in version order, into whole statements", () => {
  const migrations = loadMigrations();
  expect(migrations.map((m) => m.version)).toEqual(migrationVersions());
  for (const m of migrations) {
    for (const statement of [...splitStatements(m.up.sql), ...splitStatements(m.down.sql)]) {
      // every DO block is kept whole
      expect(statement.split("$$").length % 2).toBe(1);
    }
  }
});
