// One run of bench:migrate, shared by the command (bench/migrate/index.ts) and its test:
// the seed's crud-mix runs against the service while `bun run db:migrate --safe` applies
// the pending migrations to a table of many records, as an operator would run it.
//
//   1. the database is migrated to all but the newest `holdBack` migrations and filled with
//      `records` rows spread over crud-mix's installs (prepare.ts)
//   2. the service starts on it (ready at /healthz: /readyz says migrations are pending) and
//      crud-mix runs open loop at its rate; pg_locks is sampled all along (locks.ts)
//   3. `beforeSec` seconds after the warm-up, db:migrate --safe runs as a child process
//   4. the load goes on `afterSec` seconds after the migration ends, then stops
// Every wait is bounded: the migration by `migrationBoundSec`, the load by the same plus its
// own seconds, the sampler by the run.
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import postgres from "postgres";
import type { ExecutionRecord } from "../../src/ops/safe-migrate.ts";
import { onExit } from "../../tools/cleanup.ts";
import { ROOT, startServiceProcess } from "../../tools/service.ts";
import { loadFixtures, population } from "../load/data.ts";
import { mergeAll } from "../load/histogram.ts";
import type { LoadOptions } from "../load/options.ts";
import { Recorder } from "../load/recorder.ts";
import { tokenCache } from "../load/scenarios/context.ts";
import { CRUD_OPS, crudMix } from "../load/scenarios/crud-mix.ts";
import type { Target } from "../load/server.ts";
import { type LockWait, migrationWait, sampleLockWaits } from "./locks.ts";
import { migrateAllBut, seedRecords } from "./prepare.ts";

export type MigrateBenchOptions = {
  /** a database holding nothing yet (no migration applied) */
  databaseUrl: string;
  records: number;
  holdBack: number;
  /** crud-mix's options (installs, rate, warm-up, concurrency, seed) as bun run load parses them */
  load: LoadOptions;
  beforeSec: number;
  afterSec: number;
  migrationBoundSec: number;
  say: (line: string) => void;
};

export const TARGETS = { failedRequests: 0, lockWaitMs: 2000 } as const;

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Counts every failed request, warm-up included, and learns the run clock's origin. */
class MigrationRecorder extends Recorder {
  failures = new Map<string, number>();
  requests = 0;
  /** performance.now() at the run clock's zero, known from the first finished request */
  origin: number | undefined;

  override record(op: string, scheduledMs: number, doneMs: number, code?: string): void {
    this.origin ??= performance.now() - doneMs;
    this.requests++;
    if (code !== undefined) this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    super.record(op, scheduledMs, doneMs, code);
  }

  /** ms on the run clock, -1 before the first request finished */
  now(): number {
    return this.origin === undefined ? -1 : performance.now() - this.origin;
  }
}

export async function runMigrationBench(o: MigrateBenchOptions) {
  const startedAt = new Date().toISOString();
  const t = performance.now();
  const pending = await migrateAllBut(o.databaseUrl, o.holdBack);
  o.say(`migrated to all but ${pending.join(", ")} (${Math.round(performance.now() - t)} ms)`);

  const l = o.load;
  const installs = population(l.prefix, l.tenants, l.installsPerTenant).slice(0, l.installs);
  const seedStarted = performance.now();
  await seedRecords(o.databaseUrl, installs, o.records);
  const seedSec = (performance.now() - seedStarted) / 1000;
  o.say(`seeded ${o.records} records over ${installs.length} installs in ${seedSec.toFixed(1)} s`);

  const secret = randomBytes(32).toString("base64url");
  const service = await startServiceProcess({
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      STORAGE_JWT_SECRET: secret,
      LOG_LEVEL: "warn",
      // as bun run load starts its server: the run measures the migration, not the limits
      STORAGE_RATE_LIMIT: "0",
      STORAGE_WORK_LIMIT_BYTES: "0",
    },
    readyPath: "/healthz",
    readyTimeoutMs: 120_000,
    announce: o.say,
  });
  const target: Target = {
    url: service.url,
    secret,
    audience: process.env.STORAGE_JWT_AUDIENCE || "ext-storage",
    mode: "postgres",
    pid: service.pid,
    stop: () => service.stop(),
  };

  const recorder = new MigrationRecorder(l.warmupSec * 1000, (op) => CRUD_OPS[op as keyof typeof CRUD_OPS] ?? "other");
  const boundMs = (l.warmupSec + o.beforeSec + o.migrationBoundSec + o.afterSec) * 1000;
  let migrationEndMs: number | undefined;
  const hardDeadline = Date.now() + boundMs + 600_000;
  const load = { ...l, durationSec: boundMs / 1000 - l.warmupSec };
  const sampler = sampleLockWaits(o.databaseUrl, 50, boundMs + 900_000);
  const loadDone = crudMix({
    target,
    options: load,
    fixtures: loadFixtures(),
    recorder,
    token: tokenCache(target, boundMs / 1000 + 3600),
    shouldStop: () =>
      Date.now() > hardDeadline ||
      (migrationEndMs !== undefined && recorder.now() >= migrationEndMs + o.afterSec * 1000),
  });

  let migration: MigrateRun | undefined;
  let failure: unknown;
  try {
    // the migration starts beforeSec after the warm-up, on the run clock (bounded wait)
    const startAt = (l.warmupSec + o.beforeSec) * 1000;
    const waitUntil = Date.now() + boundMs + 300_000;
    let loadEnded = false;
    const ended = () => {
      loadEnded = true;
    };
    // its outcome, an error included, is awaited below; this only notes that it ended
    loadDone.then(ended, ended);
    while (recorder.now() < startAt && !loadEnded && Date.now() < waitUntil) await Bun.sleep(20);
    if (loadEnded) throw new Error("the load ended before the migration could start");
    o.say(`load running at ${round((installs.length * l.ratePerInstallPerMin) / 60)} ops/s; db:migrate --safe`);
    const migrationStartMs = recorder.now();
    migration = await runMigrate(o.databaseUrl, o.migrationBoundSec * 1000);
    migrationEndMs = recorder.now();
    migration.window = [migrationStartMs, migrationEndMs];
    o.say(`db:migrate --safe exited ${migration.exitCode} after ${Math.round(migrationEndMs - migrationStartMs)} ms`);
  } catch (error) {
    failure = error;
  }
  migrationEndMs ??= recorder.now();
  const result = await loadDone.catch((error: Error) => ({ error }));
  const locks = await sampler.stop();
  await service.stop();
  // the load's own error first: a load that ended early is why the migration did not run
  if ("error" in result) {
    throw new Error(
      `crud-mix stopped: ${result.error.message} (a service that answers 503 needs the schema the held-back migrations bring: try a smaller --hold-back)`,
    );
  }
  if (failure !== undefined) throw failure;
  if (migration === undefined) throw new Error("the migration did not run");
  return report(o, {
    startedAt,
    pending,
    seedSec,
    installs: installs.length,
    recorder,
    checks: result.checks,
    locks,
    migration,
    applied: await appliedVersions(o.databaseUrl),
  });
}

