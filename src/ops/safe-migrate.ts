// The careful migration run for a live database (`db:migrate --safe`, `db:rollback --safe`).
// It reads the same files as dbmate and keeps dbmate's bookkeeping (schema_migrations, one
// row per applied version), but sends each statement on its own so that each one is bounded
// (lock_timeout, statement_timeout) and its lock wait is measured. dbmate sends a whole
// section as one query string, which allows neither.
import type postgres from "postgres";
import { adminConnection, appliedVersions, describeUrl } from "./connection.ts";
import { watchLockWait } from "./lock-wait.ts";
import { loadMigrations, type Migration, type Section, splitStatements } from "./migration-file.ts";

export type SafeOptions = {
  direction: "up" | "down";
  /** Longest wait for any one lock; past it the statement fails (55P03) and the migration is retried. */
  lockTimeoutMs: number;
  /** Longest run of any one statement. */
  statementTimeoutMs: number;
  /** Further attempts of a migration after a lock timeout; the wait doubles each time. */
  retries: number;
  backoffMs: number;
  /** How often the lock wait of the running statement is sampled. */
  pollMs: number;
  migrationsDir?: string;
  progress?: (line: string) => void;
};

export const SAFE_DEFAULTS = {
  lockTimeoutMs: 2000,
  statementTimeoutMs: 60_000,
  retries: 3,
  backoffMs: 1000,
  pollMs: 10,
} as const;

export type LockSession = {
  pid: number;
  applicationName: string;
  state: string | null;
  table: string;
  mode: string;
  granted: boolean;
  transactionMs: number | null;
  query: string;
};

export type StatementRecord = { index: number; statement: string; durationMs: number; lockWaitMs: number };

export type AttemptRecord = {
  version: string;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  outcome: "done" | "lock_timeout" | "failed";
  error?: string;
  statements: StatementRecord[];
};

export type ExecutionRecord = {
  command: "migrate" | "rollback";
  safe: true;
  database: string;
  settings: { lockTimeoutMs: number; statementTimeoutMs: number; retries: number; backoffMs: number };
  startedAt: string;
  finishedAt: string;
  preflight: { tables: string[]; sessions: LockSession[]; blockers: LockSession[] };
  /** Versions applied (migrate) or rolled back (rollback) by this run, in order. */
  versions: string[];
  attempts: AttemptRecord[];
  lockWaitMs: number;
  ok: boolean;
  error?: string;
};

