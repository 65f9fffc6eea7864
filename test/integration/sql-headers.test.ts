import "../helpers/test-database.ts";
// Each SQL file's header against its statement, as the database describes it (postgres.js
// describe(): parse only, nothing runs): every parameter the statement takes is named in the
// header ($1 …), no other is, and the "returns:" line ends with the exact result columns, in
// the statement's order ("returns: nothing" for a statement that returns none).
import { afterAll, expect, test } from "bun:test";
import postgres from "postgres";
import { loadQueries, QUERY_NAMES } from "../../src/db/sql.ts";
import { returnedColumns } from "../helpers/sql-header.ts";

const sql = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
afterAll(() => sql.end({ timeout: 5 }));
const queries = loadQueries();

/** The comment lines a file opens with, without their `--`. */
function header(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("--")) break;
    lines.push(line.slice(2).trim());
  }
  return lines;
}

for (const name of QUERY_NAMES) {
  test(name, async () => {
    const text = queries[name];
    const lines = header(text);
    const described = await sql.unsafe(text).describe();
    // the parameters: $1 … $n, each named in the header, none beyond
    const named = new Set([...lines.join("\n").matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const taken = described.types.map((_, i) => i + 1);
    expect({ name, parameters: [...named].sort((a, b) => a - b) }).toEqual({ name, parameters: taken });
    // the result columns, exactly as "returns:" lists them
    const columns = (described.columns ?? []).map((c) => c.name);
    expect({ name, returns: returnedColumns(text) }).toEqual({ name, returns: columns });
  });
}
