// Service-level objectives decide the exit code; targets are reported beside them but never
// fail a run. A verdict compares one measured number with one threshold.
export type Verdict = { name: string; metric: string; threshold: number; value: number | null; ok: boolean };

export type Thresholds = {
  readP95Ms: number;
  writeP95Ms: number;
  /** largest share of failed operations, 0–1 */
  errorBudget: number;
};

/** The rollout guide's floors: p95 reads < 150 ms, writes < 250 ms; at most 0.1 % errors. */
export const ROLLOUT_SLOS: Thresholds = { readP95Ms: 150, writeP95Ms: 250, errorBudget: 0.001 };

export type Measured = {
  readP95Ms: number | null;
  writeP95Ms: number | null;
  operations: number;
  errors: number;
};

const below = (name: string, metric: string, threshold: number, value: number | null): Verdict => ({
  name,
  metric,
  threshold,
  value,
  // no samples of a class: nothing to break
  ok: value === null || value < threshold,
});

export function verdicts(m: Measured, t: Thresholds): Verdict[] {
  const rate = m.operations === 0 ? 0 : m.errors / m.operations;
  return [
    below(`p95 reads < ${t.readP95Ms} ms`, "read.p95Ms", t.readP95Ms, m.readP95Ms),
    below(`p95 writes < ${t.writeP95Ms} ms`, "write.p95Ms", t.writeP95Ms, m.writeP95Ms),
    {
      name: `errors ≤ ${t.errorBudget * 100} %`,
      metric: "errorRate",
      threshold: t.errorBudget,
      value: rate,
      ok: rate <= t.errorBudget,
    },
  ];
}

/** The load targets for this two-core machine (crud-mix): reported, never the exit code. */
export function targets(
  m: Measured & { p999Ms: number | null; rssMaxMiB: number | null; rssSlopeMiBPerHour?: number | null },
): Verdict[] {
  const at = (name: string, metric: string, threshold: number, value: number | null): Verdict => ({
    name,
    metric,
    threshold,
    value,
    ok: value !== null && value <= threshold,
  });
  return [
    at("p95 reads ≤ 5 ms", "read.p95Ms", 5, m.readP95Ms),
    at("p95 writes ≤ 10 ms", "write.p95Ms", 10, m.writeP95Ms),
    at("p99.9 ≤ 50 ms", "all.p999Ms", 50, m.p999Ms),
    at("zero errors", "errors", 0, m.errors),
    at("server RSS ≤ 200 MiB", "server.rssMaxMiB", 200, m.rssMaxMiB),
    // a soak (ten minutes or more): RSS must not keep growing once warm
    ...(m.rssSlopeMiBPerHour === undefined || m.rssSlopeMiBPerHour === null
      ? []
      : [at("server RSS slope ≤ 5 MiB/h", "server.rssSlopeMiBPerHour", 5, m.rssSlopeMiBPerHour)]),
  ];
}
