// Every environment variable the service reads is read here, once, and validated against
// one TypeBox schema (ENV below): its type, bounds, default and meaning. The README's
// configuration table is rendered from it (configTable; test/unit/config.test.ts keeps the
// README equal to it).
import { type TInteger, type TSchema, Type as t } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export type Config = Readonly<{
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  jwt: Readonly<{ secret: string | undefined; audience: string; issuer: string | undefined }>;
  limits: Readonly<{
    maxValueBytes: number;
    maxBodyBytes: number;
    maxImportBytes: number;
    maxBulkItems: number;
    maxBulkKeys: number;
    maxListLimit: number;
    maxSchemaBytes: number;
    maxPageBytes: number;
    quotaBytes: number;
    quotaRecords: number;
    rateLimit: number;
    rateLimitLease: number;
    workLimitBytes: number;
    idempotencyTtlSeconds: number;
  }>;
  db: Readonly<{ poolMax: number; prepare: boolean }>;
  ttl: Readonly<{
    listSweepEvery: number;
    sweepIntervalMs: number;
    sweepMaxInstalls: number;
    sweepMaxRows: number;
    pendingRefreshMs: number;
    pendingCountLimit: number;
    idempotencySweepIntervalMs: number;
  }>;
  changes: Readonly<{ retentionSeconds: number; pruneIntervalMs: number }>;
  watch: Readonly<{
    buffer: number;
    maxPerInstall: number;
    maxStreams: number;
    pollMs: number;
    heartbeatMs: number;
    retryMs: number;
  }>;
  metricsToken: string | undefined;
  /** browser origins allowed to call the API (CORS): a list, any origin, or none (no CORS headers) */
  corsOrigins: "*" | readonly string[] | undefined;
  idleTimeoutSeconds: number;
  /** server processes sharing the port; 0: one per CPU (src/workers.ts) */
  workers: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}>;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

// an integer with no stated maximum is still at most Number.MAX_SAFE_INTEGER
const intVar = (fallback: number, minimum: number, maximum: number | undefined, description: string) =>
  t.Integer({ default: fallback, minimum, maximum: maximum ?? Number.MAX_SAFE_INTEGER, description });
const textVar = (fallback: string | undefined, description: string) =>
  fallback === undefined ? t.Optional(t.String({ description })) : t.String({ default: fallback, description });

