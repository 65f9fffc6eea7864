// bun run bench measures what its lines name: the GET and PUT through the app answer 200
// (not the rate limiter's 429), the SQL lines run statements this build has, and a call that
// answers anything else fails the run instead of printing a time.
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { checkStatus, expectStatus } from "../../bench/status.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

test("an unexpected status is an error naming the benchmark, the status and the body", async () => {
  expect(() => checkStatus("GET one record", 429, 200, '{"error":{"code":"RATE_LIMITED"}}')).toThrow(
    'GET one record: expected status 200, got 429 {"error":{"code":"RATE_LIMITED"}}',
  );
  expect(() => checkStatus("PUT", 201, [200, 201])).not.toThrow();
  await expect(expectStatus("GET", new Response("{}", { status: 503 }), 200)).rejects.toThrow("got 503");
});

test("the database benchmarks run on the statements of this build and get the statuses they name", async () => {
  const proc = Bun.spawn(
    ["bun", "bench/micro/index.ts", "--filter", "^(GET one record|PUT one record|records\\.state|PUT: BEGIN)"],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
  );
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  for (const line of ["GET one record (200)", "PUT one record (200)", "records.state (1 key)", "records.upsert"]) {
    expect(stdout).toContain(line);
  }
}, 120_000);
