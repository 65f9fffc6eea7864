// The driver patch is keyed to one postgres.js version: an update that the patch no longer
// matches would drop it silently, so the dependency is pinned and the patch checked applied.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

test("postgres.js is pinned to the version the patch is keyed to, and that version is installed", () => {
  const pkg = JSON.parse(read("package.json")) as {
    dependencies: Record<string, string>;
    patchedDependencies: Record<string, string>;
  };
  const keyed = Object.keys(pkg.patchedDependencies).find((k) => k.startsWith("postgres@"));
  expect(keyed).toBe(`postgres@${pkg.dependencies.postgres}`);
  const installed = JSON.parse(read("node_modules/postgres/package.json")) as { version: string };
  expect(`postgres@${installed.version}`).toBe(keyed as string);
});

test("both builds of the installed driver carry the patch (ESM for Bun and Deno, CommonJS)", () => {
  for (const build of ["src", "cjs/src"]) {
    const connection = read(`node_modules/postgres/${build}/connection.js`);
    expect(connection).toContain("if (socket === null) {");
    expect(connection.match(/chunk = nextWriteTimer = null/g)?.length).toBe(4);
    expect(connection).toContain(
      "waited for it to finish until its timeout, and the pool's end() with it.\n    query = null",
    );
    const index = read(`node_modules/postgres/${build}/index.js`);
    expect(index).toContain("closed = true, onclosed && onclosed(e)");
    // BEGIN and COMMIT pipelined with the transaction's statements
    expect(index).toContain("await Promise.race([taken, begun])");
    expect(index).toContain("sql.commit = () => committing ||");
    expect(index).toContain("return void (blocked = true)");
  }
});
