// One load run: start (or reach) the server, run each chosen sub-scenario with its own
// recorder, sample the server's memory and the database's deadlock counter around it, and
// build the report.

import { cpus, loadavg } from "node:os";
import { loadFixtures } from "./data.ts";
import { type DbProbe, probe } from "./database.ts";
import type { LoadOptions, SubName } from "./options.ts";
import { Recorder } from "./recorder.ts";
import { buildSub, gitInfo, machineInfo } from "./report/build.ts";
import type { Report, SubReport } from "./report/schema.ts";
import { BULK_OPS, bulkWrites } from "./scenarios/bulk-writes.ts";
import { type ScenarioContext, type ScenarioResult, tokenCache } from "./scenarios/context.ts";
import { CRUD_OPS, crudMix } from "./scenarios/crud-mix.ts";
import { listScans, SCAN_OPS } from "./scenarios/list-scans.ts";
import { NOISY_OPS, noisy } from "./scenarios/noisy.ts";
import {
  cpuSeconds,
  externalTarget,
  machineCpu,
  startOwnServer,
  type Target,
  treeCpuSeconds,
  treeRssMiB,
} from "./server.ts";

const CLASSES: Record<string, "read" | "write" | "other"> = { ...CRUD_OPS, ...BULK_OPS, ...SCAN_OPS, ...NOISY_OPS };
const SCENARIOS: Record<SubName, (ctx: ScenarioContext) => Promise<ScenarioResult>> = {
  "crud-mix": crudMix,
  "bulk-writes": bulkWrites,
  "list-scans": listScans,
  noisy,
};

export type RunHooks = {
  /** called every second while a sub-scenario runs */
  onTick?: (sub: SubName, recorder: Recorder, elapsedMs: number) => void;
};

export async function withTarget<T>(o: LoadOptions, fn: (target: Target) => Promise<T>): Promise<T> {
  const target =
    o.url !== undefined
      ? externalTarget(o.url, o.secret as string, o.audience)
      : await startOwnServer({
          databaseUrl: o.databaseUrl,
          secret: o.secret,
          env: o.serverEnv,
          profileDir: o.profileDir,
          announce: (line) => process.stderr.write(`load: ${line}\n`),
        });
  // an interrupt or an error stops the server through tools/cleanup.ts, where it registered
  try {
    return await fn(target);
  } finally {
    await target.stop();
  }
}

export async function runSub(
  target: Target,
  o: LoadOptions,
  sub: SubName,
  db: DbProbe | undefined,
  hooks: RunHooks = {},
): Promise<SubReport> {
  const warmupMs = sub === "bulk-writes" ? 0 : o.warmupSec * 1000;
  const recorder = new Recorder(warmupMs, (op) => CLASSES[op] ?? "other");
  const deadline = Date.now() + (o.warmupSec + o.durationSec) * 1000 + 600_000;
  const ctx: ScenarioContext = {
    target,
    options: o,
    fixtures: loadFixtures(),
    recorder,
    token: tokenCache(target, o.warmupSec + o.durationSec + 3600),
    shouldStop: () => Date.now() > deadline,
  };
  const before = await db?.deadlocks();
  // [seconds after the warm-up, MiB], one a second: the soak's RSS curve and slope
  const rss: [number, number][] = [];
  const cpu0 = { machine: machineCpu(), server: treeCpuSeconds(target.pid), driver: cpuSeconds(process.pid) };
  const t0 = performance.now();
  const timer = setInterval(() => {
    const elapsed = performance.now() - t0;
    const r = treeRssMiB(target.pid);
    if (r !== undefined && elapsed > warmupMs) rss.push([Math.round((elapsed - warmupMs) / 100) / 10, r]);
    hooks.onTick?.(sub, recorder, elapsed);
  }, 1000);
  let result: ScenarioResult;
  try {
    result = await SCENARIOS[sub](ctx);
  } finally {
    clearInterval(timer);
  }
  const cpu1 = { machine: machineCpu(), server: treeCpuSeconds(target.pid), driver: cpuSeconds(process.pid) };
  const wall = (cpu1.machine.total - cpu0.machine.total) / cpus().length;
  const pct = (seconds: number) => (wall <= 0 ? 0 : Math.round((seconds / wall) * 1000) / 10);
  const cpu = {
    cores: cpus().length,
    machinePercent: pct(cpu1.machine.busy - cpu0.machine.busy),
    serverPercent: target.pid === undefined ? null : pct(cpu1.server - cpu0.server),
    driverPercent: pct(cpu1.driver - cpu0.driver),
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  // PostgreSQL 15 backends report their stats counters at most once a second
  if (db !== undefined) await Bun.sleep(1100);
  const after = await db?.deadlocks();
  // rows of the installs this sub-scenario used, not of every install the prefix names
  const all = await db?.rowsByInstall(o.prefix);
  const rows = all && new Map([...all].filter(([id]) => result.opsByInstall.has(id)));
  const placement = await db?.citusPlacement([...result.opsByInstall.keys()]);
  return buildSub(recorder, result, {
    name: sub,
    deadlocks: before === undefined || after === undefined ? undefined : { before, after },
    rowsByInstall: rows,
    rowsSource: "database",
    rss,
    cpu,
    placement,
    slos: o.slo,
  });
}

export async function runLoad(o: LoadOptions, command: string, hooks: RunHooks = {}): Promise<Report> {
  const startedAt = new Date().toISOString();
  const db = o.databaseUrl === undefined ? undefined : probe(o.databaseUrl);
  try {
    const postgres = (await db?.version()) ?? null;
    return await withTarget(o, async (target) => {
      const subScenarios: SubReport[] = [];
      for (const sub of o.subs) subScenarios.push(await runSub(target, o, sub, db, hooks));
      return assemble(o, command, startedAt, target, postgres, subScenarios);
    });
  } finally {
    await db?.close();
  }
}

export function assemble(
  o: LoadOptions,
  command: string,
  startedAt: string,
  target: Target,
  postgres: string | null,
  subScenarios: SubReport[],
): Report {
  const { secret: _secret, databaseUrl, ...config } = o;
  return {
    schemaVersion: 1,
    scenario: "ext-storage",
    startedAt,
    finishedAt: new Date().toISOString(),
    git: gitInfo(),
    command,
    config: { ...config, databaseUrl: databaseUrl === undefined ? null : databaseUrl.replace(/\/\/[^@/]*@/, "//…@") },
    machine: machineInfo(postgres),
    target: { url: target.url, mode: target.mode },
    subScenarios,
    verdict: subScenarios.every((s) => s.verdict !== "fail") ? "pass" : "fail",
  };
}
