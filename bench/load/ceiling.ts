// `bun run load ceiling`: how close the service's GET comes to the database's own ceiling
// for the same work. One run: seed the crud-mix data; pgbench runs sql/records/get.sql (the
// statement the service runs for GET, parameters drawn as pgbench variables) with as many
// connections as the service's pool; then the service is driven closed loop with GETs of
// the same keys for as long; the ratio is service GET/s ÷ pgbench statements/s.
// Both phases run one after the other on the same machine, so each has all of its cores.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL_DIR, statementText } from "../../src/db/sql.ts";
import { call, recordPath } from "./client.ts";
import { type Fixture, keyOf, loadFixtures, population } from "./data.ts";
import { Histogram } from "./histogram.ts";
import type { LoadOptions } from "./options.ts";
import { derive } from "./random.ts";
import { Recorder } from "./recorder.ts";
import { withTarget } from "./run.ts";
import { tokenCache } from "./scenarios/context.ts";
import { seedInstalls, valuePool } from "./scenarios/crud-mix.ts";
import { cpuByName, cpuDelta, cpuSeconds, machineCpu, type Target, treeCpuSeconds } from "./server.ts";

export const PGBENCH = process.env.PGBENCH ?? "/usr/lib/postgresql/15/bin/pgbench";

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * get.sql as a pgbench script: $1–$4 become expressions of pgbench variables that name the
 * same install, tenant, namespace and key the driver reads; the statement is otherwise the
 * file's text, byte for byte.
 */
export function pgbenchScript(o: LoadOptions, fixtures: Fixture[], getSql: string): string {
  const per = o.installsPerTenant;
  const install = `(${lit(o.prefix)} || '-t' || lpad((:inst / ${per})::text, 3, '0') || '-i' || (:inst % ${per})::text)`;
  const tenant = `(${lit(o.prefix)} || '-t' || lpad((:inst / ${per})::text, 3, '0'))`;
  const namespaces = `(array[${fixtures.map((f) => lit(f.namespace)).join(",")}])`;
  const prefixes = `(array[${fixtures.map((f) => lit(f.keyPrefix)).join(",")}])`;
  const body = getSql
    .split("\n")
    .filter((l) => !l.startsWith("--"))
    .join("\n")
    .replaceAll("$1", install)
    .replaceAll("$2", tenant)
    .replaceAll("$3", `${namespaces}[:ns]`)
    .replaceAll("$4::text[]", `array[${prefixes}[:ns] || (:k)::text]`)
    // records.get takes one key since it stopped cleaning on every read
    .replaceAll("$4::text", `(${prefixes}[:ns] || (:k)::text)`)
    .trim();
  // pgbench reads one SQL command up to the semicolon; newlines inside it are fine
  return [
    `\\set inst random(0, ${o.installs - 1})`,
    `\\set ns random(1, ${fixtures.length})`,
    `\\set k random(0, ${o.keysPerNamespace - 1})`,
    `${body};`,
    "",
  ].join("\n");
}

export function parseTps(output: string): number | undefined {
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(output) ?? /tps = ([\d.]+)/.exec(output);
  return m === null ? undefined : Number(m[1]);
}

