// Renders docs/client-api.md, the client's API reference, from the doc comments of what the
// package exports: each class with its documented members (their signatures as written), each
// type with its text. test/unit/client-package.test.ts fails when the file and the code differ.
//
//   bun run client:docs            rewrite docs/client-api.md
//   bun run client:docs --check    compare only
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "../../../src/cli/args.ts";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
export const API_FILE = fileURLToPath(new URL("../../../docs/client-api.md", import.meta.url));
/** The files in the order the reference presents them. */
const FILES = ["client.ts", "namespace.ts", "atomic.ts", "errors.ts", "transport.ts", "types.ts"];

type Member = { signatures: string[]; doc: string };
type Entry = { kind: "class" | "type"; name: string; doc: string; text?: string; members: Member[] };

const read = (file: string) => readFileSync(`${SRC}${file}`, "utf8");

/** The names index.ts exports (every export of types.ts included). */
function publicNames(): Set<string> {
  const index = read("index.ts");
  const names = new Set<string>();
  for (const m of index.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const part of (m[1] as string).split(",")) names.add(part.replace(/\btype\b/, "").trim());
  }
  for (const m of read("types.ts").matchAll(/^export type (\w+)/gm)) names.add(m[1] as string);
  return names;
}

const cleanDoc = (lines: string[]) =>
  lines
    .map((line) =>
      line
        .trim()
        .replace(/^\/\*\*\s?/, "")
        .replace(/\s*\*\/$/, "")
        .replace(/^\*\s?/, ""),
    )
    .join("\n")
    .replace(/\{@link (\w+)\}/g, "`$1`")
    .trim();

const indentOf = (line: string) => line.length - line.trimStart().length;

/** The doc comment that ends on the line above `line` ("" when none). */
function docAbove(lines: string[], line: number): string {
  if (!(lines[line - 1] ?? "").trimEnd().endsWith("*/")) return "";
  let start = line - 1;
  while (!(lines[start] as string).trimStart().startsWith("/**")) start--;
  return cleanDoc(lines.slice(start, line));
}

function entriesOf(file: string, names: Set<string>): Entry[] {
  const lines = read(file).split("\n");
  const entries: Entry[] = [];
  let current: Entry | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const klass = /^export class (\w+)/.exec(line);
    const type = /^export type (\w+)/.exec(line);
    if (klass && names.has(klass[1] as string)) {
      current = { kind: "class", name: klass[1] as string, doc: docAbove(lines, i), members: [] };
      entries.push(current);
      continue;
    }
    if (type && names.has(type[1] as string)) {
      // the type ends at the first line ending in ";" outside any brackets
      let end = i;
      for (let depth = 0; ; end++) {
        const text = lines[end] as string;
        depth += (text.match(/[{([]/g)?.length ?? 0) - (text.match(/[})\]]/g)?.length ?? 0);
        if (depth === 0 && text.trimEnd().endsWith(";")) break;
      }
      entries.push({
        kind: "type",
        name: type[1] as string,
        doc: docAbove(lines, i),
        text: lines.slice(i, end + 1).join("\n"),
        members: [],
      });
      i = end;
      continue;
    }
    if (line === "}") current = undefined;
    // a class member with a doc comment: its signature up to its body's brace or its
    // semicolon, then any overloads that follow it
    const doc = docAbove(lines, i);
    if (current === undefined || doc === "" || indentOf(line) !== 2 || /^\s*(readonly )?#/.test(line)) continue;
    let end = i;
    while (!/[{;]$/.test((lines[end] as string).trimEnd())) end++;
    const signature = (first: number, last: number) =>
      lines
        .slice(first, last + 1)
        .map((l) => l.trim())
        .join(" ")
        .replace(/\(\s+/g, "(")
        .replace(/,\s*\)/g, ")")
        .replace(/\s*\{$/, "")
        .replace(/;$/, "")
        .replace(/^async /, "");
    const member: Member = { signatures: [signature(i, end)], doc };
    const name = /^\s*(?:readonly |async )?(\w+)/.exec(line)?.[1];
    while ((lines[end + 1] ?? "").startsWith(`  ${name}(`) && (lines[end + 1] as string).trimEnd().endsWith(";")) {
      end++;
      member.signatures.push(signature(end, end));
    }
    current.members.push(member);
    i = end;
  }
  return entries;
}

export function renderApi(): string {
  const names = publicNames();
  const out = [
    "# @ext-storage/client: API reference",
    "",
    "Generated from the package's doc comments by `bun run client:docs`: do not edit. The guide,",
    "with worked examples, is [client.md](client.md). `Wire.X` names the contract's own shapes, generated",
    "from the service's TypeBox schemas into",
    "[packages/client/src/contract.ts](../packages/client/src/contract.ts) and exported as the",
    "type namespace `Wire`.",
    "",
  ];
  for (const file of FILES) {
    for (const entry of entriesOf(file, names)) {
      out.push(`## ${entry.kind === "class" ? "class " : "type "}${entry.name}`, "");
      if (entry.doc !== "") out.push(entry.doc, "");
      if (entry.text !== undefined) out.push("```ts", entry.text, "```", "");
      for (const member of entry.members) {
        out.push(`### ${member.signatures.map((s) => `\`${s}\``).join("<br>")}`, "");
        if (member.doc !== "") out.push(member.doc, "");
      }
    }
  }
  return `${out.join("\n").trimEnd().replace(/\bC\./g, "Wire.")}\n`;
}

const USAGE = `bun run client:docs [--check]

Writes docs/client-api.md, the client's API reference, from the package's doc comments.
  --check   only compare: exit 1 when the file differs from what the code gives`;

if (import.meta.main) {
  const { values } = parseCommandLine(USAGE, { check: { type: "boolean" } });
  const text = renderApi();
  if (values.check) {
    const same = readFileSync(API_FILE, "utf8") === text;
    console.log(same ? "docs/client-api.md is up to date" : "docs/client-api.md differs: run bun run client:docs");
    process.exit(same ? 0 : 1);
  }
  writeFileSync(API_FILE, text);
  console.log(`wrote ${API_FILE}`);
}
