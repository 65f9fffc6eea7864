// The longest lock wait anyone saw while the migration ran: pg_locks sampled every 50 ms on a
// session of its own, each waiting lock's age from its waitstart (PostgreSQL 14+). A wait
// is keyed by backend and waitstart, so one long wait is one entry however many samples
// see it; a wait shorter than the interval may be missed or seen short by up to 50 ms (the
// migration's own record measures its statements' waits every 10 ms, and the report takes
// the larger of the two).
import postgres from "postgres";

export type LockWait = {
  pid: number;
  applicationName: string;
  ms: number;
  mode: string;
  query: string;
  /** application_name of the sessions it waited for (pg_blocking_pids) when last seen */
  blockedBy: string[];
};

/** db:migrate's sessions (src/ops/connection.ts names them ext-storage-migrate…) */
export const isMigration = (applicationName: string) => applicationName.startsWith("ext-storage-migrate");

/** A wait the migration took part in: its own statement's, or a request's queued behind it. */
export const migrationWait = (w: LockWait) => isMigration(w.applicationName) || w.blockedBy.some(isMigration);

export type LockSampler = {
  /** stops sampling; the waits seen, longest first */
  stop(): Promise<{ samples: number; waits: LockWait[] }>;
};

export function sampleLockWaits(url: string, intervalMs = 50, boundMs = 3_600_000): LockSampler {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: "ext-storage-bench-locks" },
  });
  const seen = new Map<string, LockWait>();
  let samples = 0;
  let running = true;
  const deadline = Date.now() + boundMs;
  const loop = (async () => {
    // bounded by the deadline whatever the caller does
    while (running && Date.now() < deadline) {
      const started = Date.now();
      const rows = await sql`
        select l.pid, coalesce(a.application_name, '') as app, l.mode, l.waitstart::text as since,
               extract(epoch from clock_timestamp() - l.waitstart) * 1000 as ms, left(coalesce(a.query, ''), 100) as query,
               array(select coalesce(b.application_name, '') from pg_stat_activity b
                     where b.pid = any(pg_blocking_pids(l.pid))) as blocked_by
        from pg_locks l left join pg_stat_activity a on a.pid = l.pid
        where not l.granted and l.waitstart is not null and l.pid <> pg_backend_pid()`.catch(() => []);
      samples++;
      for (const r of rows) {
        const key = `${r.pid}@${r.since}`;
        const ms = Number(r.ms);
        const prev = seen.get(key);
        if (prev === undefined || ms > prev.ms) {
          seen.set(key, {
            pid: r.pid,
            applicationName: r.app,
            ms,
            mode: r.mode,
            query: r.query,
            blockedBy: r.blocked_by,
          });
        }
      }
      await Bun.sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await sql.end({ timeout: 5 });
      return { samples, waits: [...seen.values()].sort((a, b) => b.ms - a.ms) };
    },
  };
}
