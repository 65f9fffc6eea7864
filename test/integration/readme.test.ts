// README.md is checked against the code: its configuration table against the variables
// src/config.ts reads, its API table against the routes of the OpenAPI document, and its
// curl walk-through is run, as pasted, against a real server (twice: it must not depend on
// a fresh install).
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { runIn } from "../helpers/databases.ts";
import { TEST_SECRET } from "../helpers/server.ts";
import { type Service, startService } from "../helpers/service.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = readFileSync(`${ROOT}README.md`, "utf8");

/** The text of a `## name` section, up to the next `## `. */
function section(name: string): string {
  const start = README.indexOf(`\n## ${name}\n`);
  if (start === -1) throw new Error(`README.md has no "## ${name}" section`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** First cells of the markdown table rows of a section (header and rule left out). */
const firstCells = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|\s*-/.test(line))
    .map((line) => line.split("|")[1]?.trim() ?? "")
    .slice(1);

test("the configuration table lists exactly the variables src/config.ts reads", () => {
  const source = readFileSync(`${ROOT}src/config.ts`, "utf8");
  const read = new Set<string>();
  // env.NAME, env["NAME"], and helpers called as int(env, "NAME", …)
  for (const m of source.matchAll(
    /\benv(?:\.([A-Z][A-Z0-9_]+)|\[\s*"([A-Z][A-Z0-9_]+)"\s*\]|,\s*"([A-Z][A-Z0-9_]+)")/g,
  )) {
    read.add((m[1] ?? m[2] ?? m[3]) as string);
  }
  expect(read.size).toBeGreaterThan(10); // the parser still understands config.ts
  const documented = firstCells(section("Configuration")).map((cell) => cell.replace(/`/g, ""));
  expect(documented.length).toBe(new Set(documented).size); // no row twice
  expect([...documented].sort()).toEqual([...read].sort());
});

let service: Service;
beforeAll(async () => {
  service = await startService(process.env.DATABASE_URL as string);
});
afterAll(() => service.kill());

test("the API table lists exactly the OpenAPI document's routes, and the document itself", async () => {
  const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, object> };
  const served = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
  );
  served.push("GET /openapi.json");
  const documented = firstCells(section("API")).flatMap((cell) =>
    [...cell.matchAll(/`([A-Z]+) (\/[^`?\s]*)[^`]*`/g)].map((m) => `${m[1]} ${m[2]}`),
  );
  expect(documented.length).toBe(new Set(documented).size);
  expect([...documented].sort()).toEqual([...served].sort());
});

test("the curl walk-through runs as pasted, every request succeeding, twice in a row", async () => {
  const block = /```sh\n(TOKEN=\$\(bun run[\s\S]*?)```/.exec(section("API"))?.[1];
  if (block === undefined) throw new Error("README.md's API section has no walk-through starting with TOKEN=$(bun run");
  // every request checks its status: curl -f (or --fail) fails the script on a 4xx or 5xx
  const commands = block.replace(/\\\n/g, " ").split("\n");
  const curls = commands.filter((line) => !line.trimStart().startsWith("#") && /\bcurl /.test(line));
  expect(curls.length).toBeGreaterThan(5);
  for (const line of curls) expect(line).toMatch(/\bcurl (?:-[a-zA-Z]*f[a-zA-Z]* |.*--fail )/);
  expect(block).not.toContain('if-match: "1"');

  const script = `set -euo pipefail\n${block.replaceAll("http://127.0.0.1:3000", service.url)}`;
  for (const round of [1, 2]) {
    const { code, stdout, stderr } = await runIn(["bash", "-c", script], { STORAGE_JWT_SECRET: TEST_SECRET });
    if (code !== 0) throw new Error(`round ${round}: exit ${code}\n${stderr}\n${stdout}`);
    expect(stdout).toContain('"key":"theme"');
    expect(stdout).toContain('"recordCount"');
  }
}, 60_000);
