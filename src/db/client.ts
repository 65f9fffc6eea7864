// The database handle the domain code sees: run a named statement, or run several in one
// transaction. Backed by postgres.js for PostgreSQL, Citus and the embedded PGlite alike.
import postgres from "postgres";
import { isConnectionLost, isRetryable } from "./errors.ts";
import { loadQueries, type QueryName } from "./sql.ts";

export type Row = Record<string, unknown>;

export interface Queryable {
  run<T extends Row = Row>(name: QueryName, params: readonly unknown[]): Promise<T[]>;
}

/** Told of every statement's duration, by name: the labels of the query metrics. */
export type QueryObserver = (name: QueryName, seconds: number, ok: boolean) => void;

/**
 * A transaction as its work sees it. BEGIN goes out with the work's first statements (no
 * round trip of its own); COMMIT goes out when the work returns, or earlier, right behind
 * its last statements, when the work calls commit().
 */
export interface Transaction extends Queryable {
  /**
   * Sends COMMIT now, behind the statements already run, so that they and the COMMIT take
   * one round trip; the work then awaits their answers and returns. The transaction's
   * outcome stays transaction()'s: it resolves with the work's result once COMMIT is
   * answered (and looks the outcome up when that answer is late or lost), and rejects when
   * the database rolled back instead (a statement before COMMIT failed: the work sees its
   * error too). Throws when the transaction's bound has fired (nothing is sent then). The
   * work runs no statement after it (one would be refused), and nothing it does before
   * returning can undo the commit.
   */
  commit(): void;
}

