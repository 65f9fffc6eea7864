// The patched postgres.js (patches/postgres@3.4.9.patch, see patches/README.md) settles every
// statement and transaction of a connection whose backend was terminated under it. Without
// the patch the process dies of an uncaught TypeError or a statement stays pending forever.
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

const FIXTURE = fileURLToPath(new URL("../fixtures/driver-closed-socket.ts", import.meta.url));
const BOUND_MS = 20_000;

test("statements and transactions on a terminated connection all settle (20 rounds)", async () => {
  const child = Bun.spawn([process.execPath, FIXTURE], { stdout: "pipe", stderr: "pipe", env: process.env });
  const timer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS);
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]).finally(() => clearTimeout(timer));
  expect({ code, err: err.slice(0, 2000) }).toEqual({ code: 0, err: "" });
  const outcomes = JSON.parse(out) as Record<string, number>;
  const total = (prefix: string) =>
    Object.entries(outcomes)
      .filter(([k]) => k.startsWith(prefix))
      .reduce((n, [, v]) => n + v, 0);
  expect(total("transaction ")).toBe(20);
  // a round's transaction may fail before all three statements ran (its connection closed)
  expect(total("statement ")).toBeGreaterThan(0);
  expect(total("statement ")).toBeLessThanOrEqual(60);
  // the backend is gone: nothing after the termination may succeed
  expect(outcomes["transaction ok"]).toBeUndefined();
  expect(outcomes["statement ok"]).toBeUndefined();
}, 30_000);

test("a pool whose connections were terminated with statements under way ends at once", async () => {
  const url = process.env.DATABASE_URL as string;
  const name = `end-after-kill-${process.pid}`;
  const pool = postgres(url, { max: 4, onnotice: () => {}, connection: { application_name: name } });
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await pool`select 1`;
    const running = Array.from({ length: 4 }, () =>
      pool`select pg_sleep(5)`.then(
        () => "ok",
        (e) => (e as { code?: string }).code,
      ),
    );
    for (let i = 0; i < 50; i++) {
      const [row] = await admin`select count(*)::int as n from pg_stat_activity
        where application_name = ${name} and query like 'select pg_sleep%'`;
      if (row?.n === 4) break;
      await Bun.sleep(20);
    }
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`;
    expect(await Promise.all(running)).toEqual(Array(4).fill("CONNECTION_CLOSED"));
    // a connection closed with a statement under way kept it as its current one, so end()
    // waited for it until its timeout (here 5 s): the service's shutdown after a failover
    const started = performance.now();
    await pool.end({ timeout: 5 });
    expect(performance.now() - started).toBeLessThan(1_000);
  } finally {
    await pool.end({ timeout: 0 });
    await admin.end();
  }
}, 30_000);
