// CPU time of a call, for the figures the contract states in CPU ("50 ms of CPU"): this
// process's user + system time, not the wall clock, so other processes on a shared machine
// do not count. Used by the hostile-corpus run (Bun and Deno) and the schema compile bench.

/** CPU milliseconds of a synchronous call, the least of three runs. */
export function cpuMs(run: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}
