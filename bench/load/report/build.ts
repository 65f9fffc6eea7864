// Turns what a run measured into the report (schema: report/schema.ts).
import { spawnSync } from "node:child_process";
import { cpus, hostname, arch as osArch, platform, release, totalmem } from "node:os";
import { type Histogram, mergeAll } from "../histogram.ts";
import type { Recorder } from "../recorder.ts";
import type { ScenarioResult } from "../scenarios/context.ts";
import { HASHTEXT_PLACEMENT, type Placement, type Spread, spread } from "../shards.ts";
import type { LatencySummary, Report, SubReport } from "./schema.ts";
import { type Thresholds, targets, verdicts } from "./slo.ts";

const ms = (micros: number) => Math.round(micros) / 1000;

export function summarize(h: Histogram): LatencySummary {
  return {
    count: h.count,
    p50Ms: ms(h.percentile(50)),
    p95Ms: ms(h.percentile(95)),
    p99Ms: ms(h.percentile(99)),
    p999Ms: ms(h.percentile(99.9)),
    maxMs: ms(h.count === 0 ? 0 : h.max),
    meanMs: ms(h.mean()),
  };
}

export type SubExtras = {
  name: SubReport["name"];
  deadlocks: { before: number; after: number } | undefined;
  rowsByInstall: Map<string, number> | undefined;
  rowsSource: string;
  /** [seconds after the warm-up, MiB] of the server, sampled once a second */
  rss: [number, number][];
  /** the cluster's own placement on Citus; hashtext over 32 shards otherwise */
  placement?: Placement;
  cpu: SubReport["cpu"];
  slos: Thresholds;
};

export function buildSub(recorder: Recorder, result: ScenarioResult, x: SubExtras): SubReport {
  const placement = x.placement ?? HASHTEXT_PLACEMENT;
  const read = recorder.classHistogram("read");
  const write = recorder.classHistogram("write");
  const all = mergeAll([read, write]);
  if (all.count === 0) all.add(recorder.classHistogram("other"));
  const { count, errors } = recorder.total();
  const operations: SubReport["operations"] = {};
  for (const [op, s] of [...recorder.ops].sort(([a], [b]) => a.localeCompare(b))) {
    operations[op] = { class: s.cls, ok: s.ok, errors: Object.fromEntries(s.errors), latency: summarize(s.hist) };
  }
  const seconds = result.measuredMs / 1000;
  const measured = {
    readP95Ms: read.count === 0 ? null : ms(read.percentile(95)),
    writeP95Ms: write.count === 0 ? null : ms(write.percentile(95)),
    operations: count,
    errors,
  };
  const mib = x.rss.map(([, m]) => m);
  const rssMax = mib.length === 0 ? null : Math.round(Math.max(...mib) * 10) / 10;
  const rssSlope = rssSlopeMiBPerHour(x.rss);
  const slos = verdicts(measured, x.slos);
  const checksOk = result.checks.every((c) => c.ok);
  const rows: (Spread & { source: string }) | null =
    x.rowsByInstall === undefined ? null : { ...spread(x.rowsByInstall, placement), source: x.rowsSource };
  const bucketsMs = (h: Histogram) => h.buckets().map(([lo, hi, n]) => [lo / 1000, hi / 1000, n]);
  const point = (h: Histogram) => ({
    count: h.count,
    p50Ms: ms(h.percentile(50)),
    p95Ms: ms(h.percentile(95)),
    p99Ms: ms(h.percentile(99)),
  });
  return {
    name: x.name,
    skipped: result.skipped ?? null,
    measuredSeconds: Math.round(seconds * 100) / 100,
    offeredOpsPerSec: result.offeredOpsPerSec === undefined ? null : Math.round(result.offeredOpsPerSec * 100) / 100,
    achievedOpsPerSec: seconds === 0 ? 0 : Math.round((count / seconds) * 100) / 100,
    warmupSamples: recorder.warmupSamples,
    operations,
    classes: { read: summarize(read), write: summarize(write), all: summarize(all) },
    errors: recorder.errorsByCode(),
    driverStartLagMs: { p99Ms: ms(recorder.startLag.percentile(99)), maxMs: ms(recorder.startLag.max) },
    checks: result.checks,
    slos,
    // the load targets are stated for crud-mix
    targets:
      x.name !== "crud-mix"
        ? []
        : targets({
            ...measured,
            p999Ms: all.count === 0 ? null : ms(all.percentile(99.9)),
            rssMaxMiB: rssMax,
            // a slope over less than ten minutes says more about warm-up than about leaks
            rssSlopeMiBPerHour: seconds >= 600 ? rssSlope : null,
          }),
    database: {
      deadlocks: x.deadlocks === undefined ? null : { ...x.deadlocks, delta: x.deadlocks.after - x.deadlocks.before },
      shards: {
        count: placement.count,
        method: placement.method,
        operations: spread(result.opsByInstall, placement),
        rows,
      },
    },
    server: {
      rssMaxMiB: rssMax,
      rssMeanMiB: mib.length === 0 ? null : Math.round((mib.reduce((a, b) => a + b, 0) / mib.length) * 10) / 10,
      rssSlopeMiBPerHour: rssSlope,
      rssTimeline: thin(x.rss, 720),
    },
    cpu: x.cpu,
    timeline: recorder.seconds.map((s, second) => ({
      second,
      errors: s.errors,
      read: point(s.read),
      write: point(s.write),
    })),
    minutes: perMinute(recorder),
    histograms: { read: bucketsMs(read), write: bucketsMs(write) },
    verdict:
      result.skipped !== undefined
        ? "skipped"
        : slos.every((v) => v.ok) && checksOk && (x.deadlocks === undefined || x.deadlocks.after === x.deadlocks.before)
          ? "pass"
          : "fail",
  };
}

