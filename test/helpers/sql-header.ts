// The "returns:" line of a SQL file's header, read as its columns. The line (with the
// indented "--   " lines that continue it) is either "returns: nothing" or "returns: <which
// rows>: <columns>", the columns being the statement's result columns in order, separated by
// commas, each a bare name, optionally followed by a note in parentheses:
//   -- returns: one row per change, in order: revision, namespace, value (text), expired
// The column list starts after the last ": " outside parentheses.

/** The header's "returns:" text, its continuation lines joined; undefined when there is none. */
export function returnsText(text: string): string | undefined {
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length && (lines[i] as string).startsWith("--") && !/^--\s*returns:/.test(lines[i] as string)) i++;
  if (i === lines.length || !(lines[i] as string).startsWith("--")) return undefined;
  const out = [(lines[i] as string).replace(/^--\s*returns:/, "").trim()];
  for (i++; i < lines.length && (lines[i] as string).startsWith("--   "); i++)
    out.push((lines[i] as string).slice(2).trim());
  return out.join(" ");
}

/** Splits at each `separator` outside parentheses. */
function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The columns the header says the statement returns ([] for "nothing"); throws, naming the
 * problem, for a header that has no "returns:" line or does not list its columns. */
export function returnedColumns(text: string): string[] {
  const returns = returnsText(text);
  if (returns === undefined) throw new Error("no returns: line");
  if (returns === "nothing") return [];
  const parts = splitOutside(returns, ": ");
  if (parts.length < 2) throw new Error(`returns: names no columns after "<which rows>: " (${returns})`);
  return splitOutside(parts.at(-1) as string, ",").map((item) => {
    const column = /^\s*([a-z_][a-z0-9_]*)(\s*\([^()]*\))?\s*$/.exec(item)?.[1];
    if (column === undefined) throw new Error(`returns: "${item.trim()}" is not a column name (${returns})`);
    return column;
  });
}
