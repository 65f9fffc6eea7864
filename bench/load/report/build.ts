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
  rss: number[];
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
  const rssMax = x.rss.length === 0 ? null : Math.round(Math.max(...x.rss) * 10) / 10;
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
        : targets({ ...measured, p999Ms: all.count === 0 ? null : ms(all.percentile(99.9)), rssMaxMiB: rssMax }),
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
      rssMeanMiB: x.rss.length === 0 ? null : Math.round((x.rss.reduce((a, b) => a + b, 0) / x.rss.length) * 10) / 10,
    },
    cpu: x.cpu,
    timeline: recorder.seconds.map((s, second) => ({
      second,
      errors: s.errors,
      read: point(s.read),
      write: point(s.write),
    })),
    histograms: { read: bucketsMs(read), write: bucketsMs(write) },
    verdict:
      result.skipped !== undefined
        ? "skipped"
        : slos.every((v) => v.ok) && checksOk && (x.deadlocks === undefined || x.deadlocks.after === x.deadlocks.before)
          ? "pass"
          : "fail",
  };
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
