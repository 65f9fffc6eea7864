// A dbmate migration file read the way dbmate reads it (`-- migrate:up` and
// `-- migrate:down` sections, `transaction:false` honoured), and split into single
// statements so a careful run can time and bound each one on its own.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { MIGRATIONS_DIR, migrationVersions } from "../db/migrate.ts";

export type Section = { sql: string; transaction: boolean };
export type Migration = { version: string; file: string; up: Section; down: Section };

const MARKER = /^--\s*migrate:(up|down)\b(.*)$/gm;

export function parseMigration(file: string, text: string): Migration {
  const version = /^(\d+)_/.exec(basename(file))?.[1];
  if (version === undefined) throw new Error(`${file}: the name must start with a version number`);
  const marks = [...text.matchAll(MARKER)];
  const sections: Partial<Record<"up" | "down", Section>> = {};
  marks.forEach((mark, i) => {
    const direction = mark[1] as "up" | "down";
    const start = (mark.index ?? 0) + mark[0].length;
    const end = marks[i + 1]?.index ?? text.length;
    if (sections[direction] !== undefined) throw new Error(`${file}: two migrate:${direction} sections`);
    sections[direction] = { sql: text.slice(start, end), transaction: !/transaction:false/.test(mark[2] ?? "") };
  });
  if (sections.up === undefined) throw new Error(`${file}: no -- migrate:up section`);
  return { version, file, up: sections.up, down: sections.down ?? { sql: "", transaction: true } };
}

/** Every migration of the folder, oldest first. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const versions = new Set(migrationVersions(dir));
  return readdirSync(dir)
    .filter((file) => versions.has(/^(\d+)_/.exec(file)?.[1] ?? ""))
    .sort()
    .map((file) => parseMigration(file, readFileSync(join(dir, file), "utf8")));
}

/**
 * Splits SQL text into statements at top-level semicolons: not inside string literals
 * (standard `'…'` with doubled quotes, escape strings `E'…\'…'`), quoted identifiers,
 * dollar-quoted bodies (`$$…$$`, `$tag$…$tag$`: DO blocks, functions) or comments (`--`,
 * nested block comments). Statements that are only comments or blanks are dropped.
 * Follows PostgreSQL's lexical rules (docs: "SQL Syntax > Lexical Structure").
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (stripComments(text).trim() !== "") statements.push(text);
    start = end + 1;
  };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === "/" && next === "*") {
      i = skipBlockComment(sql, i);
    } else if (c === "'" || c === '"') {
      i = skipQuoted(sql, i, c, c === "'" && isEscapeStringPrefix(sql, i));
    } else if (c === "$" && !(i > 0 && IDENTIFIER_CHAR.test(sql[i - 1] as string))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
      if (tag === undefined) {
        i++;
      } else {
        const close = sql.indexOf(tag, i + tag.length);
        if (close === -1) throw new Error(`unterminated dollar quote ${tag}`);
        i = close + tag.length;
      }
    } else if (c === ";") {
      push(i);
      i++;
    } else {
      i++;
    }
  }
  push(n);
  return statements;
}

// A "$" after an identifier character belongs to the identifier (PostgreSQL allows "$" in
// identifiers after the first character: "a$b$"), so it opens no dollar quote.
const IDENTIFIER_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/** An `E'…'` / `e'…'` escape string, where a backslash escapes the next character
 * (`E'it\'s'`): the E must stand alone, not end an identifier such as `type'…'`. */
function isEscapeStringPrefix(sql: string, quoteAt: number): boolean {
  const prev = sql[quoteAt - 1];
  if (prev !== "E" && prev !== "e") return false;
  return quoteAt < 2 || !IDENTIFIER_CHAR.test(sql[quoteAt - 2] as string);
}

function skipQuoted(sql: string, from: number, quote: string, backslashEscapes = false): number {
  let i = from + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === "\\") {
      i += 2;
    } else if (sql[i] === quote) {
      if (sql[i + 1] === quote)
        i += 2; // a doubled quote is an escaped one
      else return i + 1;
    } else {
      i++;
    }
  }
  throw new Error(`unterminated ${quote === "'" ? "string" : "quoted identifier"}`);
}

function skipBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === "/" && sql[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (sql[i] === "*" && sql[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  throw new Error("unterminated block comment");
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
}
