// The report as a plain-text table for the terminal.
import type { Report, SubReport } from "./schema.ts";

const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n));
const f = (n: number | null) => (n === null ? "–" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function subTable(s: SubReport): string {
  const lines: string[] = [];
  const head = `${s.name}${s.skipped ? ` (skipped: ${s.skipped})` : ""}: ${s.verdict.toUpperCase()}`;
  lines.push(head, "-".repeat(Math.min(100, head.length)));
  lines.push(
    `measured ${s.measuredSeconds} s, offered ${s.offeredOpsPerSec ?? "closed loop"} ops/s, achieved ${s.achievedOpsPerSec} ops/s` +
      ` (warm-up samples left out: ${s.warmupSamples}; driver start lag p99 ${s.driverStartLagMs.p99Ms} ms)`,
  );
  const cols = ["operation", "class", "count", "errors", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms"];
  const widths = [12, 6, 8, 7, 8, 8, 8, 9, 9];
  const row = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] ?? 8, i >= 2)).join("  ");
  lines.push(row(cols));
  const entries: [string, string, SubReport["classes"]["all"], number][] = [
    ...Object.entries(s.operations).map(
      ([op, o]) =>
        [op, o.class, o.latency, Object.values(o.errors).reduce((a, b) => a + b, 0)] as [
          string,
          string,
          SubReport["classes"]["all"],
          number,
        ],
    ),
    ["[reads]", "", s.classes.read, 0],
    ["[writes]", "", s.classes.write, 0],
  ];
  for (const [op, cls, l, errors] of entries) {
    if (l.count === 0) continue;
    lines.push(
      row([
        op,
        cls,
        String(l.count),
        op.startsWith("[") ? "" : String(errors),
        f(l.p50Ms),
        f(l.p95Ms),
        f(l.p99Ms),
        f(l.p999Ms),
        f(l.maxMs),
      ]),
    );
  }
  const errors = Object.entries(s.errors);
  lines.push(`errors by code: ${errors.length === 0 ? "none" : errors.map(([c, n]) => `${c} ${n}`).join(", ")}`);
  for (const c of s.checks) lines.push(`check  ${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
  for (const v of s.slos) lines.push(`SLO    ${v.ok ? "ok  " : "FAIL"}  ${v.name}: ${f(v.value)}`);
  for (const v of s.targets) lines.push(`target ${v.ok ? "met " : "miss"}  ${v.name}: ${f(v.value)}`);
  const d = s.database;
  lines.push(
    `deadlocks: ${d.deadlocks === null ? "unknown (no DATABASE_URL)" : d.deadlocks.delta}; ` +
      `shards (32): operations max/mean ${d.shards.operations.maxMeanRatio.toFixed(2)}` +
      (d.shards.rows === null
        ? ""
        : `, rows max/mean ${d.shards.rows.maxMeanRatio.toFixed(2)} (${d.shards.rows.source})`),
  );
  lines.push(
    `server RSS: ${s.server.rssMaxMiB === null ? "unknown (not started by the driver)" : `max ${s.server.rssMaxMiB} MiB, mean ${s.server.rssMeanMiB} MiB, slope ${s.server.rssSlopeMiBPerHour ?? "–"} MiB/h (second half)`}`,
    ...(s.minutes.length < 2
      ? []
      : [
          `per minute (requests / errors / read p99 / write p99 ms): ${s.minutes
            .map((m) => `${m.minute}: ${m.count}/${m.errors}/${m.readP99Ms ?? "–"}/${m.writeP99Ms ?? "–"}`)
            .join("  ")}`,
        ]),
  );
  lines.push(
    `CPU (% of one core, ${s.cpu.cores} cores): machine ${s.cpu.machinePercent}, server ${s.cpu.serverPercent ?? "?"}, ` +
      `driver ${s.cpu.driverPercent}; load average ${s.cpu.loadAverage1m}`,
  );
  return lines.join("\n");
}

export function renderTable(report: Report): string {
  const head =
    `ext-storage load: ${report.target.mode} at ${report.target.url}, git ${report.git.revision.slice(0, 12)}` +
    `${report.git.dirty ? " (dirty)" : ""}, ${report.machine.cpus} × ${report.machine.cpuModel}`;
  return [head, ...report.subScenarios.map(subTable), `verdict: ${report.verdict.toUpperCase()}`].join("\n\n");
}
