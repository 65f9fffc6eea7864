// The load report: its schema, the SLO verdicts that decide the exit code, and the renderers.
import { describe, expect, test } from "bun:test";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { stepHeld } from "../../bench/load/find-max.ts";
import { parseOptions } from "../../bench/load/options.ts";
import { progressLine } from "../../bench/load/progress.ts";
import { Recorder } from "../../bench/load/recorder.ts";
import { buildSub, rssSlopeMiBPerHour } from "../../bench/load/report/build.ts";
import { renderHtml } from "../../bench/load/report/html.ts";
import { ReportSchema } from "../../bench/load/report/schema.ts";
import { ROLLOUT_SLOS, verdicts } from "../../bench/load/report/slo.ts";
import { renderTable } from "../../bench/load/report/table.ts";
import { assemble } from "../../bench/load/run.ts";
import type { Target } from "../../bench/load/server.ts";

const target: Target = {
  url: "http://127.0.0.1:1",
  secret: "s",
  audience: "a",
  mode: "external",
  pid: undefined,
  stop: async () => {},
};

function sampleReport(slowWrites = false) {
  const classes: Record<string, "read" | "write"> = { get: "read", put: "write" };
  const recorder = new Recorder(1000, (op) => classes[op] ?? "other");
  recorder.record("get", 500, 510); // in the warm-up: left out
  for (let i = 0; i < 1000; i++) {
    const t = 1000 + i * 3;
    recorder.record("get", t, t + 2 + (i % 10) / 10);
    recorder.record("put", t, t + (slowWrites ? 300 : 4), i === 7 ? "REVISION_MISMATCH" : undefined);
  }
  const sub = buildSub(
    recorder,
    {
      offeredOpsPerSec: 666,
      measuredMs: 3000,
      checks: [{ name: "c", ok: true, detail: "d" }],
      opsByInstall: new Map([
        ["i-1", 10],
        ["i-2", 5],
      ]),
    },
    {
      name: "crud-mix",
      deadlocks: { before: 3, after: 3 },
      rowsByInstall: new Map([["i-1", 4]]),
      rowsSource: "database",
      rss: [
        [1, 80],
        [2, 90],
      ],
      cpu: { cores: 2, machinePercent: 100, serverPercent: 40, driverPercent: 10, loadAverage1m: 1 },
      slos: ROLLOUT_SLOS,
    },
  );
  const o = parseOptions(["--sub", "crud-mix"], {});
  return assemble(o, "bun run load --sub crud-mix", new Date().toISOString(), target, "15.14", [sub]);
}

