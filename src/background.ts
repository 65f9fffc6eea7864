// Background work of one service instance, each task named, bounded and single-flight:
// - the scheduled TTL sweeper (TTL_SWEEP_INTERVAL_MS, off by default): bounded batches until
//   the backlog is drained or the interval's time is used; instances never contend, since
//   the SQL function skips when another holds its advisory lock;
// - the ttl_expired_rows_pending gauge (TTL_PENDING_REFRESH_MS): a bounded index-only count;
// - the idempotency sweeper (IDEMPOTENCY_SWEEP_INTERVAL_MS, every minute by default): expired
//   Idempotency-Key answers deleted in bounded batches, under its own advisory lock.
// - change retention (STORAGE_CHANGES_PRUNE_INTERVAL_MS): bounded batches deleting changes
//   older than STORAGE_CHANGES_RETENTION_SECONDS, under an advisory lock of its own (the SQL
//   function skips when another instance holds it).
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { announceChange } from "./records/changes.ts";
import { countPending, sweepBatch } from "./records/ttl.ts";

export type Background = { stop(): Promise<void> };

const MAX_BATCHES_PER_RUN = 50;

/** Runs fn every ms, never two at once; stop() waits for the one under way. */
function every(ms: number, fn: () => Promise<void>) {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = fn().finally(() => {
      running = undefined;
    });
  }, ms);
  timer.unref?.();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** One sweeper run: batches until a short one (the backlog is drained) or the budget is spent. */
export async function sweepOnce(db: Database, config: Config, metrics: Metrics, budgetMs: number): Promise<number> {
  const started = performance.now();
  let deleted = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN && performance.now() - started < budgetMs; batch++) {
    const rows = await sweepBatch(db, config.ttl.sweepMaxInstalls, config.ttl.sweepMaxRows);
    for (const row of rows) {
      metrics.countCleanup(
        "sweep",
        { tenantId: row.swept_tenant_id, extensionId: row.swept_extension_id ?? "" },
        row.deleted,
      );
      deleted += row.deleted;
      // each expired row is a change: the install's watchers read it
      if (row.deleted > 0) announceChange(db, row.swept_install_id);
    }
    metrics.countSweep(rows.length > 0 ? "swept" : "idle");
    const full = rows.length >= config.ttl.sweepMaxInstalls || rows.some((r) => r.deleted >= config.ttl.sweepMaxRows);
    if (!full) break;
  }
  return deleted;
}

/** One idempotency sweeper run: batches until a short one or the budget is spent. */
export async function sweepIdempotencyOnce(db: Database, config: Config, budgetMs: number): Promise<number> {
  const started = performance.now();
  let deleted = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN && performance.now() - started < budgetMs; batch++) {
    const rows = await db.run<{ swept_install_id: string; deleted: number }>("idempotency.sweep", [
      config.ttl.sweepMaxInstalls,
      config.ttl.sweepMaxRows,
    ]);
    for (const row of rows) deleted += row.deleted;
    const full = rows.length >= config.ttl.sweepMaxInstalls || rows.some((r) => r.deleted >= config.ttl.sweepMaxRows);
    if (!full) break;
  }
  return deleted;
}

const PRUNE_MAX_INSTALLS = 100;
const PRUNE_MAX_ROWS = 5_000;

/** One retention run: batches until a short one or the budget is spent. Returns the changes deleted. */
export async function pruneChangesOnce(db: Database, config: Config, budgetMs: number): Promise<number> {
  const started = performance.now();
  let deleted = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN && performance.now() - started < budgetMs; batch++) {
    const rows = await db.run<{ pruned_install_id: string; deleted: number }>("changes.prune", [
      config.changes.retentionSeconds,
      PRUNE_MAX_INSTALLS,
      PRUNE_MAX_ROWS,
    ]);
    for (const row of rows) deleted += row.deleted;
    const full = rows.length >= PRUNE_MAX_INSTALLS || rows.some((r) => r.deleted >= PRUNE_MAX_ROWS);
    if (!full) break;
  }
  return deleted;
}

export async function refreshPending(db: Database, config: Config, metrics: Metrics): Promise<number> {
  const pending = await countPending(db, config.ttl.pendingCountLimit);
  metrics.setPending(pending);
  return pending;
}

export function startBackground(db: Database, config: Config, metrics: Metrics, log: Logger): Background {
  const stops: Array<() => Promise<void>> = [];
  if (config.ttl.sweepIntervalMs > 0) {
    stops.push(
      every(config.ttl.sweepIntervalMs, async () => {
        try {
          const deleted = await sweepOnce(db, config, metrics, config.ttl.sweepIntervalMs);
          if (deleted > 0) log.info("ttl sweep", { deleted });
        } catch (error) {
          metrics.countSweep("failed");
          log.warn("ttl sweep failed", { error: (error as Error).message });
        }
      }),
    );
  }
  if (config.ttl.idempotencySweepIntervalMs > 0) {
    stops.push(
      every(config.ttl.idempotencySweepIntervalMs, async () => {
        try {
          const deleted = await sweepIdempotencyOnce(db, config, config.ttl.idempotencySweepIntervalMs);
          if (deleted > 0) log.info("idempotency sweep", { deleted });
        } catch (error) {
          log.warn("idempotency sweep failed", { error: (error as Error).message });
        }
      }),
    );
  }
  if (config.changes.pruneIntervalMs > 0) {
    stops.push(
      every(config.changes.pruneIntervalMs, async () => {
        try {
          const deleted = await pruneChangesOnce(db, config, config.changes.pruneIntervalMs);
          metrics.countPruned(deleted);
          if (deleted > 0) log.info("change retention", { deleted });
        } catch (error) {
          log.warn("change retention failed", { error: (error as Error).message });
        }
      }),
    );
  }
  if (config.ttl.pendingRefreshMs > 0) {
    const refresh = async () => {
      try {
        await refreshPending(db, config, metrics);
      } catch (error) {
        log.warn("ttl backlog count failed", { error: (error as Error).message });
      }
    };
    void refresh();
    stops.push(every(config.ttl.pendingRefreshMs, refresh));
  }
  return {
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
