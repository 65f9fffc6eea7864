// The client package keeps its promises: its wire types are the contract's (generated from
// src/contract, never edited by hand), it has no dependencies, it imports nothing outside
// itself, and it stays within its size target.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { CONTRACT_FILE, renderContract } from "../../packages/client/scripts/contract.ts";
import { API_FILE, renderApi } from "../../packages/client/scripts/docs.ts";
import { clientSize, TARGET_BYTES } from "../../packages/client/scripts/size.ts";

const PACKAGE = new URL("../../packages/client/", import.meta.url).pathname;
const sources = readdirSync(`${PACKAGE}src`).filter((file) => file.endsWith(".ts"));

test("packages/client/src/contract.ts is what src/contract generates (bun run client:contract)", () => {
  expect(readFileSync(CONTRACT_FILE, "utf8")).toBe(renderContract());
});

test("docs/client-api.md is what the doc comments give (bun run client:docs)", () => {
  expect(readFileSync(API_FILE, "utf8")).toBe(renderApi());
});

test("the package has no dependencies of any kind", () => {
  const manifest = JSON.parse(readFileSync(`${PACKAGE}package.json`, "utf8"));
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "devDependencies"]) {
    expect(`${field}: ${JSON.stringify(manifest[field])}`).toBe(`${field}: undefined`);
  }
  expect(manifest.sideEffects).toBe(false);
  expect(manifest.type).toBe("module");
});

test("its sources import only each other, and the generated types as types only", () => {
  const outside: string[] = [];
  for (const file of sources) {
    const text = readFileSync(`${PACKAGE}src/${file}`, "utf8");
    for (const m of text.matchAll(/^(import|export)(\s+type)?[^"';]*?from\s+"([^"]+)"/gm)) {
      const [, , typeOnly, specifier] = m as unknown as [string, string, string | undefined, string];
      if (!/^\.\/[a-z-]+\.ts$/.test(specifier)) outside.push(`${file} → ${specifier}`);
      if (specifier === "./contract.ts" && typeOnly === undefined) outside.push(`${file} → contract.ts at run time`);
    }
  }
  expect(sources.length).toBeGreaterThan(5);
  expect(outside).toEqual([]);
});

test("min+gzip size stays within the target", async () => {
  const { gzipped } = await clientSize();
  expect(gzipped).toBeLessThanOrEqual(TARGET_BYTES);
});