/** The environment the service reads, in the README's order. */
export const ENV = t.Object({
  PORT: intVar(3000, 0, 65535, "HTTP port"),
  HOST: textVar("0.0.0.0", "address to listen on"),
  DATABASE_URL: textVar(undefined, "PostgreSQL or Citus coordinator; unset means the embedded PGlite database"),
  STORAGE_DATA_DIR: textVar("./.data", "where the embedded database and development secret live"),
  STORAGE_JWT_SECRET: textVar(undefined, "HS256 secret, at least 32 bytes; required when `DATABASE_URL` is set"),
  STORAGE_JWT_AUDIENCE: textVar("ext-storage", "required `aud` of every token"),
  STORAGE_JWT_ISSUER: textVar(undefined, "when set, required `iss`"),
  STORAGE_CORS_ORIGINS: textVar(
    undefined,
    "CORS: exact browser origins, comma-separated, or `*`; unset: no CORS headers",
  ),
  STORAGE_MAX_VALUE_BYTES: intVar(65_536, 1, undefined, "largest value (UTF-8 bytes of its JSON)"),
  STORAGE_MAX_BODY_BYTES: intVar(8 * 1024 * 1024, 1024, 1024 * 1024 * 1024, "largest request body"),
  STORAGE_MAX_IMPORT_BYTES: intVar(
    256 * 1024 * 1024,
    1024,
    4 * 1024 * 1024 * 1024,
    "largest install import (NDJSON body of the admin import route)",
  ),
  STORAGE_MAX_BULK_ITEMS: intVar(500, 1, 10_000, "items in one bulk-put"),
  STORAGE_MAX_BULK_KEYS: intVar(1000, 1, 10_000, "keys in one bulk-get or bulk-delete"),
  STORAGE_MAX_LIST_LIMIT: intVar(1000, 1, 10_000, "largest list page"),
  STORAGE_MAX_PAGE_BYTES: intVar(
    4 * 1024 * 1024,
    1,
    undefined,
    "record bytes (`size_bytes`) in one list page or bulk-get answer; at least one record",
  ),
  STORAGE_MAX_SCHEMA_BYTES: intVar(65_536, 2, 16 * 1024 * 1024, "largest namespace schema (UTF-8 bytes of its JSON)"),
  STORAGE_QUOTA_BYTES: intVar(32 * 1024 * 1024, 0, undefined, "per-install bytes quota"),
  STORAGE_QUOTA_RECORDS: intVar(50_000, 0, undefined, "per-install records quota"),
  STORAGE_RATE_LIMIT: intVar(
    100,
    0,
    1_000_000,
    "requests per install per second, whole deployment (token bucket, burst 2×); `0`: off",
  ),
  STORAGE_RATE_LIMIT_LEASE: intVar(
    0,
    0,
    1_000_000,
    "tokens a process leases from the shared bucket at a time; `0`: a tenth of the rate",
  ),
  STORAGE_WORK_LIMIT_BYTES: intVar(
    256 * 1024,
    0,
    undefined,
    "work per install and process, bytes a second (1 ms of validation = 16 KiB); `0`: off",
  ),
  STORAGE_IDEMPOTENCY_TTL_SECONDS: intVar(
    86_400,
    1,
    31_536_000,
    "how long a write's answer is kept for its `Idempotency-Key`",
  ),
  STORAGE_WORKERS: intVar(
    0,
    0,
    256,
    "server processes sharing the port (`reusePort`), `/metrics` summing them all; `0`: one per CPU; `1`: one process; the embedded database always runs one",
  ),
  STORAGE_DB_POOL_MAX: intVar(
    10,
    1,
    1000,
    "connections to PostgreSQL, per server process (the embedded database always uses 1)",
  ),
  STORAGE_DB_PREPARE: t.Boolean({
    default: true,
    description: "prepared statements; `false` behind PgBouncer in transaction mode",
  }),
  STORAGE_IDLE_TIMEOUT_SECONDS: intVar(
    10,
    1,
    255,
    "a connection idle (or stalled mid-request) this long is closed; 1–255",
  ),
  TTL_LIST_SWEEP_EVERY: intVar(
    100,
    0,
    undefined,
    "every Nth list also sweeps its whole install's expired rows; `0`: never",
  ),
  TTL_SWEEP_INTERVAL_MS: intVar(0, 0, undefined, "the scheduled sweeper's interval; `0`: off"),
  TTL_SWEEP_MAX_INSTALLS: intVar(100, 1, 100_000, "installs one sweeper batch visits"),
  TTL_SWEEP_MAX_ROWS: intVar(1000, 1, 1_000_000, "expired rows one sweeper batch deletes per install"),
  IDEMPOTENCY_SWEEP_INTERVAL_MS: intVar(
    60_000,
    0,
    undefined,
    "how often expired `Idempotency-Key` answers are deleted (bounded batches, like the TTL sweeper); `0`: off",
  ),
  TTL_PENDING_REFRESH_MS: intVar(
    15_000,
    0,
    undefined,
    "how often the `ttl_expired_rows_pending` gauge is recounted; `0`: never",
  ),
  TTL_PENDING_COUNT_LIMIT: intVar(
    1_000_000,
    1,
    undefined,
    "the gauge's count stops there (a bounded index-only count)",
  ),
  STORAGE_CHANGES_RETENTION_SECONDS: intVar(
    604_800,
    60,
    undefined,
    "how long the change feed keeps a change; an older cursor is 410 `CURSOR_EXPIRED`",
  ),
  STORAGE_CHANGES_PRUNE_INTERVAL_MS: intVar(
    60_000,
    0,
    undefined,
    "how often old changes are deleted (bounded batches, one instance at a time); `0`: never",
  ),
  STORAGE_WATCH_BUFFER: intVar(
    256,
    1,
    100_000,
    "events a watch stream may hold for a slow client; past it the stream is closed (the client resumes)",
  ),
  STORAGE_MAX_WATCHERS_PER_INSTALL: intVar(16, 1, 10_000, "open watch streams per install in one process; beyond: 429"),
  // about 10–12 KiB a stream (10,000 streams took 97–119 MiB, bench/README.md): 20,000 is ~200–240 MiB
  STORAGE_WATCH_MAX_STREAMS: intVar(
    20_000,
    1,
    undefined,
    "open watch streams in one process, all installs together (about 10 KiB each); beyond: 503 with `Retry-After`",
  ),
  STORAGE_WATCH_POLL_MS: intVar(
    1_000,
    10,
    60_000,
    "how often watched installs are polled for changes a notification did not announce (Citus workers, a lost listener)",
  ),
  STORAGE_WATCH_HEARTBEAT_MS: intVar(15_000, 100, 15_000, "a comment line on every idle watch stream this often"),
  STORAGE_WATCH_RETRY_MS: intVar(2_000, 0, 600_000, "the reconnection delay a watch stream suggests (`retry:`)"),
  METRICS_TOKEN: textVar(undefined, "when set, `/metrics` needs `Authorization: Bearer <METRICS_TOKEN>`"),
  LOG_LEVEL: t.Union(
    LOG_LEVELS.map((level) => t.Literal(level)),
    {
      default: "info",
      description: "`debug`, `info`, `warn`, `error`, `silent`; JSON lines on stderr (probes log at `debug`)",
    },
  ),
});

