// The layers import forwards only: http → records → db; ops (operator tooling) beside the
// request path; the contract imported by everyone and importing nothing of the server.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = new URL("../../src/", import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Each src file's imports of other src files (as paths under src/), and of packages. */
function importsOf(file: string) {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/^(?:import|export)[^"';]*?from\s+"([^"]+)"|^import\s+"([^"]+)"/gm)].map(
    (m) => (m[1] ?? m[2]) as string,
  );
  return {
    local: specifiers.filter((s) => s.startsWith(".")).map((s) => relative(SRC, resolve(dirname(file), s))),
    packages: specifiers.filter((s) => !s.startsWith(".")),
  };
}

const layerOf = (path: string) => (path.includes("/") ? (path.split("/")[0] as string) : "root");

// what each folder may not import
const FORBIDDEN: Record<string, string[]> = {
  contract: ["root", "http", "records", "db", "ops", "cli"],
  db: ["http", "records", "ops", "cli"],
  records: ["http", "ops", "cli"],
  ops: ["http", "records", "cli"],
  http: ["ops", "cli"],
};

test("no folder imports backwards", () => {
  const backwards: string[] = [];
  for (const file of filesUnder(SRC)) {
    const from = relative(SRC, file);
    const forbidden = FORBIDDEN[layerOf(from)] ?? [];
    for (const target of importsOf(file).local) {
      if (forbidden.includes(layerOf(target))) backwards.push(`${from} → ${target}`);
    }
  }
  expect(backwards).toEqual([]);
});

test("the contract imports nothing but TypeBox", () => {
  const packages = filesUnder(join(SRC, "contract")).flatMap((file) => importsOf(file).packages);
  expect(packages.filter((p) => !p.startsWith("@sinclair/typebox"))).toEqual([]);
  expect(packages.length).toBeGreaterThan(0); // the parser still sees imports
});