export async function ceiling(o: LoadOptions, say: (line: string) => void): Promise<number> {
  if (o.databaseUrl === undefined) {
    say(
      "ceiling needs a PostgreSQL database: set DATABASE_URL or --database-url (pgbench cannot reach the embedded one)",
    );
    return 2;
  }
  const databaseUrl = o.databaseUrl;
  const fixtures = loadFixtures();
  const getSql = statementText(SQL_DIR, "records/get.sql");
  const script = pgbenchScript(o, fixtures, getSql);
  const installs = population(o.prefix, o.tenants, o.installsPerTenant).slice(0, o.installs);
  const context = (target: Target) => ({
    target,
    options: o,
    fixtures,
    recorder: new Recorder(0, () => "read"),
    token: tokenCache(target, o.ceilingSeconds * 2 + 3600),
    shouldStop: () => false,
  });
  // the data, through a server of its own, so a profile (--profile) of the measured one holds GETs only
  say(`seeding ${installs.length} installs × ${fixtures.length} namespaces × ${o.keysPerNamespace} records`);
  await withTarget({ ...o, profileDir: undefined }, (target) =>
    seedInstalls(context(target), installs, valuePool(o.seed, fixtures)),
  );

  // 1. the ceiling: pgbench, the same statement, as many connections as the service's pool
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-ceiling-"));
  const file = join(dir, "get.pgbench.sql");
  writeFileSync(file, script);
  const clients = o.ceilingClients;
  const args = [
    "-n",
    "-M",
    "prepared",
    "-c",
    String(clients),
    "-j",
    "2",
    "-T",
    String(o.ceilingSeconds),
    "-f",
    file,
    databaseUrl,
  ];
  say(`pgbench ${args.slice(0, -1).join(" ")} <DATABASE_URL>`);
  const bench = spawnSync(PGBENCH, args, { encoding: "utf8", timeout: (o.ceilingSeconds + 60) * 1000 });
  rmSync(dir, { recursive: true, force: true });
  const tps = parseTps(`${bench.stdout}\n${bench.stderr}`);
  if (bench.status !== 0 || tps === undefined) {
    say(`pgbench failed (${bench.status}):\n${bench.stderr}\n${bench.stdout}`);
    return 1;
  }
  const pgLatency = /latency average = ([\d.]+) ms/.exec(bench.stdout)?.[1];

  return withTarget(o, async (target) => {
    const { token } = context(target);
    // 2. the service: GETs of the same keys, closed loop, enough in flight to keep its pool busy
    const workers = Math.max(32, clients * 4);
    const rnd = derive(o.seed, "ceiling");
    const hist = new Histogram();
    let done = 0;
    let errors = 0;
    for (const install of installs) await token(install);
    // where the two cores go during the service phase: server, driver, PostgreSQL
    const cpu0 = {
      server: treeCpuSeconds(target.pid),
      driver: cpuSeconds(process.pid),
      pg: cpuByName("postgres"),
      machine: machineCpu(),
    };
    const end = performance.now() + o.ceilingSeconds * 1000;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (performance.now() < end) {
          const install = installs[rnd.int(0, installs.length - 1)];
          const fixture = fixtures[rnd.int(0, fixtures.length - 1)] as Fixture;
          if (install === undefined) return;
          const sent = performance.now();
          const reply = await call(
            target.url,
            await token(install),
            "GET",
            recordPath(fixture.namespace, keyOf(fixture, rnd.int(0, o.keysPerNamespace - 1))),
          );
          hist.recordMs(performance.now() - sent);
          done++;
          if (reply.code !== undefined) errors++;
        }
      }),
    );
    const cpu = {
      server: treeCpuSeconds(target.pid) - cpu0.server,
      driver: cpuSeconds(process.pid) - cpu0.driver,
      pg: cpuDelta(cpu0.pg, cpuByName("postgres")),
      machine: machineCpu().busy - cpu0.machine.busy,
    };
    const serviceRate = done / o.ceilingSeconds;
    const ratio = serviceRate / tps;
    say("");
    say(`pgbench (records.get, ${clients} connections):   ${tps.toFixed(0)} statements/s, mean ${pgLatency ?? "?"} ms`);
    say(
      `service GET (${workers} in flight, pool ${clients}): ${serviceRate.toFixed(0)} requests/s, ` +
        `p50 ${(hist.percentile(50) / 1000).toFixed(2)} ms, p95 ${(hist.percentile(95) / 1000).toFixed(2)} ms, ${errors} errors`,
    );
    const share = (x: number) => `${((x / o.ceilingSeconds) * 100).toFixed(0)} %`;
    say(
      `CPU during the service phase (of ${o.ceilingSeconds} s × 2 cores = 200 %): server ${target.pid === undefined ? "?" : share(cpu.server)}, ` +
        `driver ${share(cpu.driver)}, PostgreSQL (every cluster) ${share(cpu.pg)}; machine ${share(cpu.machine)}`,
    );
    process.stdout.write(
      `${JSON.stringify({ ceilingStatementsPerSec: Math.round(tps), serviceGetsPerSec: Math.round(serviceRate), ratio: Math.round(ratio * 1000) / 1000, errors })}\n`,
    );
    say(`service/ceiling ratio: ${(ratio * 100).toFixed(1)} % (target ≥ 50 %)`);
    return errors === 0 ? 0 : 1;
  });
}
