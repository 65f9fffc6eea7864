// Every environment variable the service reads is read here, once, and validated.

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
  }>;
  db: Readonly<{ poolMax: number; prepare: boolean }>;
  ttl: Readonly<{
    listSweepEvery: number;
    sweepIntervalMs: number;
    sweepMaxInstalls: number;
    sweepMaxRows: number;
    pendingRefreshMs: number;
    pendingCountLimit: number;
  }>;
  metricsToken: string | undefined;
  /** browser origins allowed to call the API (CORS): a list, any origin, or none (no CORS headers) */
  corsOrigins: "*" | readonly string[] | undefined;
  idleTimeoutSeconds: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}>;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

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

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

export function loadConfig(env: Env = process.env): Config {
  const secret = env.STORAGE_JWT_SECRET || undefined;
  if (secret !== undefined && new TextEncoder().encode(secret).length < 32) {
    throw new ConfigError("STORAGE_JWT_SECRET must be at least 32 bytes");
  }
  const logLevel = (env.LOG_LEVEL || "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  }
  return Object.freeze({
    port: int(env, "PORT", 3000, 0, 65535),
    host: env.HOST || "0.0.0.0",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.STORAGE_DATA_DIR || "./.data",
    jwt: Object.freeze({
      secret,
      audience: env.STORAGE_JWT_AUDIENCE || "ext-storage",
      issuer: env.STORAGE_JWT_ISSUER || undefined,
    }),
    limits: Object.freeze({
      maxValueBytes: int(env, "STORAGE_MAX_VALUE_BYTES", 65_536, 1),
      maxBodyBytes: int(env, "STORAGE_MAX_BODY_BYTES", 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      // an install import's NDJSON body, which is read whole before anything is written
      maxImportBytes: int(env, "STORAGE_MAX_IMPORT_BYTES", 256 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
      maxBulkItems: int(env, "STORAGE_MAX_BULK_ITEMS", 500, 1, 10_000),
      maxBulkKeys: int(env, "STORAGE_MAX_BULK_KEYS", 1000, 1, 10_000),
      maxListLimit: int(env, "STORAGE_MAX_LIST_LIMIT", 1000, 1, 10_000),
      // UTF-8 bytes of a namespace schema's JSON
      maxSchemaBytes: int(env, "STORAGE_MAX_SCHEMA_BYTES", 65_536, 2, 16 * 1024 * 1024),
      // record bytes (size_bytes) in one list page or bulk-get answer; at least one record is sent
      maxPageBytes: int(env, "STORAGE_MAX_PAGE_BYTES", 4 * 1024 * 1024, 1),
      quotaBytes: int(env, "STORAGE_QUOTA_BYTES", 32 * 1024 * 1024, 0),
      quotaRecords: int(env, "STORAGE_QUOTA_RECORDS", 50_000, 0),
      // requests per install per second, burst twice that (0: no limit)
      rateLimit: int(env, "STORAGE_RATE_LIMIT", 100, 0, 1_000_000),
      // tokens a process leases at a time from the deployment's shared bucket (0: a tenth of
      // the rate, at least one)
      rateLimitLease: int(env, "STORAGE_RATE_LIMIT_LEASE", 0, 0, 1_000_000),
    }),
    db: Object.freeze({
      poolMax: int(env, "STORAGE_DB_POOL_MAX", 10, 1, 1000),
      // off for PgBouncer in transaction mode, which cannot keep prepared statements
      prepare: bool(env, "STORAGE_DB_PREPARE", true),
    }),
    ttl: Object.freeze({
      // every Nth list also sweeps its whole install (0: never)
      listSweepEvery: int(env, "TTL_LIST_SWEEP_EVERY", 100, 0),
      // the scheduled sweeper (0: off)
      sweepIntervalMs: int(env, "TTL_SWEEP_INTERVAL_MS", 0, 0),
      sweepMaxInstalls: int(env, "TTL_SWEEP_MAX_INSTALLS", 100, 1, 100_000),
      sweepMaxRows: int(env, "TTL_SWEEP_MAX_ROWS", 1000, 1, 1_000_000),
      // the ttl_expired_rows_pending gauge (0: never refreshed)
      pendingRefreshMs: int(env, "TTL_PENDING_REFRESH_MS", 15_000, 0),
      pendingCountLimit: int(env, "TTL_PENDING_COUNT_LIMIT", 1_000_000, 1),
    }),
    metricsToken: env.METRICS_TOKEN || undefined,
    corsOrigins: corsOrigins(env),
    // a connection idle this long (a stalled or slow client) is closed by the server
    idleTimeoutSeconds: int(env, "STORAGE_IDLE_TIMEOUT_SECONDS", 10, 1, 255),
    logLevel: logLevel as Config["logLevel"],
  });
}
