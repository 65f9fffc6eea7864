// The worked examples of docs/client.md run as written against the real server: each ```ts
// block that shows its output (`// → …`) is run by Bun with a client named `storage` for a
// fresh install, and prints exactly what its comments say. A block that needs a route the
// server does not have yet (atomic) is skipped, saying so.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientFor, whenRoute } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const FILE = "client-docs.test.ts";
const ROOT = new URL("../../", import.meta.url).pathname;
const CLIENT = `${ROOT}packages/client/src/index.ts`;
const GUIDE = readFileSync(`${ROOT}docs/client.md`, "utf8");

const server: TestServer = await startServer();
const hasAtomic = await whenRoute(server.url, "POST", "/v1/atomic", FILE);
const dir = mkdtempSync(join(tmpdir(), "ext-storage-docs-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server.close();
});

/** The guide's runnable blocks: the heading above each, its code, and the output it shows. */
const examples = [...GUIDE.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => ({
    code: m[1] as string,
    heading: /## ([^\n]+)\n(?![\s\S]*\n## )/.exec(GUIDE.slice(0, m.index))?.[1] ?? "",
  }))
  .filter((block) => block.code.includes("// → "))
  .map((block) => ({ ...block, expected: [...block.code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1] as string) }));

test("the guide has its worked examples", () => {
  expect(examples.map((e) => e.heading)).toEqual([
    "Worked example: optimistic concurrency with `ifRevision`",
    "Worked example: an atomic counter",
  ]);
});

for (const [i, example] of examples.entries()) {
  const needsAtomic = example.code.includes(".atomic()");
  test.skipIf(needsAtomic && !hasAtomic)(
    `docs/client.md, "${example.heading}", prints what it says`,
    async () => {
      const { token } = await clientFor(server.url, {}, "docs");
      const script = [
        `import { StorageClient as ClientOfTheGuide } from ${JSON.stringify(CLIENT)};`,
        "const storage = new ClientOfTheGuide({ baseUrl: process.env.BASE_URL as string, token: process.env.TOKEN as string });",
        example.code.replaceAll('"@ext-storage/client"', JSON.stringify(CLIENT)),
      ].join("\n");
      const file = join(dir, `example-${i}.ts`);
      writeFileSync(file, script);
      const proc = Bun.spawn([process.execPath, file], {
        env: { ...process.env, BASE_URL: server.url, TOKEN: token },
        stdout: "pipe",
        stderr: "pipe",
      });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      clearTimeout(timer);
      expect(`exit ${code} ${stderr}`).toBe("exit 0 ");
      expect(stdout.trimEnd().split("\n")).toEqual(example.expected);
    },
    40_000,
  );
}
