// bun run bench:migrate — db:migrate --safe under the seed's crud-mix, on a table of
// 1,000,000 records: failed requests, the longest lock wait, p99 before and during the
// migration. Starts its own PostgreSQL cluster unless DATABASE_URL names a server; either
// way the run gets a database of its own, dropped at the end. See bench/README.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { parseCommandLine, usageError } from "../../src/cli/args.ts";
import { onExit, runCommand } from "../../tools/cleanup.ts";
import { startCluster } from "../../tools/postgres.ts";
import { parseOptions } from "../load/options.ts";
import { renderReport, runMigrationBench } from "./run.ts";

const HELP = `bun run bench:migrate [options]

Runs crud-mix (bun run load's sub-scenario, at its rate) against the service while
bun run db:migrate --safe applies the newest migrations to a database holding --records
records; reports failed requests (target 0), the longest lock wait (target under 2 s), p99
of reads and writes before, during and after the migration, and the migration's duration.

  --records N           records seeded over crud-mix's installs (default 1000000)
  --hold-back N         the newest N migrations are left for db:migrate --safe (default 1)
  --warmup S            seconds of load left out at the start (default 30)
  --before S            measured seconds of load before the migration starts (default 15)
  --after S             seconds of load after it ends (default 10)
  --migration-bound S   the migration is killed past this (default 600)
  --tenants N           crud-mix's tenants (default 50)
  --installs-per-tenant N  installs per tenant (default 3)
  --rate N              crud-mix ops per minute per install (default 200)
  --concurrency N       requests in flight at most (default 256)
  --seed N              data and schedule seed (default 1)
  --out DIR             where the JSON report goes (default bench/results)
  --help                this text

DATABASE_URL names a PostgreSQL server: a database is created on it for the run and dropped
after. Without it a throwaway PostgreSQL cluster is started and stopped.
`;

const { values } = parseCommandLine(HELP, {
  records: { type: "string", default: "1000000" },
  "hold-back": { type: "string", default: "1" },
  warmup: { type: "string", default: "30" },
  before: { type: "string", default: "15" },
  after: { type: "string", default: "10" },
  "migration-bound": { type: "string", default: "600" },
  tenants: { type: "string" },
  "installs-per-tenant": { type: "string" },
  rate: { type: "string" },
  concurrency: { type: "string" },
  seed: { type: "string" },
  out: { type: "string", default: "bench/results" },
});

const number = (name: string, max: number, min = 0) => {
  const raw = values[name as keyof typeof values] as string;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    usageError(`bun run bench:migrate: --${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
};

const loadArgs: string[] = ["--sub", "crud-mix", "--warmup", String(number("warmup", 600))];
for (const name of ["tenants", "installs-per-tenant", "rate", "concurrency", "seed"] as const) {
  if (values[name] !== undefined) loadArgs.push(`--${name}`, values[name]);
}
let load: ReturnType<typeof parseOptions>;
try {
  load = parseOptions(loadArgs);
} catch (error) {
  usageError(`bun run bench:migrate: ${(error as Error).message}`);
}
const records = Math.round(number("records", 100_000_000, 1));
const holdBack = Math.round(number("hold-back", 1000, 1));
const before = number("before", 600, 1);
const after = number("after", 600);
const migrationBound = number("migration-bound", 3600, 1);
const say = (line: string) => process.stderr.write(`bench:migrate: ${line}\n`);

await runCommand(async () => {
  let server = process.env.DATABASE_URL;
  if (!server) {
    const cluster = await startCluster();
    say(`PostgreSQL in ${cluster.dir}`);
    server = cluster.url("postgres");
  }
  // a database of the run's own: the migrations start from nothing whatever the server holds
  const name = `ext_storage_bench_migrate_${Date.now().toString(36)}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  onExit({
    name: `database ${name}`,
    stop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end({ timeout: 5 });
    },
  });
  const url = new URL(server);
  url.pathname = `/${name}`;

  const report = await runMigrationBench({
    databaseUrl: url.toString(),
    records,
    holdBack,
    load,
    beforeSec: before,
    afterSec: after,
    migrationBoundSec: migrationBound,
    say,
  });
  const out = values.out as string;
  mkdirSync(out, { recursive: true });
  const file = join(out, `migrate-${report.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  say(`report: ${file}`);
  process.stdout.write(`${renderReport(report)}\n`);
  return report.pass ? 0 : 1;
});
