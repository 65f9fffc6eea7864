// The client runs beyond Bun: the same round trip (test/fixtures/client-smoke.mjs) under Deno,
// importing the TypeScript sources, and under Node 20+, importing the bundle that
// `bun run client:build` makes, each against the real server. Skipped, saying so, where
// the runtime is not installed (CI installs both). The bundle's declarations are checked as a
// TypeScript project that uses the package would check them.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildClient } from "../../packages/client/scripts/build.ts";
import { clientFor } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SMOKE = `${ROOT}test/fixtures/client-smoke.mjs`;
const DENO = Bun.which("deno");
const NODE = Bun.which("node");
const nodeMajor = NODE === null ? 0 : Number(/v(\d+)/.exec(Bun.spawnSync([NODE, "--version"]).stdout.toString())?.[1]);
if (DENO === null)
  process.stderr.write("client-runtimes.test.ts: deno is not installed, so its client test is skipped\n");
if (nodeMajor < 20) {
  process.stderr.write("client-runtimes.test.ts: node 20 or later is not installed, so its client test is skipped\n");
}

const server: TestServer = await startServer();
const dist = mkdtempSync(join(tmpdir(), "ext-storage-client-"));
afterAll(async () => {
  rmSync(dist, { recursive: true, force: true });
  await server.close();
});

async function run(command: string[]) {
  const proc = Bun.spawn(command, {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 45_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}:\n${stderr}\n${stdout}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

function expectRoundTrip(seen: Record<string, unknown>, runtime: string) {
  expect(seen).toEqual({
    runtime: expect.stringMatching(new RegExp(`^${runtime} `)),
    created: true,
    value: { runtime: seen.runtime },
    updatedAtIsDate: true,
    expiresInSeconds: expect.any(Number),
    stale: [412, "REVISION_MISMATCH", "string"],
    keys: ["user/1", "user/2", "user/3"],
    bulk: [[2], ["missing"]],
    deleted: true,
    absent: null,
    recordCount: 2,
  });
  expect(Math.abs((seen.expiresInSeconds as number) - 600)).toBeLessThan(30);
}

test.skipIf(DENO === null)(
  "under Deno, from the TypeScript sources",
  async () => {
    const { token } = await clientFor(server.url, {}, "deno-client");
    const seen = await run([
      DENO as string,
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      SMOKE,
      `${ROOT}packages/client/src/index.ts`,
      server.url,
      token,
    ]);
    expectRoundTrip(seen, "deno");
  },
  60_000,
);

test.skipIf(DENO === null)(
  "deno check accepts the package's types",
  async () => {
    const proc = Bun.spawnSync([DENO as string, "check", `${ROOT}packages/client/src/index.ts`], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(`${proc.exitCode} ${proc.stderr.toString()}`).toMatch(/^0 /);
  },
  60_000,
);

test.skipIf(nodeMajor < 20)(
  "under Node 20+, from the bundle",
  async () => {
    await buildClient(dist);
    const { token } = await clientFor(server.url, {}, "node-client");
    const seen = await run([NODE as string, SMOKE, join(dist, "index.js"), server.url, token]);
    expectRoundTrip(seen, "node");
  },
  60_000,
);

test("the built declarations serve a TypeScript project of Node's (NodeNext, no Bun types)", async () => {
  const project = mkdtempSync(join(tmpdir(), "ext-storage-consumer-"));
  try {
    await buildClient(project);
    writeFileSync(join(project, "package.json"), '{"type": "module"}');
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM", "DOM.AsyncIterable"],
          types: [],
          strict: true,
          noEmit: true,
        },
        files: ["consumer.ts"],
      }),
    );
    writeFileSync(
      join(project, "consumer.ts"),
      [
        'import { StorageClient, StorageError, type StoredRecord } from "./index.js";',
        'const client = new StorageClient({ baseUrl: "http://127.0.0.1:1", token: async () => "t" });',
        'const record: StoredRecord<{ a: number }> | null = await client.ns<{ a: number }>("n").get("k");',
        "export const a: number | undefined = record?.value.a;",
        "export const at: Date | undefined = record?.updatedAt;",
        "// @ts-expect-error values keep the caller's type",
        "export const wrong: string | undefined = record?.value.a;",
        'export const code = (e: StorageError) => (e.is("QUOTA_EXCEEDED") ? e.details?.kind : e.code);',
      ].join("\n"),
    );
    const tsc = Bun.spawnSync([`${ROOT}node_modules/.bin/tsc`, "-p", join(project, "tsconfig.json")], { cwd: project });
    expect(`${tsc.exitCode} ${tsc.stdout}${tsc.stderr}`).toBe("0 ");
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}, 60_000);
