// The embedded database has one owner: a second server on the same STORAGE_DATA_DIR (Bun or
// Deno) refuses to start with one line naming the folder and the holder's PID, while the
// first keeps serving; the lock of a SIGKILLed holder is taken over, even when the PID in
// the lock file now belongs to a live, unrelated process; `bun run token` still mints for
// the running server.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataDirInUseError, LOCK_FILE, lockDataDir } from "../../src/db/data-dir-lock.ts";
import { embeddedEnv, ROOT, startEmbeddedServer } from "../helpers/embedded.ts";
import { freePort } from "../helpers/postgres.ts";

const DENO = Bun.which("deno");
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function dataFolder() {
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-lock-"));
  folders.push(dir);
  return dir;
}

/** A server on the folder, with a client for one namespace. */
async function startServer(dataDir: string) {
  const server = await startEmbeddedServer(dataDir, { LOG_LEVEL: "warn" });
  const call = (method: string, key: string, token = server.token, value?: unknown) =>
    fetch(`${server.base}/v1/namespaces/lock/records/${key}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(value === undefined ? {} : { "content-type": "application/json" }),
      },
      body: value === undefined ? undefined : JSON.stringify({ value }),
    });
  return { ...server, call };
}

/** A command that must refuse: its exit code and stderr. */
async function refused(argv: string[], env: Record<string, string>) {
  const proc = Bun.spawn(argv, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 45_000);
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, stderr };
}

const refusal = (dataDir: string, pid: number) =>
  `STORAGE_DATA_DIR ${dataDir} is in use by process ${pid}: only one process may open it at a time`;

test("a second server on the same folder refuses with one line naming it and the holder; the first serves on", async () => {
  const dataDir = dataFolder();
  const first = await startServer(dataDir);
  try {
    expect((await first.call("PUT", "a", first.token, 1)).status).toBe(201);

    const second = await refused(["bun", "src/main.ts"], embeddedEnv(dataDir, await freePort(), { LOG_LEVEL: "warn" }));
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim().split("\n")).toHaveLength(1);
    expect(second.stderr).toContain(refusal(dataDir, first.proc.pid));

    if (DENO !== null) {
      const deno = await refused(
        [DENO, "task", "start"],
        embeddedEnv(dataDir, await freePort(), { LOG_LEVEL: "warn", NO_COLOR: "1" }),
      );
      expect(deno.code).not.toBe(0);
      expect(deno.stderr).toContain(refusal(dataDir, first.proc.pid));
    }

    // the token command reads the development secret without taking the folder
    const minted = Bun.spawnSync(["bun", "src/cli/token.ts", "--tenant", "t", "--extension", "e", "--install", "i"], {
      cwd: ROOT,
      env: embeddedEnv(dataDir, 0),
    });
    expect(minted.exitCode).toBe(0);
    expect((await first.call("PUT", "b", minted.stdout.toString().trim(), 2)).status).toBe(201);

    // the first server is undisturbed: its writes and reads go on
    expect((await first.call("PUT", "c", first.token, 3)).status).toBe(201);
    expect(await (await first.call("GET", "a")).json()).toMatchObject({ value: 1 });
    expect((await fetch(`${first.base}/readyz`)).status).toBe(200);
  } finally {
    first.proc.kill("SIGTERM");
    expect(await first.proc.exited).toBe(0);
  }

  // after a clean exit the folder is free again, and every acknowledged write is there
  const again = await startServer(dataDir);
  try {
    expect(await (await again.call("GET", "a")).json()).toMatchObject({ value: 1 });
    expect(await (await again.call("GET", "c")).json()).toMatchObject({ value: 3 });
  } finally {
    again.proc.kill("SIGTERM");
    await again.proc.exited;
  }
}, 180_000);

test("the lock of a SIGKILLed holder is taken over, even if its PID now names a live process", async () => {
  const dataDir = dataFolder();
  const killed = await startServer(dataDir);
  expect((await killed.call("PUT", "kept", killed.token, "before the kill")).status).toBe(201);
  killed.proc.kill("SIGKILL");
  await killed.proc.exited;
  // as if the dead holder's PID had been reused: the lock file names a running process
  writeFileSync(join(dataDir, LOCK_FILE), `${process.pid}\n`);

  const next = await startServer(dataDir);
  try {
    expect(await (await next.call("GET", "kept")).json()).toMatchObject({ value: "before the kill" });
    expect((await next.call("PUT", "after", next.token, 1)).status).toBe(201);
  } finally {
    next.proc.kill("SIGTERM");
    expect(await next.proc.exited).toBe(0);
  }
}, 150_000);

test("in one process too: a second hold on a held folder is refused, and the folder is free once released", async () => {
  const dataDir = dataFolder();
  const lock = await lockDataDir(dataDir);
  const second = await lockDataDir(dataDir).then(
    () => undefined,
    (error: unknown) => error,
  );
  lock.release();
  expect(second).toBeInstanceOf(DataDirInUseError);
  expect((second as Error).message).toContain(refusal(dataDir, process.pid));
  (await lockDataDir(dataDir)).release();
});