type MigrateRun = {
  exitCode: number;
  record: ExecutionRecord | undefined;
  stderr: string;
  wallMs: number;
  /** [start, end] on the load's run clock, ms */
  window: [number, number];
};

/** bun run db:migrate --safe as an operator runs it: a child process, its JSON record on stdout. */
async function runMigrate(url: string, boundMs: number): Promise<MigrateRun> {
  const started = performance.now();
  const child = Bun.spawn([process.execPath, "run", "db:migrate", "--safe", "--url", url], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const forget = onExit({ name: `db:migrate process ${child.pid}`, stop: () => child.kill("SIGKILL") });
  const timer = setTimeout(() => child.kill("SIGKILL"), boundMs);
  const [exitCode, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  forget();
  let record: ExecutionRecord | undefined;
  try {
    // the record is the JSON object that ends stdout
    record = JSON.parse(stdout.slice(stdout.indexOf("{"))) as ExecutionRecord;
  } catch {
    record = undefined;
  }
  return { exitCode, record, stderr, wallMs: performance.now() - started, window: [0, 0] };
}

async function appliedVersions(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql`select version from schema_migrations order by version`).map((r) => String(r.version));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function report(
  o: MigrateBenchOptions,
  r: {
    startedAt: string;
    pending: string[];
    seedSec: number;
    installs: number;
    recorder: MigrationRecorder;
    checks: { name: string; ok: boolean; detail: string }[];
    locks: { samples: number; waits: LockWait[] };
    migration: MigrateRun;
    applied: string[];
  },
) {
  const { recorder, migration } = r;
  const warmupMs = recorder.warmupMs;
  const second = (ms: number) => Math.floor((ms - warmupMs) / 1000);
  const [from, to] = [second(migration.window[0]), second(migration.window[1])];
  const phase = (lo: number, hi: number) => {
    const seconds = recorder.seconds.slice(Math.max(0, lo), Math.max(0, hi + 1));
    const p99 = (cls: "read" | "write") => {
      const h = mergeAll(seconds.map((s) => s[cls]));
      return { count: h.count, p99Ms: round(h.percentile(99) / 1000, 2), maxMs: round(h.count ? h.max / 1000 : 0, 2) };
    };
    return { seconds: seconds.length, read: p99("read"), write: p99("write") };
  };
  const record = migration.record;
  const statementWait = Math.max(0, ...(record?.attempts ?? []).flatMap((a) => a.statements.map((s) => s.lockWaitMs)));
  const lockTimeouts = (record?.attempts ?? []).filter((a) => a.outcome === "lock_timeout");
  // a statement that timed out waiting waited the whole lock_timeout
  const timedOutWait = lockTimeouts.length > 0 ? (record?.settings.lockTimeoutMs ?? 0) : 0;
  const sampled = r.locks.waits[0];
  const sampledMigration = r.locks.waits.find(migrationWait);
  const longestLockWaitMs = round(Math.max(sampled?.ms ?? 0, statementWait, timedOutWait), 1);
  const longestMigrationLockWaitMs = round(Math.max(sampledMigration?.ms ?? 0, statementWait, timedOutWait), 1);
  const failures = Object.fromEntries(r.recorder.failures);
  const failedRequests = [...r.recorder.failures.values()].reduce((a, b) => a + b, 0);
  // DRIVER_OVERLOAD (dropped from the driver's full queue) and DRIVER_TIMEOUT (unfinished at
  // the end) were never answered: the machine could not keep up with the offered rate
  const driverFailures = [...r.recorder.failures]
    .filter(([code]) => code.startsWith("DRIVER_"))
    .reduce((a, [, n]) => a + n, 0);
  const applied = r.pending.every((v) => r.applied.includes(v));
  const migrationMs = record ? Date.parse(record.finishedAt) - Date.parse(record.startedAt) : undefined;
  return {
    startedAt: r.startedAt,
    finishedAt: new Date().toISOString(),
    machine: { loadAverage: loadavg().map((n) => round(n, 2)) },
    config: {
      records: o.records,
      holdBack: o.holdBack,
      installs: r.installs,
      ratePerSec: round((r.installs * o.load.ratePerInstallPerMin) / 60),
      warmupSec: o.load.warmupSec,
      beforeSec: o.beforeSec,
      afterSec: o.afterSec,
    },
    seedSec: round(r.seedSec),
    migration: {
      versions: r.pending,
      applied,
      exitCode: migration.exitCode,
      durationMs: migrationMs,
      processMs: Math.round(migration.wallMs),
      attempts: record?.attempts.length ?? 0,
      lockTimeoutRetries: lockTimeouts.length,
      statementLockWaitMs: statementWait,
      error: record?.error ?? (record ? undefined : migration.stderr.slice(-2000)),
    },
    requests: r.recorder.requests,
    failedRequests,
    /** of them, answered with an error by the service or lost on the way (not the driver's) */
    answeredWithError: failedRequests - driverFailures,
    /** of them, dropped or left unfinished by an overloaded driver */
    driverFailures,
    failures,
    driverChecks: r.checks,
    locks: {
      samples: r.locks.samples,
      waitsSeen: r.locks.waits.length,
      longestSampled: sampled ?? null,
      longestSampledOfTheMigration: sampledMigration ?? null,
      longest: r.locks.waits.slice(0, 10),
    },
    /** the longest lock wait of any session: a request's, the migration's */
    longestLockWaitMs,
    /** the longest the migration waited, or made a request wait behind it */
    longestMigrationLockWaitMs,
    latency: { before: phase(0, from - 1), during: phase(from, to), after: phase(to + 1, recorder.seconds.length) },
    pass:
      failedRequests === TARGETS.failedRequests &&
      r.checks.every((c) => c.ok) &&
      longestLockWaitMs < TARGETS.lockWaitMs &&
      applied &&
      migration.exitCode === 0,
  };
}

export type MigrationBenchReport = ReturnType<typeof report>;

export function renderReport(r: MigrationBenchReport): string {
  const rows: [string, string, string][] = [
    ["failed requests (whole run)", String(r.failedRequests), `${TARGETS.failedRequests}`],
    ["  answered with an error", String(r.answeredWithError), ""],
    ["  dropped by the overloaded driver", String(r.driverFailures), ""],
    ["longest lock wait, any session", `${r.longestLockWaitMs} ms`, `< ${TARGETS.lockWaitMs} ms`],
    ["  of it, the migration's or behind it", `${r.longestMigrationLockWaitMs} ms`, `< ${TARGETS.lockWaitMs} ms`],
    ["lock-timeout retries", String(r.migration.lockTimeoutRetries), ""],
    ["migration applied", `${r.migration.applied} (${r.migration.versions.join(", ")})`, "true"],
    ["migration duration", `${r.migration.durationMs ?? "?"} ms (process ${r.migration.processMs} ms)`, ""],
  ];
  for (const cls of ["read", "write"] as const) {
    const b = r.latency.before[cls];
    const d = r.latency.during[cls];
    const a = r.latency.after[cls];
    rows.push([`${cls} p99 before / during / after`, `${b.p99Ms} / ${d.p99Ms} / ${a.p99Ms} ms`, ""]);
  }
  const width = Math.max(...rows.map((x) => x[0].length));
  const valueWidth = Math.max(...rows.map((x) => x[1].length));
  const lines = [
    `bench:migrate: ${r.config.records} records, crud-mix ${r.config.ratePerSec} ops/s over ${r.config.installs} installs, ${r.requests} requests; load average ${r.machine.loadAverage.join(" ")}`,
    ...rows.map(([k, v, target]) =>
      `${k.padEnd(width)}  ${v.padEnd(valueWidth)}  ${target ? `target ${target}` : ""}`.trimEnd(),
    ),
    `seconds before / during / after the migration: ${r.latency.before.seconds} / ${r.latency.during.seconds} / ${r.latency.after.seconds}`,
    r.pass ? "PASS" : "FAIL",
  ];
  return lines.join("\n");
}
