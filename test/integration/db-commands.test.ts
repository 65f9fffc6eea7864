// db:migrate, db:rollback, db:status and db:dump, run as an operator runs them, each test on
// a database of its own.
import "../helpers/test-database.ts";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrationVersions, SCHEMA_FILE } from "../../src/db/migrate.ts";
import { loadMigrations, splitStatements } from "../../src/ops/migration-file.ts";
import { runSafe, SAFE_DEFAULTS } from "../../src/ops/safe-migrate.ts";
import { type FreshDatabase, freshDatabase, json, runScript } from "../helpers/databases.ts";

const VERSIONS = migrationVersions();
const LATEST = loadMigrations().at(-1);
// the migration that creates the tables: the lock and guard tests roll back to it
const TABLES = loadMigrations()[0];
let db: FreshDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

const tableExists = async (name: string) =>
  Boolean((await (db as FreshDatabase).sql`select to_regclass(${name}) is not null as e`)[0]?.e);

/** Every migration applied, then those after the tables' rolled back: the tables' is the latest. */
async function migrateToTables(url: string) {
  expect((await runScript("db:migrate", [], url)).code).toBe(0);
  for (let i = 1; i < VERSIONS.length; i++) expect((await runScript("db:rollback", [], url)).code).toBe(0);
}