describe("load report", () => {
  test("a built report matches the documented schema (version 1)", () => {
    const report = sampleReport();
    const check = TypeCompiler.Compile(ReportSchema);
    expect([...check.Errors(report)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
    const sub = report.subScenarios[0];
    expect(sub?.warmupSamples).toBe(1);
    expect(sub?.operations.put?.errors).toEqual({ REVISION_MISMATCH: 1 });
    expect(sub?.classes.read.count).toBe(1000);
    // 100 samples each of 2.0, 2.1 … 2.9 ms: the 500th is 2.4 ms, reported within its 16 µs bucket
    expect(sub?.classes.read.p50Ms).toBeCloseTo(2.41, 1);
    expect(sub?.database.deadlocks).toEqual({ before: 3, after: 3, delta: 0 });
    expect(sub?.database.shards.operations.total).toBe(15);
    expect(sub?.server.rssMaxMiB).toBe(90);
    expect(JSON.stringify(report)).not.toContain('"secret"');
  });

  test("SLO verdicts: p95 under the threshold passes, at or over fails; the error budget is a share", () => {
    const v = verdicts({ readP95Ms: 149.9, writeP95Ms: 250, operations: 1000, errors: 1 }, ROLLOUT_SLOS);
    expect(v.map((x) => x.ok)).toEqual([true, false, true]);
    const over = verdicts({ readP95Ms: 1, writeP95Ms: 1, operations: 1000, errors: 2 }, ROLLOUT_SLOS);
    expect(over.map((x) => x.ok)).toEqual([true, true, false]);
    expect(
      verdicts({ readP95Ms: null, writeP95Ms: null, operations: 0, errors: 0 }, ROLLOUT_SLOS).every((x) => x.ok),
    ).toBe(true);
  });

  test("the verdict follows the SLOs (and so the exit code)", () => {
    expect(sampleReport(false).verdict).toBe("pass");
    const slow = sampleReport(true);
    expect(slow.verdict).toBe("fail");
    expect(slow.subScenarios[0]?.slos.find((s) => s.metric === "write.p95Ms")?.ok).toBe(false);
  });

  test("the terminal table and the HTML page show the numbers; the page needs no network", () => {
    const report = sampleReport();
    const table = renderTable(report);
    expect(table).toContain("crud-mix: PASS");
    expect(table).toMatch(/get\s+read\s+1000\s+0/);
    const html = renderHtml(report);
    // latency over time, latency by percentile, and the server's RSS over time
    expect(html.match(/<svg /g)?.length).toBe(3);
    expect(html).toContain("server RSS over time");
    expect(html).toContain("<path d=");
    // nothing loaded from elsewhere: no scripts, links or remote URLs besides the SVG namespace
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
    expect(html.replaceAll("http://www.w3.org/2000/svg", "").replaceAll(target.url, "")).not.toMatch(/https?:\/\//);
  });

  test("find-max: a step holds only within the SLOs, with its checks, at ≥ 95 % of the offered rate", () => {
    const sub = sampleReport().subScenarios[0];
    if (sub === undefined) throw new Error("no sub-scenario");
    // the sample achieved 666 of 666 offered ops/s over 3 s
    expect(stepHeld({ ...sub, offeredOpsPerSec: 666, achievedOpsPerSec: 666 })).toEqual({ ok: true, why: "held" });
    expect(stepHeld({ ...sub, offeredOpsPerSec: 1000, achievedOpsPerSec: 900 }).why).toContain("not sustained");
    expect(stepHeld(sampleReport(true).subScenarios[0] ?? sub).why).toContain("SLO broken");
    expect(stepHeld({ ...sub, checks: [{ name: "dropped", ok: false, detail: "" }] }).why).toContain("check failed");
  });

  test("the live line: elapsed, ops/s and p95 of the last full second, errors so far", () => {
    const recorder = new Recorder(0, (op) => (op === "get" ? "read" : "write"));
    for (let i = 0; i < 100; i++) recorder.record("get", i * 10, i * 10 + 3); // second 0
    recorder.record("put", 1000, 1010, "INTERNAL"); // second 1, still filling
    expect(progressLine("crud-mix", recorder, 1500)).toBe(
      "crud-mix 1 s | 100 ops/s | p95 read 3.0 ms write – | 101 ops, 1 errors",
    );
  });
});

describe("soak figures", () => {
  test("the RSS slope is taken over the second half of the run, in MiB an hour", () => {
    // warm-up growth in the first half (ignored), then a steady leak of 1 MiB a minute
    const samples: [number, number][] = [];
    for (let t = 0; t <= 1200; t += 10) samples.push([t, t < 600 ? 50 + t / 10 : 110 + (t - 600) / 60]);
    expect(rssSlopeMiBPerHour(samples)).toBeCloseTo(60, 1);
    const flat: [number, number][] = samples.map(([t]) => [t, t < 600 ? 50 + t / 10 : 110]);
    expect(rssSlopeMiBPerHour(flat)).toBe(0);
    expect(rssSlopeMiBPerHour(samples.slice(0, 5))).toBeNull();
  });

  test("a report carries the RSS curve, its slope and the p99 of each minute", () => {
    const sub = sampleReport().subScenarios[0];
    expect(sub?.server.rssTimeline).toEqual([
      [1, 80],
      [2, 90],
    ]);
    expect(sub?.server.rssSlopeMiBPerHour).toBeNull(); // two samples say nothing
    expect(sub?.minutes.length).toBeGreaterThan(0);
    expect(sub?.minutes[0]).toMatchObject({ minute: 0 });
  });
});
