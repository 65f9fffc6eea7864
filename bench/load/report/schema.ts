// The JSON report's schema, version 1: the one definition of its shape (documented field by
// field in bench/README.md). Fields are only ever added; a change of meaning bumps
// schemaVersion, so regression tracking can compare any two reports of one version.
import { type Static, Type as t } from "@sinclair/typebox";

const num = t.Number();
const nullableNum = t.Union([t.Number(), t.Null()]);

export const Latency = t.Object({
  count: t.Integer({ minimum: 0 }),
  p50Ms: num,
  p95Ms: num,
  p99Ms: num,
  p999Ms: num,
  maxMs: num,
  meanMs: num,
});

export const Operation = t.Object({
  class: t.Union([t.Literal("read"), t.Literal("write"), t.Literal("other")]),
  ok: t.Integer({ minimum: 0 }),
  errors: t.Record(t.String(), t.Integer({ minimum: 0 })),
  latency: Latency,
});

export const VerdictSchema = t.Object({
  name: t.String(),
  metric: t.String(),
  threshold: num,
  value: nullableNum,
  ok: t.Boolean(),
});

const Spread = t.Object({
  perShard: t.Array(num),
  total: num,
  mean: num,
  max: num,
  maxMeanRatio: num,
});

export const SubScenario = t.Object({
  name: t.Union([t.Literal("crud-mix"), t.Literal("bulk-writes"), t.Literal("list-scans"), t.Literal("noisy")]),
  skipped: t.Union([t.String(), t.Null()]),
  measuredSeconds: num,
  offeredOpsPerSec: nullableNum,
  achievedOpsPerSec: num,
  warmupSamples: t.Integer({ minimum: 0 }),
  operations: t.Record(t.String(), Operation),
  classes: t.Object({ read: Latency, write: Latency, all: Latency }),
  errors: t.Record(t.String(), t.Integer({ minimum: 0 })),
  driverStartLagMs: t.Object({ p99Ms: num, maxMs: num }),
  checks: t.Array(t.Object({ name: t.String(), ok: t.Boolean(), detail: t.String() })),
  slos: t.Array(VerdictSchema),
  targets: t.Array(VerdictSchema),
  database: t.Object({
    deadlocks: t.Union([t.Object({ before: num, after: num, delta: num }), t.Null()]),
    shards: t.Object({
      count: t.Integer({ minimum: 1 }),
      method: t.String(),
      operations: Spread,
      rows: t.Union([t.Intersect([Spread, t.Object({ source: t.String() })]), t.Null()]),
    }),
  }),
  server: t.Object({
    rssMaxMiB: nullableNum,
    rssMeanMiB: nullableNum,
    /** least-squares slope over the second half of the run, MiB an hour (a leak shows here) */
    rssSlopeMiBPerHour: nullableNum,
    /** [seconds after warm-up, MiB], at most 720 points */
    rssTimeline: t.Array(t.Tuple([num, num])),
  }),
  /** per minute after warm-up: requests, errors, p99 of reads and writes */
  minutes: t.Array(
    t.Object({
      minute: t.Integer({ minimum: 0 }),
      count: num,
      errors: num,
      readP99Ms: nullableNum,
      writeP99Ms: nullableNum,
    }),
  ),
  /**
   * CPU of the whole run, in % of one core (200 = both of two cores busy): the machine, the
   * server (when the driver started it) and the driver. The rest of machinePercent is
   * PostgreSQL and anything else running: a busy machine makes latencies worse.
   */
  cpu: t.Object({
    cores: t.Integer(),
    machinePercent: num,
    serverPercent: nullableNum,
    driverPercent: num,
    loadAverage1m: num,
  }),
  /** one entry per measured second: per class the count and p50/p95/p99 */
  timeline: t.Array(
    t.Object({
      second: t.Integer({ minimum: 0 }),
      errors: t.Integer({ minimum: 0 }),
      read: t.Object({ count: num, p50Ms: num, p95Ms: num, p99Ms: num }),
      write: t.Object({ count: num, p50Ms: num, p95Ms: num, p99Ms: num }),
    }),
  ),
  /** non-empty histogram buckets per class: [lowMs, highMs, count] */
  histograms: t.Object({ read: t.Array(t.Array(num)), write: t.Array(t.Array(num)) }),
  verdict: t.Union([t.Literal("pass"), t.Literal("fail"), t.Literal("skipped")]),
});

export const ReportSchema = t.Object({
  schemaVersion: t.Literal(1),
  scenario: t.Literal("ext-storage"),
  startedAt: t.String(),
  finishedAt: t.String(),
  git: t.Object({ revision: t.String(), branch: t.String(), dirty: t.Boolean() }),
  command: t.String(),
  config: t.Record(t.String(), t.Unknown()),
  machine: t.Object({
    hostname: t.String(),
    os: t.String(),
    kernel: t.String(),
    arch: t.String(),
    cpus: t.Integer(),
    cpuModel: t.String(),
    memoryMiB: t.Integer(),
    bun: t.String(),
    postgres: t.Union([t.String(), t.Null()]),
  }),
  target: t.Object({ url: t.String(), mode: t.String() }),
  subScenarios: t.Array(SubScenario),
  verdict: t.Union([t.Literal("pass"), t.Literal("fail")]),
});

export type Report = Static<typeof ReportSchema>;
export type SubReport = Static<typeof SubScenario>;
export type LatencySummary = Static<typeof Latency>;