type Name = keyof typeof ENV.properties;
type IntName = { [K in Name]: (typeof ENV.properties)[K] extends TInteger ? K : never }[Name];

const schemaOf = (name: Name): TSchema & { default?: unknown; minimum?: number; maximum?: number } =>
  ENV.properties[name];

function int(env: Env, name: IntName): number {
  const schema = schemaOf(name);
  const raw = env[name];
  if (raw === undefined || raw === "") return schema.default as number;
  const n = Number(raw);
  if (!Value.Check(schema, n)) {
    throw new ConfigError(`${name} must be an integer from ${schema.minimum} to ${schema.maximum}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: "STORAGE_DB_PREPARE"): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return schemaOf(name).default as boolean;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** A text variable, or its default; an empty one counts as unset. */
const str = (env: Env, name: Name): string => env[name] || (schemaOf(name).default as string);
/** A text variable without a default; an empty one counts as unset. */
const optional = (env: Env, name: Name): string | undefined => env[name] || undefined;

// an origin as a browser sends it: lowercase scheme and host, an optional port, nothing after
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

function corsOrigins(env: Env): Config["corsOrigins"] {
  const raw = env.STORAGE_CORS_ORIGINS?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (raw === "*") return "*";
  const origins = raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const origin of origins) {
    if (!ORIGIN.test(origin)) {
      throw new ConfigError(
        `STORAGE_CORS_ORIGINS must be * or a comma-separated list of origins as browsers send them (lowercase, no path or trailing slash, e.g. https://app.example or chrome-extension://<id>), got "${origin}"`,
      );
    }
  }
  return Object.freeze(origins);
}

