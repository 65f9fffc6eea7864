import "../helpers/test-database.ts";
// Each SQL file's header against its statement, as the database describes it (postgres.js
// describe(): parse only, nothing runs): every parameter the statement takes is named in the
// header ($1 …), no other is, and every result column is named in its "returns:" lines
// ("nothing" for a statement that returns none).
import { afterAll, expect, test } from "bun:test";
import postgres from "postgres";
import { loadQueries, QUERY_NAMES } from "../../src/db/sql.ts";

const sql = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
afterAll(() => sql.end({ timeout: 5 }));
const queries = loadQueries();

// Headers that name their result columns only as a group ("record columns"): to be spelled
// out in the files themselves; until then their columns are not checked, the rest is.
const COLUMNS_UNNAMED: ReadonlySet<string> = new Set([
  "records.bulk_get",
  "records.get_cleaning",
  "records.list",
  "records.list_cleaning",
]);

/** The comment lines a file opens with, without their `--`. */
function header(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("--")) break;
    lines.push(line.slice(2).trim());
  }
  return lines;
}

/** The text of the "returns:" line and the indented lines that continue it. */
function returnsText(lines: string[], raw: string): string {
  const rawLines = raw.split("\n");
  const start = lines.findIndex((line) => line.startsWith("returns:"));
  if (start < 0) return "";
  const out = [lines[start] as string];
  for (let i = start + 1; i < lines.length && (rawLines[i] as string).startsWith("--   "); i++) {
    out.push(lines[i] as string);
  }
  return out.join(" ");
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
    // the result columns, each named in "returns:"
    const returns = returnsText(lines, text);
    expect({ name, returns: returns !== "" }).toEqual({ name, returns: true });
    const columns = (described.columns ?? []).map((c) => c.name);
    if (/^returns: nothing/.test(returns)) expect({ name, columns }).toEqual({ name, columns: [] });
    const unnamed = columns.filter((column) => !new RegExp(`\\b${column}\\b`).test(returns));
    if (COLUMNS_UNNAMED.has(name))
      expect({ name, stillUnnamed: unnamed.length > 0 }).toEqual({ name, stillUnnamed: true });
    else expect({ name, unnamed }).toEqual({ name, unnamed: [] });
  });
}