export interface Database extends Queryable {
  /**
   * Runs fn in one transaction; retried (at most 3 tries) on serialization failure or
   * deadlock. A try that does not settle within the transaction limit, or whose connection
   * fails, rejects as unavailable (503) only once the transaction is known not to have
   * committed and never to commit; when it did commit, fn's result is returned.
   */
  transaction<T>(fn: (q: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(timeoutSeconds?: number): Promise<void>;
  /**
   * Calls fn with the install id of every change notification (changes.notify) committed
   * from now on, by any process; onListening is called each time the listener is (again)
   * in place, after which notifications sent while it was away are lost (a caller catches
   * up then). Resolves to the function that stops it.
   */
  listen(fn: (installId: string) => void, onListening?: () => void): Promise<() => Promise<void>>;
  /** Statements under way and the pool's size, for the pool metrics. */
  stats(): { inFlight: number; poolMax: number };
}

/** limitMs: this transaction's own bound per try, for the few that are long by design (an
 * import); every other one takes the service's (TRANSACTION_LIMIT_MS). readOnly: it writes
 * nothing (an export page), so it takes no transaction id and its outcome never needs
 * looking up: past the bound it is simply a 503. */
export type TransactionOptions = { limitMs?: number; readOnly?: boolean };

export type DatabaseOptions = {
  poolMax: number;
  prepare: boolean;
  /** Milliseconds one try of a transaction, or a statement on its own, may take
   * (default TRANSACTION_LIMIT_MS). */
  transactionLimitMs?: number;
  /**
   * The embedded database: PGlite delivers no notification raised in the socket's session
   * to a listener (tried: `db.listen` saw none), and it serves one connection. Its only
   * writer is this process (one owner per data folder), so notifications are delivered here,
   * in process, when the statement or transaction that sent them has committed.
   */
  localNotify?: boolean;
};

/**
 * A statement sent ahead (pipelined) of another that is awaited first. When the first fails
 * (a terminated connection fails both), this one is never awaited: marked handled here, so
 * its rejection does not end the process as an unhandled one. It is still awaited, and its
 * error seen, wherever the caller goes on to await it. Returns the same promise.
 */
export function sentAhead<T>(statement: Promise<T>): Promise<T> {
  statement.catch(() => {});
  return statement;
}

export const CHANGES_CHANNEL = "ext_storage_changes";

const TRIES = 3;

// How long one try of a transaction, or a statement run on its own, may take before the
// request is answered 503. Healthy write transactions take a few milliseconds (the fault
// test's eight clients complete about 2,000 writes a second). Under pg_terminate_backend of
// the pool's connections, about one transaction in a few hundred used to never settle inside
// the driver; patches/README.md has the cause, fixed in the driver patch. The bound stays for
// a database that accepts a connection and then stops answering.
const TRANSACTION_LIMIT_MS = 5_000;

// After a transaction was given up on with its COMMIT already sent: how long, and how
// often, its outcome is asked of the database before the answer is a 503 whose write may
// have committed (the one case the service cannot rule out: see docs/decisions.md).
const OUTCOME_WAIT_MS = 3_000;
const OUTCOME_POLL_MS = 50;
// A commit still in progress this long after it was sent is ended rather than awaited.
const OUTCOME_END_AFTER_MS = 1_000;

const UNBOUNDED: ReadonlySet<QueryName> = new Set([
  "ttl.sweep",
  "idempotency.sweep",
  "ttl.pending",
  "installs.reconcile",
  "records.canonical_pending",
  "changes.prune",
]);

const timeoutError = () =>
  Object.assign(new Error("the database did not answer in time"), { code: "TRANSACTION_TIMEOUT" });

const outcomeUnknown = () =>
  Object.assign(new Error("the outcome of a transaction could not be learnt"), { code: "TRANSACTION_OUTCOME_UNKNOWN" });

/** The bound as a promise of its own, so a caller can tell it fired and act before answering. */
function deadline(ms: number): { fired: Promise<never>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  fired.catch(() => {});
  return { fired, clear: () => clearTimeout(timer) };
}

function withinLimit<T>(work: Promise<T>, ms: number): Promise<T> {
  const limit = deadline(ms);
  return Promise.race([work, limit.fired]).finally(limit.clear);
}

// Failures of a try whose connection answered nothing at all (a pooled connection that had
// died while idle, say across a database restart): nothing of it reached the database.
const unanswered = new WeakSet<object>();

/** A transaction past its BEGIN: which backend runs it and its id, for looking it up. */
type Identity = { pid: number; xid: string };

// postgres.js declares an array parameter with its first element's type, so a boolean[]
// would be declared bool and refused ("cannot cast type boolean to boolean[]"). Its array
// helper declares it as an array.
const param = (sql: postgres.Sql, value: unknown): unknown =>
  Array.isArray(value) && value.some((v) => typeof v === "boolean") ? sql.array(value as boolean[]) : value;

/**
 * Settings every session of the service starts with (startup parameters, so they hold from
 * the first statement and override database and role defaults). plan_cache_mode: a DBA's
 * force_generic_plan makes Citus refuse nine of the service's statements ("could not create
 * distributed plan"): they are routed per install, and need plans made with its value.
 * PgBouncer refuses startup parameters it does not know, so with prepared statements off
 * (STORAGE_DB_PREPARE=false, the PgBouncer setting) only application_name is sent and the
 * role carries plan_cache_mode instead (docs/citus.md).
 */
export const SESSION_SETTINGS = { application_name: "ext-storage", plan_cache_mode: "auto" } as const;
const POOLER_SETTINGS = { application_name: SESSION_SETTINGS.application_name } as const;

export function connect(url: string, options: DatabaseOptions, observe?: QueryObserver): Database {
  const queries = loadQueries();
  const sql = postgres(url, {
    max: options.poolMax,
    prepare: options.prepare,
    onnotice: () => {},
    connect_timeout: 10,
    // Reconnect attempts after a lost connection. The driver's default backoff grows with
    // every failed attempt (about 7 s after six, up to 20 s), so after a one-second database
    // restart queued requests waited many seconds; capped, the pool is back within 250 ms
    // (test/integration/faults-db.test.ts).
    backoff: (retries: number) => Math.min(0.25, 0.01 * 2 ** retries),
    // int8 (revisions, counts) below 2^53 by contract: plain numbers, not strings
    types: {
      int8: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (s: string) => Number(s) },
    },
    connection: options.prepare ? { ...SESSION_SETTINGS } : { ...POOLER_SETTINGS },
  });

  // postgres.js queries are lazy: they start when first awaited. execute() starts them now,
  // so statements reach the server in the order they were run, which the pipelined write
  // transaction (records/pipeline.ts) relies on.
  let inFlight = 0;
  const listeners = new Set<(installId: string) => void>();
  const deliver = (ids: Iterable<string>) => {
    for (const id of ids) for (const fn of listeners) fn(id);
  };
  const runner = (tx: postgres.Sql | postgres.TransactionSql, notified?: Set<string>): Queryable => ({
    run: <T extends Row>(name: QueryName, params: readonly unknown[]) => {
      if (options.localNotify && name === "changes.notify") {
        // delivered when the transaction commits (attempt), or now for a statement alone
        if (notified !== undefined) notified.add(String(params[0]));
        else queueMicrotask(() => deliver([String(params[0])]));
        return Promise.resolve([] as T[]);
      }
      const started = performance.now();
      inFlight++;
      const done = (ok: boolean) => {
        inFlight--;
        observe?.(name, (performance.now() - started) / 1000, ok);
      };
      const query = tx
        .unsafe(
          queries[name],
          params.map((p) => param(sql, p)) as postgres.ParameterOrJSON<never>[],
          {
            prepare: options.prepare,
            // the driver sends a statement without parameters as a simple query, parsed and
            // planned again each time (transactions.identity, in every write): prepared like
            // the others, unless statements are not prepared at all (a pooler)
            ...(options.prepare ? { simple: false } : {}),
          } as postgres.UnsafeQueryOptions,
        )
        .execute() as unknown as Promise<T[]>;
      query.then(
        () => done(true),
        () => done(false),
      );
      return query;
    },
  });

  const standalone = runner(sql);
  const limitMs = options.transactionLimitMs ?? TRANSACTION_LIMIT_MS;

  /**
   * The outcome of a transaction whose COMMIT was sent but not answered (lost with its
   * connection, or past the bound): asked of the database until it is final. One still in
   * progress after a first look has its backend ended, which aborts it unless its commit
   * is already done. Resolves true (committed) or false (aborted); rejects when the
   * database could not say within OUTCOME_WAIT_MS.
   */
  async function committed(identified: Promise<Identity[]>): Promise<boolean> {
    const start = performance.now();
    // asked first in the transaction's pipeline, it has answered unless the connection was
    // lost before any answer came
    const [identity] = await withinLimit(identified, OUTCOME_POLL_MS).catch(() => []);
    if (identity === undefined) throw outcomeUnknown();
    while (performance.now() - start < OUTCOME_WAIT_MS) {
      try {
        const [row] = await withinLimit(
          standalone.run<{ status: string | null }>("transactions.outcome", [identity.xid]),
          limitMs,
        );
        if (row?.status === "committed") return true;
        if (row?.status === "aborted") return false;
        if (performance.now() - start > OUTCOME_END_AFTER_MS) {
          await withinLimit(standalone.run("transactions.end_backend", [identity.pid, identity.xid]), limitMs);
        }
      } catch {
        // the database is away as well: look again until the wait is over
      }
      await new Promise((resolve) => setTimeout(resolve, OUTCOME_POLL_MS));
    }
    throw outcomeUnknown();
  }

  /**
   * One try. The transaction's identity is asked first, in its pipeline. Once the bound
   * fires, fn's result can no longer be committed: the callback throws instead of returning
   * (or commit() refuses), so the driver rolls back rather than commits. Only when COMMIT was
   * already sent is the answer in doubt, and then the database is asked.
   */
  async function attempt<T>(fn: (q: Transaction) => Promise<T>, tryLimitMs: number, readOnly: boolean): Promise<T> {
    const notified = options.localNotify ? new Set<string>() : undefined;
    let givenUp = false;
    // set once COMMIT is sent: who the transaction is, to ask its outcome; fn's result once known
    let sent: { identity: Promise<Identity[]> } | undefined;
    let result: { value: T } | undefined;
    let answered = false;
    const work = sql.begin(readOnly ? "read only" : "", async (tx) => {
      const transactional = runner(tx, notified);
      const q: Queryable = {
        run: <T extends Row>(name: QueryName, params: readonly unknown[]) => {
          const statement = transactional.run<T>(name, params);
          statement.then(
            () => {
              answered = true;
            },
            () => {},
          );
          return statement;
        },
      };
      const identity = readOnly ? undefined : q.run<Identity>("transactions.identity", []);
      identity?.catch(() => {});
      const commit = () => {
        if (givenUp) throw timeoutError();
        if (identity !== undefined) sent = { identity };
        // the driver awaits it once the callback returns (patches/README.md)
        void (tx as unknown as { commit(): Promise<unknown> }).commit();
      };
      const value = await fn({ run: q.run, commit });
      result = { value };
      if (sent === undefined && identity !== undefined) {
        // COMMIT goes out when this callback returns
        await identity;
        if (givenUp) throw timeoutError();
        sent = { identity };
      }
      return value;
    });
    const limit = deadline(tryLimitMs);
    try {
      const value = (await Promise.race([work, limit.fired])) as T;
      if (notified !== undefined) deliver(notified);
      return value;
    } catch (error) {
      givenUp = true;
      work.catch(() => {});
      if (sent === undefined) {
        // no COMMIT was sent, and none will be
        if (!answered && typeof error === "object" && error !== null) unanswered.add(error);
        throw error;
      }
      if (await committed(sent.identity)) {
        if (notified !== undefined) deliver(notified);
        if (result !== undefined) return result.value;
        // committed, but the answers of its statements were lost with the connection
        throw outcomeUnknown();
      }
      throw error;
    } finally {
      limit.clear();
    }
  }

  return {
    // maintenance statements may run long by design (a sweeper batch on Citus, the
    // reconciliation over every install): only the request path's statements are bounded
    run: (name, params) =>
      UNBOUNDED.has(name) ? standalone.run(name, params) : withinLimit(standalone.run(name, params), limitMs),
    async transaction<T>(fn: (q: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
      for (let tries = 1; ; tries++) {
        try {
          return await attempt(fn, options?.limitMs ?? limitMs, options?.readOnly === true);
        } catch (error) {
          // a connection found gone before it answered anything: once more, on another
          // (pool connections that died while idle, e.g. across a database restart)
          const stale = tries === 1 && unanswered.has(error as object) && isConnectionLost(error);
          if (tries >= TRIES || !(isRetryable(error) || stale)) throw error;
        }
      }
    },
    close: (timeout = 5) => sql.end({ timeout }),
    async listen(fn, onListening) {
      if (options.localNotify) {
        listeners.add(fn);
        onListening?.();
        return async () => {
          listeners.delete(fn);
        };
      }
      // one dedicated connection (postgres.js keeps it apart from the pool and LISTENs again
      // after a reconnect, calling onListening each time)
      const listening = await sql.listen(CHANGES_CHANNEL, (payload) => fn(payload), onListening);
      return () => listening.unlisten();
    },
    stats: () => ({ inFlight, poolMax: options.poolMax }),
  };
}
