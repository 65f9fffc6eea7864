// The database handle the domain code sees: run a named statement, or run several in one
// transaction. Backed by postgres.js for PostgreSQL, Citus and the embedded PGlite alike.
import postgres from "postgres";
import { isRetryable } from "./errors.ts";
import { loadQueries, type QueryName } from "./sql.ts";

export type Row = Record<string, unknown>;

export interface Queryable {
  run<T extends Row = Row>(name: QueryName, params: readonly unknown[]): Promise<T[]>;
}

/** Told of every statement's duration, by name: the labels of the query metrics. */
export type QueryObserver = (name: QueryName, seconds: number, ok: boolean) => void;

export interface Database extends Queryable {
  /** Runs fn in one transaction; retried (at most 3 tries) on serialization failure or
   * deadlock; a try that does not settle within TRANSACTION_LIMIT_MS fails as unavailable. */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(timeoutSeconds?: number): Promise<void>;
  /** Statements under way and the pool's size, for the pool metrics. */
  stats(): { inFlight: number; poolMax: number };
}

export type DatabaseOptions = { poolMax: number; prepare: boolean };

const TRIES = 3;

// How long one try of a transaction, or a statement run on its own, may take before the
// request is answered 503. Under pg_terminate_backend of the pool's connections mid-load,
// about one transaction in a few hundred that starts at that instant never settles inside
// the driver (all its statements answered or rejected, the transaction promise not), and a
// statement on its own can hang the same way (seen once in a CI run of the fault test):
// without a bound its request would wait forever and stall the drain on SIGTERM. Healthy
// write transactions take a few milliseconds (the fault test's eight clients complete about
// 2,000 writes a second).
export const TRANSACTION_LIMIT_MS = 5_000;

const UNBOUNDED: ReadonlySet<QueryName> = new Set(["ttl.sweep", "ttl.pending", "installs.reconcile"]);

function withinLimit<T>(work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error("the database did not answer in time"), { code: "TRANSACTION_TIMEOUT" })),
      TRANSACTION_LIMIT_MS,
    );
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

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
  // transaction (records/install.ts) relies on.
  let inFlight = 0;
  const runner = (tx: postgres.Sql | postgres.TransactionSql): Queryable => ({
    run: <T extends Row>(name: QueryName, params: readonly unknown[]) => {
      const started = performance.now();
      inFlight++;
      const done = (ok: boolean) => {
        inFlight--;
        observe?.(name, (performance.now() - started) / 1000, ok);
      };
      const query = tx
        .unsafe(queries[name], params.map((p) => param(sql, p)) as postgres.ParameterOrJSON<never>[], {
          prepare: options.prepare,
        })
        .execute() as unknown as Promise<T[]>;
      query.then(
        () => done(true),
        () => done(false),
      );
      return query;
    },
  });

  const standalone = runner(sql);
  return {
    // maintenance statements may run long by design (a sweeper batch on Citus, the
    // reconciliation over every install): only the request path's statements are bounded
    run: (name, params) =>
      UNBOUNDED.has(name) ? standalone.run(name, params) : withinLimit(standalone.run(name, params)),
    async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return (await withinLimit(sql.begin((tx) => fn(runner(tx))))) as T;
        } catch (error) {
          if (attempt >= TRIES || !isRetryable(error)) throw error;
        }
      }
    },
    close: (timeout = 5) => sql.end({ timeout }),
    stats: () => ({ inFlight, poolMax: options.poolMax }),
  };
}