/** The README's configuration table: one row per variable of ENV, columns aligned. */
export function configTable(): string {
  const rows = Object.entries(ENV.properties).map(([name, schema]) => {
    const fallback = (schema as { default?: unknown }).default;
    return [`\`${name}\``, fallback === undefined ? "unset" : `\`${String(fallback)}\``, schema.description ?? ""];
  });
  const all = [["variable", "default", "meaning"], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(all[0] as string[]), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function loadConfig(env: Env = process.env): Config {
  const secret = optional(env, "STORAGE_JWT_SECRET");
  if (secret !== undefined && new TextEncoder().encode(secret).length < 32) {
    throw new ConfigError("STORAGE_JWT_SECRET must be at least 32 bytes");
  }
  const logLevel = str(env, "LOG_LEVEL").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  }
  return Object.freeze({
    port: int(env, "PORT"),
    host: str(env, "HOST"),
    databaseUrl: optional(env, "DATABASE_URL"),
    dataDir: str(env, "STORAGE_DATA_DIR"),
    jwt: Object.freeze({
      secret,
      audience: str(env, "STORAGE_JWT_AUDIENCE"),
      issuer: optional(env, "STORAGE_JWT_ISSUER"),
    }),
    limits: Object.freeze({
      maxValueBytes: int(env, "STORAGE_MAX_VALUE_BYTES"),
      maxBodyBytes: int(env, "STORAGE_MAX_BODY_BYTES"),
      // an install import's NDJSON body, which is read whole before anything is written
      maxImportBytes: int(env, "STORAGE_MAX_IMPORT_BYTES"),
      maxBulkItems: int(env, "STORAGE_MAX_BULK_ITEMS"),
      maxBulkKeys: int(env, "STORAGE_MAX_BULK_KEYS"),
      maxListLimit: int(env, "STORAGE_MAX_LIST_LIMIT"),
      // UTF-8 bytes of a namespace schema's JSON
      maxSchemaBytes: int(env, "STORAGE_MAX_SCHEMA_BYTES"),
      // record bytes (size_bytes) in one list page or bulk-get answer; at least one record is sent
      maxPageBytes: int(env, "STORAGE_MAX_PAGE_BYTES"),
      quotaBytes: int(env, "STORAGE_QUOTA_BYTES"),
      quotaRecords: int(env, "STORAGE_QUOTA_RECORDS"),
      // requests per install per second, burst twice that (0: no limit)
      rateLimit: int(env, "STORAGE_RATE_LIMIT"),
      // tokens a process leases at a time from the deployment's shared bucket (0: a tenth of
      // the rate, at least one)
      rateLimitLease: int(env, "STORAGE_RATE_LIMIT_LEASE"),
      // bytes of work per install per second in this process (0: no limit); see work-budget.ts
      workLimitBytes: int(env, "STORAGE_WORK_LIMIT_BYTES"),
      // seconds a write's answer is kept under its Idempotency-Key
      idempotencyTtlSeconds: int(env, "STORAGE_IDEMPOTENCY_TTL_SECONDS"),
    }),
    db: Object.freeze({
      poolMax: int(env, "STORAGE_DB_POOL_MAX"),
      // off for PgBouncer in transaction mode, which cannot keep prepared statements
      prepare: bool(env, "STORAGE_DB_PREPARE"),
    }),
    ttl: Object.freeze({
      // every Nth list also sweeps its whole install (0: never)
      listSweepEvery: int(env, "TTL_LIST_SWEEP_EVERY"),
      // the scheduled sweeper (0: off)
      sweepIntervalMs: int(env, "TTL_SWEEP_INTERVAL_MS"),
      sweepMaxInstalls: int(env, "TTL_SWEEP_MAX_INSTALLS"),
      sweepMaxRows: int(env, "TTL_SWEEP_MAX_ROWS"),
      // the ttl_expired_rows_pending gauge (0: never refreshed)
      pendingRefreshMs: int(env, "TTL_PENDING_REFRESH_MS"),
      pendingCountLimit: int(env, "TTL_PENDING_COUNT_LIMIT"),
      // the idempotency sweeper (0: off); its batches take TTL_SWEEP_MAX_INSTALLS/_ROWS
      idempotencySweepIntervalMs: int(env, "IDEMPOTENCY_SWEEP_INTERVAL_MS"),
    }),
    changes: Object.freeze({
      retentionSeconds: int(env, "STORAGE_CHANGES_RETENTION_SECONDS"),
      pruneIntervalMs: int(env, "STORAGE_CHANGES_PRUNE_INTERVAL_MS"),
    }),
    watch: Object.freeze({
      buffer: int(env, "STORAGE_WATCH_BUFFER"),
      maxPerInstall: int(env, "STORAGE_MAX_WATCHERS_PER_INSTALL"),
      maxStreams: int(env, "STORAGE_WATCH_MAX_STREAMS"),
      pollMs: int(env, "STORAGE_WATCH_POLL_MS"),
      heartbeatMs: int(env, "STORAGE_WATCH_HEARTBEAT_MS"),
      retryMs: int(env, "STORAGE_WATCH_RETRY_MS"),
    }),
    metricsToken: optional(env, "METRICS_TOKEN"),
    corsOrigins: corsOrigins(env),
    // a connection idle this long (a stalled or slow client) is closed by the server
    idleTimeoutSeconds: int(env, "STORAGE_IDLE_TIMEOUT_SECONDS"),
    workers: int(env, "STORAGE_WORKERS"),
    logLevel: logLevel as Config["logLevel"],
  });
}
