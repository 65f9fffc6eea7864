// Every command that starts a PostgreSQL cluster or a server stops them when it is
// interrupted (SIGINT, SIGTERM) and when it fails after starting them. Each command runs as
// a real child process with its own TMPDIR (where a throwaway cluster or an embedded data
// folder goes) and a marker in its environment (which every process it starts inherits);
// after it ends, no process may carry the marker or name that folder, and the folder must
// be empty.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const DATABASE_URL = process.env.DATABASE_URL as string;
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

type Run = { tmp: string; marker: string; proc: ReturnType<typeof Bun.spawn>; output(): string };

/** Starts `bun <args>` from the project root; env values of undefined are removed. */
function start(args: string[], env: Record<string, string | undefined>): Run {
  const tmp = mkdtempSync(join(tmpdir(), "ext-storage-cleanup-test-"));
  chmodSync(tmp, 0o755); // a cluster started as the postgres user (when root) lives in it
  folders.push(tmp);
  const marker = randomUUID();
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, TMPDIR: tmp, EXT_STORAGE_TEST_MARKER: marker, ...env })) {
    if (v !== undefined) merged[k] = v;
  }
  const proc = Bun.spawn(["bun", ...args], { cwd: ROOT, env: merged, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let output = "";
  const decoder = new TextDecoder();
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      for await (const chunk of stream) output += decoder.decode(chunk);
    })().catch(() => {});
  }
  return { tmp, marker, proc, output: () => output };
}

async function waitFor(run: Run, pattern: RegExp, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output())) {
    if (run.proc.exitCode !== null)
      throw new Error(`exited (${run.proc.exitCode}) before ${pattern}:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${run.output()}`);
    await Bun.sleep(50);
  }
}

/** Processes that carry the run's marker or name its TMPDIR (a postmaster's -D). */
function leftovers(run: Run): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      let environ = "";
      try {
        environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      } catch {
        // another user's process: its command line is enough
      }
      if (cmdline.includes(run.tmp) || environ.includes(run.marker)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The command ends within the bound, leaving no process and an empty TMPDIR behind. */
async function expectCleanEnd(run: Run, boundMs = 25_000): Promise<number> {
  const code = await Promise.race([run.proc.exited, Bun.sleep(boundMs).then(() => "timeout" as const)]);
  if (code === "timeout") {
    run.proc.kill("SIGKILL");
    throw new Error(`did not end within ${boundMs} ms:\n${run.output()}`);
  }
  // an immediate shutdown's backends leave a moment after the postmaster
  for (let i = 0; i < 50 && leftovers(run).length > 0; i++) await Bun.sleep(100);
  expect(leftovers(run)).toEqual([]);
  expect(readdirSync(run.tmp)).toEqual([]);
  return code;
}

async function interrupted(
  args: string[],
  env: Record<string, string | undefined>,
  up: RegExp,
  signal: NodeJS.Signals,
) {
  const run = start(args, env);
  await waitFor(run, up);
  expect(leftovers(run).length).toBeGreaterThan(0); // what it started is there
  run.proc.kill(signal);
  const code = await expectCleanEnd(run);
  expect(code).not.toBe(0);
}

const ownCluster = { DATABASE_URL: undefined, CITUS_URL: undefined };
// read by the server and the benchmarks' app, not by the commands themselves: start-up fails
// after the cluster is up
const badConfig = { STORAGE_MAX_VALUE_BYTES: "not-a-number" };
// a read-only default makes dbmate fail once the cluster is up
const readOnly = { PGOPTIONS: "-c default_transaction_read_only=on" };

test("fuzz stops its cluster and server on SIGINT and on SIGTERM", async () => {
  const args = ["test/fuzz/main.ts", "--requests", "1000000", "--seconds", "60"];
  await interrupted(args, ownCluster, /fuzz: server ready/, "SIGINT");
  await interrupted(args, ownCluster, /fuzz: server ready/, "SIGTERM");
}, 120_000);

test("fuzz stops its cluster when its server cannot start", async () => {
  const run = start(["test/fuzz/main.ts", "--requests", "10"], { ...ownCluster, ...badConfig });
  expect(await expectCleanEnd(run, 60_000)).toBe(1);
  expect(run.output()).toContain("STORAGE_MAX_VALUE_BYTES");
}, 90_000);

test("bench stops its cluster on SIGINT and when its migration fails", async () => {
  await interrupted(["bench/micro/index.ts"], ownCluster, /bench: PostgreSQL in/, "SIGINT");
  const run = start(["bench/micro/index.ts"], { ...ownCluster, ...readOnly });
  expect(await expectCleanEnd(run, 60_000)).toBe(1);
  expect(run.output()).toContain("read-only");
}, 120_000);

test("bench:ttl stops its cluster and server on SIGTERM and when its server cannot start", async () => {
  await interrupted(["bench/ttl/backlog.ts"], ownCluster, /bench:ttl: server ready/, "SIGTERM");
  const run = start(["bench/ttl/backlog.ts"], { ...ownCluster, ...badConfig });
  expect(await expectCleanEnd(run, 60_000)).toBe(1);
}, 120_000);

test("load and load ceiling stop their server on SIGINT and SIGTERM, and an embedded one that fails", async () => {
  const small = ["--tenants", "1", "--installs-per-tenant", "1", "--no-progress", "--out", tmpdir()];
  const load = ["bench/load/index.ts", "--sub", "crud-mix", "--duration", "60", "--warmup", "0", ...small];
  await interrupted(load, { DATABASE_URL }, /load: server ready/, "SIGINT");
  const ceiling = ["bench/load/index.ts", "ceiling", "--ceiling-seconds", "30", ...small];
  await interrupted(ceiling, { DATABASE_URL }, /load: server ready/, "SIGTERM");
  // embedded: the server's data folder goes to TMPDIR, and must go away with it
  const run = start(load, { DATABASE_URL: undefined, ...badConfig });
  expect(await expectCleanEnd(run, 60_000)).toBe(1);
}, 120_000);

test("the test preload stops its cluster on SIGINT and SIGTERM and when the migration fails", async () => {
  const hold = ["test", "./test/fixtures/preload-hold.ts"];
  await interrupted(hold, ownCluster, /preload-hold: holding/, "SIGINT");
  await interrupted(hold, ownCluster, /preload-hold: holding/, "SIGTERM");
  const run = start(hold, { ...ownCluster, ...readOnly });
  expect(await expectCleanEnd(run, 60_000)).not.toBe(0);
  expect(run.output()).toContain("read-only");
}, 120_000);
