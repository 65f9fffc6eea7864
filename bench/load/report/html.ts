// The report as one self-contained HTML page: tables, and two charts per sub-scenario drawn
// as inline SVG (latency over time; latency by percentile), no scripts, no network.
import type { Report, SubReport } from "./schema.ts";

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

const W = 640;
const H = 260;
const M = { left: 56, right: 110, top: 14, bottom: 34 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

type Series = { label: string; points: [number, number][] };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

/** A line chart; xTicks are [value, label] pairs. */
function chart(title: string, series: Series[], xLabel: string, xTicks: [number, string][], xMax: number): string {
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (v: number) => M.left + (v / (xMax || 1)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${esc(+v.toPrecision(3))}</text>`,
    );
  }
  for (const [v, label] of xTicks) {
    parts.push(`<text x="${x(v)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${esc(label)}</text>`);
  }
  parts.push(
    `<text x="${(W - M.right + M.left) / 2}" y="${H - 4}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`,
    `<text x="12" y="${(H - M.bottom) / 2}" font-size="11" transform="rotate(-90 12 ${(H - M.bottom) / 2})" text-anchor="middle">ms</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.points.length > 0) {
      const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
    parts.push(
      `<rect x="${W - M.right + 10}" y="${M.top + i * 16}" width="10" height="10" fill="${color}"/>`,
      `<text x="${W - M.right + 24}" y="${M.top + i * 16 + 9}" font-size="11">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return `<figure><figcaption>${esc(title)}</figcaption>${parts.join("")}</figure>`;
}

/** Latency at each percentile from a histogram's buckets, x as log10(1 / (1 − p)). */
export function percentileCurve(buckets: number[][]): [number, number][] {
  const total = buckets.reduce((s, b) => s + (b[2] ?? 0), 0);
  const out: [number, number][] = [];
  let seen = 0;
  for (const [, hi, n] of buckets) {
    seen += n ?? 0;
    const p = seen / total;
    // the last sample sits at 1 − 1/total: that is as far as the data reaches
    out.push([Math.min(5, Math.log10(1 / Math.max(1 / total, 1e-5, 1 - p))), hi ?? 0]);
  }
  return out;
}

const PCT_TICKS: [number, string][] = [
  [0, "0%"],
  [1, "90%"],
  [2, "99%"],
  [3, "99.9%"],
  [4, "99.99%"],
  [5, "99.999%"],
];

function section(s: SubReport): string {
  const rows = Object.entries(s.operations)
    .map(
      ([op, o]) =>
        `<tr><td>${esc(op)}</td><td>${o.class}</td><td>${o.latency.count}</td><td>${Object.values(o.errors).reduce((a, b) => a + b, 0)}</td>` +
        `<td>${o.latency.p50Ms}</td><td>${o.latency.p95Ms}</td><td>${o.latency.p99Ms}</td><td>${o.latency.p999Ms}</td><td>${o.latency.maxMs}</td></tr>`,
    )
    .join("");
  const verdictRows = [
    ...s.checks.map((c) => ["check", c.name, c.ok, c.detail]),
    ...s.slos.map((v) => ["SLO", v.name, v.ok, v.value]),
    ...s.targets.map((v) => ["target", v.name, v.ok, v.value]),
  ]
    .map(
      ([kind, name, ok, detail]) =>
        `<tr class="${ok ? "ok" : "bad"}"><td>${kind}</td><td>${esc(name)}</td><td>${ok ? "ok" : "FAIL"}</td><td>${esc(detail ?? "–")}</td></tr>`,
    )
    .join("");
  const t = s.timeline;
  const overTime = chart(
    "latency over time (per second, from scheduled time)",
    [
      { label: "read p50", points: t.filter((p) => p.read.count > 0).map((p) => [p.second, p.read.p50Ms]) },
      { label: "read p95", points: t.filter((p) => p.read.count > 0).map((p) => [p.second, p.read.p95Ms]) },
      { label: "read p99", points: t.filter((p) => p.read.count > 0).map((p) => [p.second, p.read.p99Ms]) },
      { label: "write p50", points: t.filter((p) => p.write.count > 0).map((p) => [p.second, p.write.p50Ms]) },
      { label: "write p95", points: t.filter((p) => p.write.count > 0).map((p) => [p.second, p.write.p95Ms]) },
      { label: "write p99", points: t.filter((p) => p.write.count > 0).map((p) => [p.second, p.write.p99Ms]) },
    ],
    "seconds after warm-up",
    [0, 0.25, 0.5, 0.75, 1].map((f) => [
      Math.round(f * Math.max(1, t.length - 1)),
      String(Math.round(f * Math.max(1, t.length - 1))),
    ]),
    Math.max(1, t.length - 1),
  );
  const distribution = chart(
    "latency by percentile",
    [
      { label: "reads", points: percentileCurve(s.histograms.read) },
      { label: "writes", points: percentileCurve(s.histograms.write) },
    ],
    "percentile",
    PCT_TICKS,
    5,
  );
  const rssPoints = s.server.rssTimeline.map(([t, m]) => [t, m] as [number, number]);
  const lastSecond = Math.max(1, rssPoints.at(-1)?.[0] ?? 1);
  const rssCurve =
    rssPoints.length < 2
      ? ""
      : chart(
          `server RSS over time (MiB; slope over the second half ${s.server.rssSlopeMiBPerHour ?? "–"} MiB/h)`,
          [{ label: "RSS MiB", points: rssPoints }],
          "seconds after warm-up",
          [0, 0.25, 0.5, 0.75, 1].map((f) => [Math.round(f * lastSecond), String(Math.round(f * lastSecond))]),
          lastSecond,
        );
  const minuteRows =
    s.minutes.length < 2
      ? ""
      : `<table><tr><th>minute</th><th>requests</th><th>errors</th><th>read p99 ms</th><th>write p99 ms</th></tr>${s.minutes
          .map(
            (m) =>
              `<tr class="${m.errors === 0 ? "ok" : "bad"}"><td>${m.minute}</td><td>${m.count}</td><td>${m.errors}</td><td>${m.readP99Ms ?? "–"}</td><td>${m.writeP99Ms ?? "–"}</td></tr>`,
          )
          .join("")}</table>`;
  const shards = s.database.shards;
  return `<section><h2>${esc(s.name)} — ${esc(s.verdict)}${s.skipped ? ` (${esc(s.skipped)})` : ""}</h2>
<p>measured ${s.measuredSeconds} s; offered ${s.offeredOpsPerSec ?? "closed loop"} ops/s; achieved ${s.achievedOpsPerSec} ops/s;
deadlocks ${s.database.deadlocks === null ? "unknown" : s.database.deadlocks.delta};
shard spread (32) operations max/mean ${shards.operations.maxMeanRatio.toFixed(2)}${shards.rows === null ? "" : `, rows max/mean ${shards.rows.maxMeanRatio.toFixed(2)}`};
server RSS max ${s.server.rssMaxMiB ?? "unknown"} MiB</p>
<table><tr><th>operation</th><th>class</th><th>count</th><th>errors</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>${rows}</table>
<div class="charts">${overTime}${distribution}${rssCurve}</div>${minuteRows}
<table><tr><th></th><th>what</th><th></th><th>value</th></tr>${verdictRows}</table></section>`;
}

export function renderHtml(report: Report): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ext-storage load ${esc(report.startedAt)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,td:nth-child(2){text-align:left}tr.bad td{background:#fde8e8}tr.ok td:nth-child(3){color:#2a7a2a}figure{display:inline-block;margin:0 1em 1em 0}
figcaption{font-weight:600}code{background:#f4f4f4;padding:1px 4px}</style></head><body>
<h1>ext-storage load report: ${esc(report.verdict.toUpperCase())}</h1>
<p><code>${esc(report.command)}</code></p>
<p>${esc(report.startedAt)} → ${esc(report.finishedAt)}; git ${esc(report.git.revision)} (${esc(report.git.branch)}${report.git.dirty ? ", dirty" : ""});
${esc(report.target.mode)} at ${esc(report.target.url)}; ${report.machine.cpus} × ${esc(report.machine.cpuModel)}, ${report.machine.memoryMiB} MiB,
${esc(report.machine.os)} ${esc(report.machine.kernel)}, Bun ${esc(report.machine.bun)}, PostgreSQL ${esc(report.machine.postgres ?? "unknown")}</p>
${report.subScenarios.map(section).join("\n")}
</body></html>
`;
}
