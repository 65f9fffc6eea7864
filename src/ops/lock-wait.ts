// How long a backend waits for locks while one statement runs, measured from a second
// session: the number `db:migrate --safe` reports for every statement.
import type postgres from "postgres";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tenths = (x: number) => Math.round(x * 10) / 10;

/**
 * Samples pg_locks for `pid` every `pollMs` until stopped. pg_locks.waitstart says when a
 * wait began (server clock), so a wait is measured from its start to the first sample that
 * no longer shows it: exact at the start, late by at most one polling interval at the end.
 * The statement watched is bounded by its statement timeout, and so is the sampling.
 */
export function watchLockWait(monitor: postgres.Sql, pid: number, pollMs: number, boundMs: number) {
  let running = true;
  let total = 0;
  let open: number | undefined; // start of the wait in progress, server epoch ms
  const sample = async () => {
    const [row] = await monitor`
      select (extract(epoch from clock_timestamp()) * 1000)::float8 as at,
             (extract(epoch from min(coalesce(waitstart, clock_timestamp()))) * 1000)::float8 as waitstart
      from pg_locks where pid = ${pid} and not granted`;
    const at = Number(row?.at);
    const waitstart = row?.waitstart == null ? undefined : Number(row.waitstart);
    if (open !== undefined && waitstart !== open) {
      total += at - open;
      open = undefined;
    }
    if (waitstart !== undefined && open === undefined) open = waitstart;
  };
  const deadline = Date.now() + boundMs + 5000;
  const loop = (async () => {
    while (running && Date.now() < deadline) {
      await sample();
      await sleep(pollMs);
    }
  })();
  return {
    /** Ends the sampling after one last look, and returns the total wait in milliseconds. */
    async stop(): Promise<number> {
      running = false;
      await loop.catch(() => {});
      await sample().catch(() => {});
      if (open !== undefined) total += Math.max(0, Date.now() - open);
      return tenths(total);
    },
  };
}
