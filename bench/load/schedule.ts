// Open-loop arrivals: request i is due at i / rate seconds, whatever happened to the ones
// before it, and its latency is measured from that due time, not from when it was sent.
// A slow server therefore shows up as latency (the queue it causes is counted), instead of
// quietly slowing the driver down (coordinated omission).
//
// At most maxInFlight requests run at once; the rest wait in the driver's queue, still on
// the clock. When that queue passes maxQueued, the oldest waiting request is dropped and
// counted as a DRIVER_OVERLOAD error: the run is then beyond what it can measure honestly.

export type Task = { op: string; run: () => Promise<string | undefined> };

export type OpenLoopOptions = {
  ratePerSec: number;
  durationMs: number;
  maxInFlight: number;
  maxQueued?: number;
  /** how long to wait for stragglers after the last arrival, ms */
  graceMs?: number;
  /** builds arrival i's task when it is due (undefined: nothing to do this time) */
  next: (i: number) => Task | undefined;
  /** a finished (or dropped) task: times in ms since the run's start */
  done: (op: string, scheduledMs: number, doneMs: number, code: string | undefined, startedMs: number) => void;
  /** ms since start, for tests; performance.now() based by default */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  shouldStop?: () => boolean;
};

/** Arrival i's due time in ms since the start. */
export const dueAt = (i: number, ratePerSec: number) => (i * 1000) / ratePerSec;

/** How many arrivals a run of durationMs at ratePerSec has. */
export const arrivals = (ratePerSec: number, durationMs: number) => Math.ceil((durationMs * ratePerSec) / 1000);

export type OpenLoopResult = { scheduled: number; dropped: number; abandoned: number; elapsedMs: number };

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const t0 = performance.now();
  const clock = o.clock ?? (() => performance.now() - t0);
  const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms));
  const maxQueued = o.maxQueued ?? Math.max(1000, o.maxInFlight * 20);
  const total = arrivals(o.ratePerSec, o.durationMs);
  const queue: { task: Task; due: number }[] = [];
  let inFlight = 0;
  let dropped = 0;
  let settle: (() => void) | undefined;

  const start = (task: Task, due: number) => {
    inFlight++;
    const startedMs = clock();
    task
      .run()
      .catch((error: unknown) => `DRIVER_ERROR:${(error as Error)?.name ?? "unknown"}`)
      .then((code) => {
        inFlight--;
        o.done(task.op, due, clock(), code, startedMs);
        const waiting = queue.shift();
        if (waiting !== undefined) start(waiting.task, waiting.due);
        if (inFlight === 0 && queue.length === 0) settle?.();
      });
  };

  let i = 0;
  // bounded: one pass per millisecond at most, and the run ends at its last arrival
  while (i < total && !o.shouldStop?.()) {
    const now = clock();
    while (i < total && dueAt(i, o.ratePerSec) <= now) {
      const due = dueAt(i, o.ratePerSec);
      const task = o.next(i);
      i++;
      if (task === undefined) continue;
      if (inFlight < o.maxInFlight) start(task, due);
      else {
        queue.push({ task, due });
        if (queue.length > maxQueued) {
          const oldest = queue.shift();
          if (oldest !== undefined) {
            dropped++;
            o.done(oldest.task.op, oldest.due, clock(), "DRIVER_OVERLOAD", clock());
          }
        }
      }
    }
    if (i < total) await sleep(Math.max(0, Math.min(dueAt(i, o.ratePerSec) - clock(), 50)));
  }

  // drain, bounded by the grace period
  if (inFlight > 0 || queue.length > 0) {
    await Promise.race([
      new Promise<void>((resolve) => {
        settle = resolve;
      }),
      sleep(o.graceMs ?? 10_000),
    ]);
  }
  const abandoned = inFlight + queue.length;
  for (const w of queue.splice(0)) o.done(w.task.op, w.due, clock(), "DRIVER_TIMEOUT", clock());
  return { scheduled: i, dropped, abandoned, elapsedMs: clock() };
}
