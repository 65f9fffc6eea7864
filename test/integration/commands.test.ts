// Every command of package.json answers --help with its usage (exit 0) and an unknown flag
// with one line on stderr (exit 2), never a stack trace; db:reconcile takes --url like the
// other db commands; db:rollback asks for --force only when the migration it would undo
// drops tables that hold rows.
import "../helpers/test-database.ts";
import { afterEach, expect, test } from "bun:test";
import { loadMigrations } from "../../src/ops/migration-file.ts";
import { tablesDroppedBy } from "../../src/ops/status.ts";
import { type FreshDatabase, freshDatabase, json, runScript } from "../helpers/databases.ts";
import { freePort } from "../helpers/postgres.ts";

const COMMANDS: string[][] = [
  ["start"],
  ["token"],
  ["db:migrate"],
  ["db:rollback"],
  ["db:status"],
  ["db:dump"],
  ["db:verify"],
  ["db:reconcile"],
  ["db:canonicalise"],
  ["bench"],
  ["bench:ttl"],
  ["bench:values"],
  ["bench:rate"],
  ["bench:peers"],
  ["load"],
  ["load", "run"],
  ["load", "ceiling"],
  ["fuzz"],
];

test("package.json's commands are the ones checked here", async () => {
  const scripts = Object.keys((await Bun.file(new URL("../../package.json", import.meta.url)).json()).scripts);
  const ignored = ["dev", "test", "typecheck", "lint", "format"];
  expect(scripts.filter((s) => !ignored.includes(s)).sort()).toEqual(
    [...new Set(COMMANDS.map(([script]) => script as string))].sort(),
  );
});

for (const [script, ...sub] of COMMANDS) {
  const name = [script, ...sub].join(" ");
  test(`${name} --help prints its usage; an unknown flag is one line and exit 2`, async () => {
    // no database: --help must not need one, and must not start anything
    const help = await runScript(script as string, [...sub, "--help"], "");
    expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: "" });
    expect(help.stdout).toContain(`bun run ${script}`);

    const wrong = await runScript(script as string, [...sub, "--no-such-flag"], "");
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe("");
    expect(wrong.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining("--no-such-flag")]);
  }, 30_000);
}

let db: FreshDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

test("db:reconcile takes --url instead of DATABASE_URL", async () => {
  db = await freshDatabase("cmd_reconcile");
  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  const result = await runScript("db:reconcile", ["--url", db.url, "--json"], "");
  expect(result.code).toBe(0);
  expect(json(result)).toEqual({ ok: true, drift: [] });
});

test("db:rollback of a migration that drops no table needs no --force, even with rows stored", async () => {
  // the TTL sweeper's migration drops a function, no table
  const migrations = loadMigrations();
  const index = migrations.findIndex((m) => m.file.includes("create_ttl_sweeper"));
  const last = migrations[index];
  if (last === undefined) throw new Error("no create_ttl_sweeper migration");
  expect(tablesDroppedBy(last.down.sql)).toEqual([]);
  db = await freshDatabase("cmd_rollback");
  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  // the migrations after it are undone while no row exists, so that it is the newest applied
  for (let i = migrations.length - 1; i > index; i--) expect((await runScript("db:rollback", [], db.url)).code).toBe(0);
  await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
               values ('t', 'e', 'i', 'n', 'k', '1', 1, 2)`;
  const rolled = await runScript("db:rollback", [], db.url);
  expect(rolled.code).toBe(0);
  expect(json(rolled)).toMatchObject({ command: "rollback", versions: [last.version], ok: true });
  // the rows are still there
  expect((await db.sql`select count(*)::int as n from ext_storage_records`)[0]?.n).toBe(1);
});

test("the tables a down section drops are read from its SQL", () => {
  expect(tablesDroppedBy('drop table a;\n-- drop table not_me;\nDROP TABLE IF EXISTS public.b, "c" cascade;')).toEqual([
    "a",
    "b",
    "c",
  ]);
  expect(tablesDroppedBy("drop function f(integer);\ndrop index i;")).toEqual([]);
});

test("every db command meets an unreachable database with one line and exit 1, never a stack trace", async () => {
  const closed = `postgres://nobody@127.0.0.1:${await freePort()}/none`;
  for (const script of ["db:status", "db:verify", "db:migrate", "db:rollback", "db:reconcile", "db:canonicalise"]) {
    const run = await runScript(script, ["--url", closed], "");
    const lines = run.stderr.trimEnd().split("\n");
    expect({ script, code: run.code, lines: lines.length, trace: /\n\s+at /.test(run.stderr) }).toEqual({
      script,
      code: 1,
      lines: 1,
      trace: false,
    });
    expect(lines[0]).toContain(script);
  }
  const notUrl = await runScript("db:status", ["--url", "not a url"], "");
  expect([notUrl.code, notUrl.stderr.trimEnd().split("\n").length]).toEqual([1, 1]);
}, 60_000);

test("db:migrate takes the URL the service takes: no sslmode means no TLS, as for every command", async () => {
  db = await freshDatabase("cmd_nossl");
  const url = new URL(db.url);
  url.searchParams.delete("sslmode");
  const migrated = await runScript("db:migrate", ["--url", url.toString()], "");
  expect({ code: migrated.code, ok: json(migrated).ok }).toEqual({ code: 0, ok: true });
});
