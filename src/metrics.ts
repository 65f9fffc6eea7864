// Prometheus metrics. Every label's values are bounded by construction: route templates,
// status classes, contract error codes, query names, cleanup triggers, and tenant/extension
// ids hashed into HASH_BUCKETS buckets each, so no input can grow the number of series.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import client from "prom-client";
import type { Database } from "./db/client.ts";
import type { QueryName } from "./db/sql.ts";
import type { ErrorCode } from "./errors.ts";

export const CLEANUP_TRIGGERS = ["get", "list", "bulk_get", "put", "bulk_put", "quota", "sampling", "sweep"] as const;
export type CleanupTrigger = (typeof CLEANUP_TRIGGERS)[number];

export const HASH_BUCKETS = 16;

/** An id's bucket, "00" to "0f": FNV-1a of its UTF-16 code units, modulo HASH_BUCKETS. */
export function hashBucket(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h % HASH_BUCKETS).toString(16).padStart(2, "0");
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics() {
  const registry = new client.Registry();
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry });

  const cleanup = new client.Counter({
    name: "ttl_cleanup_deletes_total",
    help: "Expired rows deleted, by what deleted them; tenant and extension ids are hashed into buckets",
    labelNames: ["tenant_hash", "extension_hash", "trigger"] as const,
    registers,
  });
  const pending = new client.Gauge({
    name: "ttl_expired_rows_pending",
    help: "Expired rows not yet deleted (a bounded count, refreshed on an interval)",
    registers,
    // every worker counts the same rows: /metrics shows one count, not their sum
    aggregator: "max",
  });
  const requests = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route template, method and status class",
    labelNames: ["route", "method", "status_class"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const rejections = new client.Counter({
    name: "storage_rejections_total",
    help: "Requests refused, by contract error code (QUOTA_EXCEEDED, REVISION_MISMATCH, SCHEMA_VIOLATION, …)",
    labelNames: ["code"] as const,
    registers,
  });
  const queries = new client.Histogram({
    name: "db_query_duration_seconds",
    help: "Duration of each named SQL statement",
    labelNames: ["query", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const sweeps = new client.Counter({
    name: "ttl_sweeper_runs_total",
    help: "Scheduled sweeper batches, by outcome (swept, idle: nothing to sweep or another instance sweeping, failed)",
    labelNames: ["outcome"] as const,
    registers,
  });
  let openStreams: () => number = () => 0;
  new client.Gauge({
    name: "watch_streams_open",
    help: "Watch streams (GET /v1/watch) open in this process",
    registers,
    collect() {
      this.set(openStreams());
    },
  });
  const streamsEnded = new client.Counter({
    name: "watch_streams_ended_total",
    help: "Watch streams the server ended, by why (drain, purge, slow: its buffer was full, failed, reset: its cursor expired)",
    labelNames: ["reason"] as const,
    registers,
  });
  const pruned = new client.Counter({
    name: "changes_pruned_total",
    help: "Change feed rows deleted by retention (STORAGE_CHANGES_RETENTION_SECONDS)",
    registers,
  });
  let database: Database | undefined;
  new client.Gauge({
    name: "db_pool_queries_in_flight",
    help: "SQL statements under way",
    registers,
    collect() {
      this.set(database?.stats().inFlight ?? 0);
    },
  });
  new client.Gauge({
    name: "db_pool_size",
    help: "Connections the pool may open",
    registers,
    collect() {
      this.set(database?.stats().poolMax ?? 0);
    },
  });

  // STORAGE_WORKERS > 1: the directory where every worker serves its registry as JSON
  let shared: { dir: string; path: string; server: { stop(force?: boolean): unknown } } | undefined;

  return {
    registry,
    /**
     * With several workers: serves this registry as JSON on `<dir>/<index>.sock`, so that
     * /metrics, on whichever worker answers it, sums every worker's (text()).
     */
    share(dir: string, index: number) {
      const server = Bun.serve({
        unix: join(dir, `${index}.sock`),
        fetch: async () => Response.json(await registry.getMetricsAsJSON()),
      });
      shared = { dir, server, path: join(dir, `${index}.sock`) };
    },
    unshare() {
      shared?.server.stop(true);
      if (shared !== undefined) rmSync(shared.path, { force: true });
    },
    /** The Prometheus text of /metrics: this process's, or with workers all of theirs summed
     * (a worker that does not answer within a second is left out, and counted). */
    async text(): Promise<string> {
      if (shared === undefined) return registry.metrics();
      const dir = shared.dir;
      const sockets = readdirSync(dir).filter((name) => name.endsWith(".sock"));
      const answers = await Promise.all(
        sockets.map((name) =>
          fetch("http://workers/metrics", { unix: join(dir, name), signal: AbortSignal.timeout(1000) } as RequestInit)
            .then((res) => (res.ok ? (res.json() as Promise<object[]>) : undefined))
            .catch(() => undefined),
        ),
      );
      const found = answers.filter((a): a is object[] => a !== undefined);
      const summed = client.AggregatorRegistry.aggregate(found);
      const missing = sockets.length - found.length;
      return `${await summed.metrics()}# HELP storage_workers_reporting Server processes whose metrics are summed here
# TYPE storage_workers_reporting gauge
storage_workers_reporting ${found.length}
# HELP storage_workers_silent Server processes that did not answer for this scrape
# TYPE storage_workers_silent gauge
storage_workers_silent ${missing}
`;
    },
    watchDatabase(db: Database) {
      database = db;
    },
    countCleanup(trigger: CleanupTrigger, who: { tenantId: string; extensionId: string }, n: number) {
      if (n > 0)
        cleanup.inc({ tenant_hash: hashBucket(who.tenantId), extension_hash: hashBucket(who.extensionId), trigger }, n);
    },
    setPending(n: number) {
      pending.set(n);
    },
    observeRequest(route: string, method: string, status: number, seconds: number) {
      requests.observe({ route, method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
    },
    countRejection(code: ErrorCode) {
      rejections.inc({ code });
    },
    observeQuery(name: QueryName, seconds: number, ok: boolean) {
      queries.observe({ query: name, outcome: ok ? "ok" : "error" }, seconds);
    },
    countSweep(outcome: "swept" | "idle" | "failed") {
      sweeps.inc({ outcome });
    },
    /** the open watch streams, read at each scrape */
    watchStreams(count: () => number) {
      openStreams = count;
    },
    countStreamEnd(reason: "drain" | "purge" | "slow" | "failed" | "reset") {
      streamsEnded.inc({ reason });
    },
    countPruned(n: number) {
      if (n > 0) pruned.inc(n);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
