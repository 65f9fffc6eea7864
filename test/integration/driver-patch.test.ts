// The patched postgres.js (patches/postgres@3.4.9.patch, see patches/README.md) settles every
// statement and transaction of a connection whose backend was terminated under it. Without
// the patch the process dies of an uncaught TypeError or a statement stays pending forever.
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { fileURLToPath } from "node:url";

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