/**
 * The least-squares slope of RSS over time, in MiB an hour, over the samples of the second
 * half of the run: the first half holds the warm-up of caches, pools and the JIT, whose
 * growth is not a leak. Null with fewer than ten samples there.
 */
export function rssSlopeMiBPerHour(samples: readonly (readonly [number, number])[]): number | null {
  const last = samples.at(-1)?.[0] ?? 0;
  const tail = samples.filter(([t]) => t >= last / 2);
  if (tail.length < 10) return null;
  const n = tail.length;
  const mt = tail.reduce((a, [t]) => a + t, 0) / n;
  const mm = tail.reduce((a, [, m]) => a + m, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, m] of tail) {
    num += (t - mt) * (m - mm);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : Math.round((num / den) * 3600 * 100) / 100;
}

/** At most `max` samples, evenly picked (the last one always kept), for the report's curve. */
function thin<T>(samples: readonly T[], max: number): T[] {
  if (samples.length <= max) return [...samples];
  const step = samples.length / max;
  const out = Array.from({ length: max - 1 }, (_, i) => samples[Math.floor(i * step)] as T);
  out.push(samples.at(-1) as T);
  return out;
}

/** Per minute after the warm-up: requests, errors and the p99 of each class. */
function perMinute(recorder: Recorder) {
  const out: { minute: number; count: number; errors: number; readP99Ms: number | null; writeP99Ms: number | null }[] =
    [];
  for (let start = 0; start < recorder.seconds.length; start += 60) {
    const secs = recorder.seconds.slice(start, start + 60);
    const read = mergeAll(secs.map((s) => s.read));
    const write = mergeAll(secs.map((s) => s.write));
    const other = mergeAll(secs.map((s) => s.other));
    out.push({
      minute: start / 60,
      count: read.count + write.count + other.count,
      errors: secs.reduce((a, s) => a + s.errors, 0),
      readP99Ms: read.count === 0 ? null : ms(read.percentile(99)),
      writeP99Ms: write.count === 0 ? null : ms(write.percentile(99)),
    });
  }
  return out;
}

const git = (...args: string[]) => spawnSync("git", args, { encoding: "utf8" }).stdout?.trim() ?? "";

export function gitInfo(): Report["git"] {
  return {
    revision: git("rev-parse", "HEAD") || "unknown",
    branch: git("rev-parse", "--abbrev-ref", "HEAD") || "unknown",
    dirty: git("status", "--porcelain", "--untracked-files=no") !== "",
  };
}

export function machineInfo(postgres: string | null): Report["machine"] {
  const cpu = cpus();
  return {
    hostname: hostname(),
    os: platform(),
    kernel: release(),
    arch: osArch(),
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    bun: Bun.version,
    postgres,
  };
}
