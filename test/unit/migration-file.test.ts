import { expect, test } from "bun:test";
import { migrationVersions } from "../../src/db/migrate.ts";
import { loadMigrations, parseMigration, splitStatements } from "../../src/ops/migration-file.ts";

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

// The lexical cases a migration may use, each with the statements it must split into.
const CORPUS: [string, string, string[]][] = [
  ["escape string with an escaped quote", "select E'it\\'s; fine'; select 2", ["select E'it\\'s; fine'", "select 2"]],
  ["lower-case escape string", "select e'a\\\\'; select 2", ["select e'a\\\\'", "select 2"]],
  ["escape string with a doubled quote", "select E'a''b;c'; select 2", ["select E'a''b;c'", "select 2"]],
  ["a word ending in e before a standard string", "select type'x\\'; select 2", ["select type'x\\'", "select 2"]],
  ["standard string: a backslash is a plain character", "select 'a\\'; select 2", ["select 'a\\'", "select 2"]],
  [
    "quoted identifier with a doubled quote",
    'create table "a"";b" (x int); select 2',
    ['create table "a"";b" (x int)', "select 2"],
  ],
  [
    "tagged dollar quote holding $$",
    "do $f$ begin perform '$$;'; end $f$; select 2",
    ["do $f$ begin perform '$$;'; end $f$", "select 2"],
  ],
  ["a $ inside an identifier opens no quote", "select 1 as a$b$; select 2", ["select 1 as a$b$", "select 2"]],
  ["positional parameters are not dollar quotes", "select $1; select $2", ["select $1", "select $2"]],
  ["a line comment holding a quote", "select 1; -- it's\nselect 2", ["select 1", "-- it's\nselect 2"]],
  ["a block comment holding a quote", "select 1 /* it's; */; select 2", ["select 1 /* it's; */", "select 2"]],
];

for (const [name, sql, statements] of CORPUS) {
  test(`splitStatements: ${name}`, () => {
    expect(splitStatements(sql)).toEqual(statements);
  });
}