/** A transaction holding a lock on a table until release() is called. */
async function holdLock(url: string, table: string, mode = "access share") {
  const postgres = (await import("postgres")).default;
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const reserved = await sql.reserve();
  await reserved`begin`;
  await reserved.unsafe(`lock table ${table} in ${mode} mode`);
  const [{ pid }] = (await reserved`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  return {
    pid,
    async release() {
      await reserved`commit`;
      reserved.release();
      await sql.end({ timeout: 1 });
    },
  };
}

test("db:migrate applies every pending migration with dbmate and prints the execution record", async () => {
  db = await freshDatabase("ops_migrate");
  const first = await runScript("db:migrate", [], db.url);
  expect(first.code).toBe(0);
  const record = json(first);
  expect(record).toMatchObject({ command: "migrate", safe: false, versions: VERSIONS, ok: true });
  expect(Date.parse(record.finishedAt)).toBeGreaterThanOrEqual(Date.parse(record.startedAt));
  expect(await tableExists("ext_storage_records")).toBe(true);

  const again = await runScript("db:migrate", [], db.url);
  expect([again.code, json(again).versions]).toEqual([0, []]);
});

test("db:migrate --safe runs statement by statement within its bounds and leaves dbmate's schema", async () => {
  db = await freshDatabase("ops_safe");
  const result = await runScript("db:migrate", ["--safe"], db.url);
  expect(result.code).toBe(0);
  const record = json(result);
  expect(record).toMatchObject({
    command: "migrate",
    safe: true,
    versions: VERSIONS,
    ok: true,
    lockWaitMs: 0,
    settings: { lockTimeoutMs: 2000, statementTimeoutMs: SAFE_DEFAULTS.statementTimeoutMs, retries: 3 },
    preflight: { blockers: [] },
  });
  const last = record.attempts.at(-1);
  expect(last).toMatchObject({ version: LATEST?.version, attempt: 1, outcome: "done" });
  expect(last.statements).toHaveLength(splitStatements(LATEST?.up.sql ?? "").length);
  for (const s of last.statements) {
    expect(s).toEqual({
      index: expect.any(Number),
      statement: expect.any(String),
      durationMs: expect.any(Number),
      lockWaitMs: 0,
    });
  }
  // each statement is also reported as it runs
  expect(result.stderr).toContain("#1 ");

  // the same schema and bookkeeping as dbmate's own run: the committed dump
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-dump-"));
  try {
    const dumped = await runScript("db:dump", ["--schema-file", join(dir, "schema.sql")], db.url);
    expect(dumped.code).toBe(0);
    expect(readFileSync(join(dir, "schema.sql"), "utf8")).toBe(readFileSync(SCHEMA_FILE, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--safe refuses to start while a session has held a lock on a target table past the lock timeout", async () => {
  db = await freshDatabase("ops_preflight");
  await migrateToTables(db.url);
  const holder = await holdLock(db.url, "ext_storage_records");
  try {
    await Bun.sleep(400);
    const result = await runScript("db:rollback", ["--safe", "--lock-timeout", "300ms"], db.url);
    expect(result.code).toBe(1);
    const record = json(result);
    expect(record.ok).toBe(false);
    expect(record.attempts).toEqual([]);
    expect(record.preflight.blockers).toEqual([
      expect.objectContaining({
        pid: holder.pid,
        table: "ext_storage_records",
        mode: "AccessShareLock",
        granted: true,
      }),
    ]);
    expect(result.stderr).toContain(`pid ${holder.pid}`);
  } finally {
    await holder.release();
  }
  expect(await tableExists("ext_storage_records")).toBe(true);
});

test("--safe retries after a lock timeout, with backoff, and reports how long each statement waited", async () => {
  db = await freshDatabase("ops_retry");
  await migrateToTables(db.url);
  const holder = await holdLock(db.url, "ext_storage_usage");
  // held until the first attempt has timed out on it (not for a fixed time, which a busy
  // machine can outlast before the migration even starts), then released for the retry
  let release: Promise<void> | undefined;
  const record = await runSafe(db.url, {
    direction: "down",
    lockTimeoutMs: 500,
    statementTimeoutMs: 10_000,
    retries: 3,
    backoffMs: 100,
    pollMs: 10,
    progress: (line) => {
      if (release === undefined && line.includes("lock timeout")) release = holder.release();
    },
  });
  await (release ?? holder.release());
  expect(record.ok).toBe(true);
  expect(record.versions).toEqual([String(TABLES?.version)]);
  const [first, second] = record.attempts;
  expect(first).toMatchObject({
    attempt: 1,
    outcome: "lock_timeout",
    error: "canceling statement due to lock timeout",
  });
  // the wait is measured, not guessed: about the lock timeout, give or take one poll
  const waited = first?.statements[0]?.lockWaitMs ?? 0;
  expect(waited).toBeGreaterThanOrEqual(450);
  expect(waited).toBeLessThan(700);
  expect(second).toMatchObject({ attempt: 2, outcome: "done" });
  expect(record.lockWaitMs).toBeGreaterThanOrEqual(waited);
  expect(await tableExists("ext_storage_records")).toBe(false);
});

test("--safe gives up after its bounded retries and leaves the database as it was", async () => {
  db = await freshDatabase("ops_giveup");
  await migrateToTables(db.url);
  const holder = await holdLock(db.url, "ext_storage_usage");
  try {
    const started = Date.now();
    const record = await runSafe(db.url, {
      direction: "down",
      // well above the time to reach the preflight, so the holder is not yet a blocker there
      lockTimeoutMs: 500,
      statementTimeoutMs: 10_000,
      retries: 1,
      backoffMs: 50,
      pollMs: 10,
    });
    expect(record.ok).toBe(false);
    expect(record.attempts.map((a) => a.outcome)).toEqual(["lock_timeout", "lock_timeout"]);
    expect(record.error).toBe("canceling statement due to lock timeout");
    // two waits of 500 ms and a backoff of 50 ms, nothing unbounded
    expect(Date.now() - started).toBeLessThan(3000);
  } finally {
    await holder.release();
  }
  expect(await tableExists("ext_storage_records")).toBe(true);
  const status = await runScript("db:status", ["--json"], db.url);
  expect(json(status).pending).toEqual(VERSIONS.slice(1));
});

test("db:rollback refuses while ext_storage_records holds rows, and --force overrides it", async () => {
  db = await freshDatabase("ops_rollback");
  await migrateToTables(db.url);
  await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
               values ('t', 'e', 'i', 'n', 'k', '1', 1, 2)`;
  const refused = await runScript("db:rollback", [], db.url);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain("ext_storage_records holds rows");
  expect(await tableExists("ext_storage_records")).toBe(true);
  const refusedSafe = await runScript("db:rollback", ["--safe"], db.url);
  expect(refusedSafe.code).toBe(3);

  const forced = await runScript("db:rollback", ["--force"], db.url);
  expect(forced.code).toBe(0);
  expect(json(forced)).toMatchObject({ command: "rollback", versions: [TABLES?.version], ok: true });
  expect(await tableExists("ext_storage_records")).toBe(false);
});

test("db:status lists applied and pending migrations; --exit-code fails while any is pending", async () => {
  db = await freshDatabase("ops_status");
  const fresh = await runScript("db:status", [], db.url);
  expect(fresh.code).toBe(0);
  expect(fresh.stdout).toContain(`[ ] ${LATEST?.file}`);
  expect(fresh.stdout).toContain(`Pending: ${VERSIONS.length}`);
  expect((await runScript("db:status", ["--exit-code"], db.url)).code).toBe(1);

  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  const current = await runScript("db:status", ["--json", "--exit-code"], db.url);
  expect(current.code).toBe(0);
  expect(json(current)).toMatchObject({ applied: VERSIONS, pending: [], unknown: [] });

  // an empty install is no data: rollback goes through without --force
  const rolled = await runScript("db:rollback", [], db.url);
  expect(rolled.code).toBe(0);
  expect(json(await runScript("db:status", ["--json"], db.url)).pending).toEqual([LATEST?.version]);
});

test("the commands need a database: without DATABASE_URL or --url they say so", async () => {
  const result = await runScript("db:status", [], "");
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("DATABASE_URL is not set");
});
