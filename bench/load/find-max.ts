// --find-max: crud-mix at a rising rate (× factor per step) on one server, until a step breaks
// an SLO, the error budget, or cannot be sustained (achieved < 95 % of offered, or the driver
// had to drop requests); then a few halving steps between the last rate that held and the
// first that broke. The answer is the highest step that held, in ops/s.
import type { DbProbe } from "./database.ts";
import type { LoadOptions } from "./options.ts";
import type { SubReport } from "./report/schema.ts";
import { type RunHooks, runSub } from "./run.ts";
import type { Target } from "./server.ts";

export type Step = {
  ratePerInstallPerMin: number;
  offeredOpsPerSec: number;
  achievedOpsPerSec: number;
  ok: boolean;
  why: string;
};

export function stepHeld(s: SubReport): { ok: boolean; why: string } {
  const broken = s.slos.filter((v) => !v.ok).map((v) => v.name);
  const failedChecks = s.checks.filter((c) => !c.ok).map((c) => c.name);
  const offered = s.offeredOpsPerSec ?? 0;
  if (broken.length > 0) return { ok: false, why: `SLO broken: ${broken.join("; ")}` };
  if (failedChecks.length > 0) return { ok: false, why: `check failed: ${failedChecks.join("; ")}` };
  if (s.achievedOpsPerSec < 0.95 * offered) {
    return { ok: false, why: `not sustained: ${s.achievedOpsPerSec} of ${offered} ops/s` };
  }
  return { ok: true, why: "held" };
}

export async function findMax(
  target: Target,
  o: LoadOptions,
  db: DbProbe | undefined,
  hooks: RunHooks,
  log: (line: string) => void,
): Promise<{ steps: Step[]; maxOpsPerSec: number; reports: SubReport[] }> {
  const steps: Step[] = [];
  const reports: SubReport[] = [];
  const step = async (rate: number) => {
    const report = await runSub(target, { ...o, ratePerInstallPerMin: rate }, "crud-mix", db, hooks);
    reports.push(report);
    const held = stepHeld(report);
    steps.push({
      ratePerInstallPerMin: Math.round(rate * 10) / 10,
      offeredOpsPerSec: report.offeredOpsPerSec ?? 0,
      achievedOpsPerSec: report.achievedOpsPerSec,
      ...held,
    });
    log(
      `find-max step ${steps.length}: offered ${report.offeredOpsPerSec} ops/s, achieved ${report.achievedOpsPerSec}, ` +
        `p95 read ${report.classes.read.p95Ms} ms, write ${report.classes.write.p95Ms} ms: ${held.why}`,
    );
    return held.ok;
  };
  let low = 0;
  let high: number | undefined;
  let rate = o.ratePerInstallPerMin;
  for (let i = 0; i < o.findMaxSteps && high === undefined; i++) {
    if (await step(rate)) {
      low = rate;
      rate *= o.findMaxFactor;
    } else high = rate;
  }
  for (let i = 0; i < o.findMaxRefine && high !== undefined && low > 0; i++) {
    const mid = (low + high) / 2;
    if (await step(mid)) low = mid;
    else high = mid;
  }
  const held = steps.filter((s) => s.ok);
  return { steps, maxOpsPerSec: held.length === 0 ? 0 : Math.max(...held.map((s) => s.achievedOpsPerSec)), reports };
}
