// What the container image relies on, checked without a Docker engine: its HEALTHCHECK
// command, and that everything the Dockerfile copies and runs exists.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { freePort } from "../helpers/postgres.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const healthcheck = async (port: string) => {
  const proc = Bun.spawn(["bun", "src/cli/healthcheck.ts"], { cwd: ROOT, env: { ...process.env, PORT: port } });
  return proc.exited;
};

test("the HEALTHCHECK command passes against a live server and fails when nothing listens", async () => {
  expect(await healthcheck(new URL(server.url).port)).toBe(0);
  expect(await healthcheck(String(await freePort()))).toBe(1);
});

test("the Dockerfile copies and runs files that exist, as a non-root user", () => {
  const dockerfile = readFileSync(`${ROOT}Dockerfile`, "utf8");
  for (const [, path] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm))
    expect(existsSync(`${ROOT}${path}`)).toBe(true);
  for (const [, args] of dockerfile.matchAll(/^(?:CMD|HEALTHCHECK .*CMD) (\[.*\])$/gm)) {
    const [, script] = JSON.parse(args as string) as string[];
    expect(existsSync(`${ROOT}${script}`)).toBe(true);
  }
  expect(dockerfile).toMatch(/^USER bun$/m);
  expect(dockerfile).toContain("--production");
});
