// The report as InfluxDB line protocol, and a push to an InfluxDB 1.x /write endpoint.
// One point per operation and per class of each sub-scenario, tagged so that runs of one
// configuration line up: measurement ext_storage_load, all at the run's end time.
import type { Report } from "./schema.ts";

/** Escapes a measurement name (commas, spaces). */
const measurement = (s: string) => s.replace(/[, ]/g, "\\$&");
/** Escapes a tag key, tag value or field key (commas, equals signs, spaces). */
const tag = (s: string) => s.replace(/[,= ]/g, "\\$&");
/** A string field value: in double quotes, with quotes and backslashes escaped. */
export const stringField = (s: string) => `"${s.replace(/[\\"]/g, "\\$&")}"`;

type Field = number | string | boolean | { int: number };

export function line(
  name: string,
  tags: Record<string, string>,
  fields: Record<string, Field>,
  timeNs: bigint,
): string {
  const tagPart = Object.entries(tags)
    .filter(([, v]) => v !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${tag(k)}=${tag(v)}`)
    .join("");
  const fieldPart = Object.entries(fields)
    .map(([k, v]) => {
      const value =
        typeof v === "string"
          ? stringField(v)
          : typeof v === "boolean"
            ? String(v)
            : typeof v === "number"
              ? Number.isFinite(v)
                ? String(v)
                : "0"
              : `${Math.trunc(v.int)}i`;
      return `${tag(k)}=${value}`;
    })
    .join(",");
  return `${measurement(name)}${tagPart} ${fieldPart} ${timeNs}`;
}

export function toLineProtocol(report: Report): string {
  const time = BigInt(Date.parse(report.finishedAt)) * 1_000_000n;
  const common = { scenario: report.scenario, revision: report.git.revision.slice(0, 12), mode: report.target.mode };
  const lines: string[] = [];
  for (const s of report.subScenarios) {
    const entries = [
      ...Object.entries(s.operations).map(([op, o]) => ({
        op,
        cls: o.class,
        l: o.latency,
        errors: Object.values(o.errors).reduce((a, b) => a + b, 0),
      })),
      { op: "_read", cls: "read", l: s.classes.read, errors: 0 },
      { op: "_write", cls: "write", l: s.classes.write, errors: 0 },
    ];
    for (const e of entries) {
      lines.push(
        line(
          "ext_storage_load",
          { ...common, sub: s.name, op: e.op, class: e.cls },
          {
            count: { int: e.l.count },
            errors: { int: e.errors },
            p50_ms: e.l.p50Ms,
            p95_ms: e.l.p95Ms,
            p99_ms: e.l.p99Ms,
            p999_ms: e.l.p999Ms,
            max_ms: e.l.maxMs,
          },
          time,
        ),
      );
    }
    lines.push(
      line(
        "ext_storage_load_run",
        { ...common, sub: s.name },
        {
          achieved_ops_per_sec: s.achievedOpsPerSec,
          offered_ops_per_sec: s.offeredOpsPerSec ?? 0,
          deadlocks: { int: s.database.deadlocks?.delta ?? -1 },
          shard_ops_max_mean: s.database.shards.operations.maxMeanRatio,
          rss_max_mib: s.server.rssMaxMiB ?? -1,
          pass: s.verdict === "pass",
          verdict: s.verdict,
        },
        time,
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Pushes the report to InfluxDB 1.x. `url` is the server (http://127.0.0.1:8086), optionally
 * with ?db=NAME (default ext_storage_load); the database is created if missing.
 */
export async function pushToInflux(url: string, report: Report): Promise<{ db: string; lines: number }> {
  const u = new URL(url);
  const db = u.searchParams.get("db") ?? "ext_storage_load";
  const base = `${u.protocol}//${u.host}`;
  const create = await fetch(`${base}/query`, {
    method: "POST",
    body: new URLSearchParams({ q: `CREATE DATABASE "${db.replace(/"/g, "")}"` }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!create.ok) throw new Error(`InfluxDB CREATE DATABASE: ${create.status} ${await create.text()}`);
  const body = toLineProtocol(report);
  const res = await fetch(`${base}/write?db=${encodeURIComponent(db)}&precision=ns`, {
    method: "POST",
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 204) throw new Error(`InfluxDB write: ${res.status} ${await res.text()}`);
  return { db, lines: body.trim().split("\n").length };
}
