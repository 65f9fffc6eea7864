// What the container image relies on, checked without a Docker engine: its HEALTHCHECK
// command, that everything the Dockerfile copies and runs exists, that its production
// install leaves development packages out, and the stop timeouts its docs give.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

test("the image's production install holds no TypeScript or type packages", async () => {
  // the deps stage's install, run as the Dockerfile runs it, in a folder of its own
  const dockerfile = readFileSync(`${ROOT}Dockerfile`, "utf8");
  const install = /^RUN (bun install .*--production.*)$/m.exec(dockerfile)?.[1];
  if (install === undefined) throw new Error("no `RUN bun install … --production` in the Dockerfile");
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-prod-install-"));
  try {
    for (const file of ["package.json", "bun.lock"]) copyFileSync(`${ROOT}${file}`, join(dir, file));
    cpSync(`${ROOT}patches`, join(dir, "patches"), { recursive: true });
    const proc = Bun.spawn(["sh", "-c", install], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
    const installed = readdirSync(join(dir, "node_modules"));
    for (const dev of ["typescript", "@typescript", "@types", "bun-types", "@biomejs", "fast-check", "mitata"]) {
      expect(installed).not.toContain(dev);
    }
    const dependencies = Object.keys(JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).dependencies);
    for (const dependency of dependencies) expect(existsSync(join(dir, "node_modules", dependency))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test("docker run and compose give the server longer than its 10 s drain to stop", () => {
  const timeouts = [
    ...readFileSync(`${ROOT}Dockerfile`, "utf8").matchAll(/docker run .*--stop-timeout (\d+)/g),
    ...readFileSync(`${ROOT}README.md`, "utf8").matchAll(/docker run .*--stop-timeout (\d+)/g),
  ].map((m) => Number(m[1]));
  const runs = [
    ...readFileSync(`${ROOT}Dockerfile`, "utf8").matchAll(/docker run /g),
    ...readFileSync(`${ROOT}README.md`, "utf8").matchAll(/docker run /g),
  ];
  expect(timeouts.length).toBe(runs.length);
  for (const seconds of timeouts) expect(seconds).toBeGreaterThan(10);
  const grace = /stop_grace_period: (\d+)s/.exec(readFileSync(`${ROOT}deploy/compose.yaml`, "utf8"))?.[1];
  expect(Number(grace)).toBeGreaterThan(10);
});
