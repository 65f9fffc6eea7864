// What a run measured: per operation a latency histogram (from each request's scheduled
// time), errors by code, and per-second histograms per class for the timeline and the live
// progress line. Samples scheduled inside the warm-up are counted apart and left out.
import { Histogram, mergeAll } from "./histogram.ts";

export type OpClass = "read" | "write" | "other";

export type OpStats = { cls: OpClass; hist: Histogram; ok: number; errors: Map<string, number> };

export type Second = { read: Histogram; write: Histogram; other: Histogram; errors: number };

export class Recorder {
  readonly ops = new Map<string, OpStats>();
  readonly seconds: Second[] = [];
  warmupSamples = 0;
  /** how late the driver started requests after their scheduled time, µs (its own lag) */
  readonly startLag = new Histogram();

  constructor(
    readonly warmupMs: number,
    readonly classOf: (op: string) => OpClass,
  ) {}

  /**
   * One finished operation: scheduledMs and doneMs on the run's clock (ms since start),
   * code undefined when it succeeded.
   */
  record(op: string, scheduledMs: number, doneMs: number, code?: string): void {
    if (scheduledMs < this.warmupMs) {
      this.warmupSamples++;
      return;
    }
    const cls = this.classOf(op);
    let stats = this.ops.get(op);
    if (stats === undefined) {
      stats = { cls, hist: new Histogram(), ok: 0, errors: new Map() };
      this.ops.set(op, stats);
    }
    const latency = Math.max(0, doneMs - scheduledMs);
    stats.hist.recordMs(latency);
    if (code === undefined) stats.ok++;
    else stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);

    const s = Math.floor((scheduledMs - this.warmupMs) / 1000);
    for (let i = this.seconds.length; i <= s; i++) {
      this.seconds.push({ read: new Histogram(), write: new Histogram(), other: new Histogram(), errors: 0 });
    }
    const second = this.seconds[s] as Second;
    second[cls].recordMs(latency);
    if (code !== undefined) second.errors++;
  }

  classHistogram(cls: OpClass): Histogram {
    return mergeAll([...this.ops.values()].filter((s) => s.cls === cls).map((s) => s.hist));
  }

  total(): { count: number; errors: number } {
    let count = 0;
    let errors = 0;
    for (const s of this.ops.values()) {
      count += s.hist.count;
      for (const n of s.errors.values()) errors += n;
    }
    return { count, errors };
  }

  errorsByCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.ops.values()) for (const [code, n] of s.errors) out[code] = (out[code] ?? 0) + n;
    return out;
  }
}