/** The database a URL names, without its credentials: fit for a log or a record. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sqlstate = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** A statement on one line, comments dropped, short enough for a report. */
function summary(statement: string): string {
  const words = statement
    .replace(/--[^\n]*/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return words.length > 100 ? `${words.slice(0, 97)}...` : words;
}

export async function runSafe(url: string, options: SafeOptions): Promise<ExecutionRecord> {
  const startedAt = new Date().toISOString();
  const say = options.progress ?? (() => {});
  // one connection runs the migration, a second one watches it
  const sql = adminConnection(url, "migrate");
  const monitor = adminConnection(url, "migrate-monitor");
  const record: ExecutionRecord = {
    command: options.direction === "up" ? "migrate" : "rollback",
    safe: true,
    database: describeUrl(url),
    settings: {
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
    },
    startedAt,
    finishedAt: startedAt,
    preflight: { tables: [], sessions: [], blockers: [] },
    versions: [],
    attempts: [],
    lockWaitMs: 0,
    ok: false,
  };
  try {
    const todo = await plan(sql, options);
    const sections = todo.map((m) => (options.direction === "up" ? m.up : m.down));
    record.preflight = await preflight(monitor, sections, options.lockTimeoutMs);
    if (record.preflight.blockers.length > 0) {
      const who = record.preflight.blockers.map((s) => `pid ${s.pid} (${s.mode} on ${s.table})`).join(", ");
      throw new Error(`sessions hold or wait for locks on the target tables for too long: ${who}`);
    }
    if (todo.length === 0) say("nothing to do");
    for (const migration of todo) {
      await runWithRetries(sql, monitor, migration, options, record, say);
      record.versions.push(migration.version);
    }
    record.ok = true;
  } catch (error) {
    record.error = message(error);
  } finally {
    record.finishedAt = new Date().toISOString();
    record.lockWaitMs = record.attempts.reduce(
      (sum, a) => sum + a.statements.reduce((s, st) => s + st.lockWaitMs, 0),
      0,
    );
    await Promise.all([sql.end({ timeout: 5 }), monitor.end({ timeout: 5 })]);
  }
  return record;
}

/** The migrations to run: every pending one going up, the newest applied one going down (as dbmate does). */
async function plan(sql: postgres.Sql, options: SafeOptions): Promise<Migration[]> {
  const migrations = loadMigrations(options.migrationsDir);
  // dbmate's own bookkeeping table, created the way dbmate creates it
  if (options.direction === "up") {
    await sql`create table if not exists schema_migrations (version varchar not null primary key)`;
  }
  const applied = new Set(await appliedVersions(sql));
  if (options.direction === "up") return migrations.filter((m) => !applied.has(m.version));
  const last = [...applied].sort().at(-1);
  if (last === undefined) return [];
  const migration = migrations.find((m) => m.version === last);
  if (migration === undefined) throw new Error(`applied version ${last} has no migration file`);
  return [migration];
}

/**
 * Who holds or waits for a lock on the tables the migrations name. A session is a blocker
 * when it waits already, or when its transaction is older than our lock timeout: the first
 * statement taking an exclusive lock would queue behind it (and everything else behind us).
 */
async function preflight(monitor: postgres.Sql, sections: Section[], lockTimeoutMs: number) {
  const words = [...new Set(sections.flatMap((s) => s.sql.toLowerCase().match(/[a-z_][a-z0-9_$]*/g) ?? []))];
  const tables = (
    await monitor`
      select c.oid::regclass::text as name from pg_class c
      where c.relname = any(${[...words, "schema_migrations"]}) and c.relkind in ('r', 'p')
        and pg_table_is_visible(c.oid) and c.relnamespace <> 'pg_catalog'::regnamespace
      order by 1`
  ).map((r) => String(r.name));
  const rows = await monitor`
    select l.pid, coalesce(a.application_name, '') as application_name, a.state,
           l.relation::regclass::text as table, l.mode, l.granted,
           (extract(epoch from clock_timestamp() - a.xact_start) * 1000)::float8 as transaction_ms,
           left(coalesce(a.query, ''), 200) as query
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'relation'
      and l.database = (select oid from pg_database where datname = current_database())
      and l.relation::regclass::text = any(${tables})
      and l.pid <> pg_backend_pid()
    order by l.pid, l.relation::regclass::text`;
  const sessions: LockSession[] = rows.map((r) => ({
    pid: Number(r.pid),
    applicationName: String(r.application_name),
    state: r.state === null ? null : String(r.state),
    table: String(r.table),
    mode: String(r.mode),
    granted: Boolean(r.granted),
    transactionMs: r.transaction_ms === null ? null : Math.round(Number(r.transaction_ms)),
    query: String(r.query),
  }));
  const blockers = sessions.filter((s) => !s.granted || (s.transactionMs ?? 0) >= lockTimeoutMs);
  return { tables, sessions, blockers };
}

async function runWithRetries(
  sql: postgres.Sql,
  monitor: postgres.Sql,
  migration: Migration,
  options: SafeOptions,
  record: ExecutionRecord,
  say: (line: string) => void,
): Promise<void> {
  const section = options.direction === "up" ? migration.up : migration.down;
  const statements = splitStatements(section.sql);
  for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
    const entry: AttemptRecord = {
      version: migration.version,
      attempt,
      startedAt: new Date().toISOString(),
      finishedAt: "",
      outcome: "done",
      statements: [],
    };
    record.attempts.push(entry);
    say(`${migration.version} ${options.direction}, attempt ${attempt}: ${statements.length} statements`);
    try {
      await runSection(sql, monitor, migration.version, section, statements, options, entry, say);
      entry.finishedAt = new Date().toISOString();
      return;
    } catch (error) {
      entry.finishedAt = new Date().toISOString();
      entry.error = message(error);
      // 55P03 lock_not_available: lock_timeout fired. A transactional section was rolled back
      // whole, so running it again is safe; a non-transactional one only if nothing ran.
      const retryable = sqlstate(error) === "55P03" && (section.transaction || entry.statements.length === 0);
      entry.outcome = sqlstate(error) === "55P03" ? "lock_timeout" : "failed";
      if (!retryable || attempt > options.retries) throw error;
      const wait = options.backoffMs * 2 ** (attempt - 1);
      say(`  lock timeout (${entry.error}); retrying in ${wait} ms`);
      await sleep(wait);
    }
  }
}

async function runSection(
  sql: postgres.Sql,
  monitor: postgres.Sql,
  version: string,
  section: Section,
  statements: string[],
  options: SafeOptions,
  entry: AttemptRecord,
  say: (line: string) => void,
): Promise<void> {
  const body = async (tx: postgres.Sql | postgres.TransactionSql) => {
    const scope = section.transaction ? "local" : "session";
    // set_config(…, true) is SET LOCAL; false lasts for the session
    await tx`select set_config('lock_timeout', ${`${options.lockTimeoutMs}ms`}, ${scope === "local"}),
                    set_config('statement_timeout', ${`${options.statementTimeoutMs}ms`}, ${scope === "local"})`;
    const [{ pid }] = (await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    for (const [index, statement] of statements.entries()) {
      const started = performance.now();
      const watch = watchLockWait(monitor, Number(pid), options.pollMs, options.statementTimeoutMs);
      let lockWaitMs = 0;
      try {
        await tx.unsafe(statement);
      } finally {
        lockWaitMs = await watch.stop();
        const st = {
          index,
          statement: summary(statement),
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          lockWaitMs,
        };
        entry.statements.push(st);
        say(`  #${index + 1} ${st.durationMs} ms, lock wait ${st.lockWaitMs} ms: ${st.statement.slice(0, 60)}`);
      }
    }
    if (options.direction === "up") await tx`insert into schema_migrations (version) values (${version})`;
    else await tx`delete from schema_migrations where version = ${version}`;
  };
  if (section.transaction) {
    await sql.begin(body);
  } else {
    try {
      await body(sql);
    } finally {
      await sql`select set_config('lock_timeout', '0', false), set_config('statement_timeout', '0', false)`;
    }
  }
}
