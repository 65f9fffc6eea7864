// The driver's command line: every flag, its default, and the checks on it.
import { parseArgs } from "node:util";
import { ENV } from "../../src/config.ts";
import type { ScenarioOptions } from "./scenarios/context.ts";

export const SUB_SCENARIOS = ["crud-mix", "bulk-writes", "list-scans", "noisy"] as const;
export type SubName = (typeof SUB_SCENARIOS)[number];

export type LoadOptions = ScenarioOptions & {
  command: "run" | "ceiling";
  subs: SubName[];
  url: string | undefined;
  secret: string | undefined;
  audience: string;
  databaseUrl: string | undefined;
  serverEnv: Record<string, string>;
  out: string | undefined;
  influx: string | undefined;
  slo: { readP95Ms: number; writeP95Ms: number; errorBudget: number };
  findMax: boolean;
  findMaxFactor: number;
  findMaxSteps: number;
  findMaxRefine: number;
  progress: boolean;
  ceilingSeconds: number;
  ceilingClients: number;
  profileDir: string | undefined;
};

export const USAGE = `bun run load [run|ceiling] [flags]

  --scenario ext-storage       the only scenario (default)
  --sub LIST                   crud-mix,bulk-writes,list-scans,noisy or all (default all:
                               the first three; noisy runs crud-mix twice, see bench/README.md)
  --seed N                     data and schedule seed (default 1)
  --prefix S                   id prefix of tenants and installs (default ld<seed>)
  --tenants N                  synthetic tenants (default 50)
  --installs-per-tenant N      installs per tenant (default 3)
  --installs N                 installs taking part in crud-mix (default all: 150)
  --rate N                     crud-mix ops per minute per install (default 200)
  --duration S                 measured seconds per sub-scenario (default 60)
  --warmup S                   seconds left out at the start (default 30)
  --concurrency N              requests in flight at most (default 256)
  --keys N                     records per namespace seeded for crud-mix (default 8)
  --atomic-share F             share of crud-mix operations sent as one /v1/atomic request,
                               0–1 (an increment of a counter and a merge into a key; default 0)
  --atomic-ops N               ops in each such request (default 2): a merge into a key and
                               N − 1 increments, each of a counter of its own
  --records N                  records in the list-scans namespace (default 5000)
  --walk-rate N                list-scans walks started per second (default 2)
  --bulk-installs N            installs running a bulk-writes chain (default 3)
  --bulk-batch N               items in the first bulk-put of a chain (default 16)
  --url URL                    load this running server (loopback only; needs --secret)
  --secret S                   its STORAGE_JWT_SECRET (default: env STORAGE_JWT_SECRET)
  --audience S                 the tokens' aud (default: env STORAGE_JWT_AUDIENCE or ext-storage)
  --database-url URL           the database, for deadlocks and rows (default: env DATABASE_URL);
                               without --url the driver starts a server on it (else embedded)
  --quota-bytes N              STORAGE_QUOTA_BYTES of a server the driver starts
  --quota-records N            STORAGE_QUOTA_RECORDS of a server the driver starts
  --out DIR                    where report JSON and HTML go (default bench/results)
  --influx URL                 push results to InfluxDB 1.x (http://127.0.0.1:8086?db=NAME)
  --slo-read-p95 MS            default 150
  --slo-write-p95 MS           default 250
  --error-budget F             largest error share, 0–1 (default 0.001)
  --find-max                   raise crud-mix's rate until an SLO or the error budget breaks
  --find-max-factor F          rate multiplier per step (default 1.5)
  --find-max-steps N           most rising steps (default 8)
  --find-max-refine N          halving steps after the first break (default 2)
  --profile DIR                CPU profile of a server the driver starts, written to DIR when it stops
  --no-progress                no live progress line
  ceiling: --ceiling-seconds S (default 20), --ceiling-clients N (default: the pool, 10)
`;

const num = (v: string | undefined, name: string, fallback: number, min = 0) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${v}"`);
  return n;
};

function share(text: string | undefined): number {
  const value = num(text, "atomic-share", 0, 0);
  if (value > 1) throw new Error("--atomic-share must be between 0 and 1");
  return value;
}

export function parseOptions(argv: string[], env: Record<string, string | undefined> = process.env): LoadOptions {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: Object.fromEntries(
      [
        "scenario",
        "sub",
        "seed",
        "prefix",
        "tenants",
        "installs-per-tenant",
        "installs",
        "rate",
        "duration",
        "warmup",
        "concurrency",
        "keys",
        "atomic-share",
        "atomic-ops",
        "records",
        "walk-rate",
        "bulk-installs",
        "bulk-batch",
        "url",
        "secret",
        "audience",
        "database-url",
        "quota-bytes",
        "quota-records",
        "out",
        "influx",
        "slo-read-p95",
        "slo-write-p95",
        "error-budget",
        "find-max-factor",
        "find-max-steps",
        "find-max-refine",
        "ceiling-seconds",
        "ceiling-clients",
        "profile",
      ]
        .map((name) => [name, { type: "string" as const }] as [string, { type: "string" | "boolean" }])
        .concat([
          ["find-max", { type: "boolean" }],
          ["no-progress", { type: "boolean" }],
          ["help", { type: "boolean" }],
        ]),
    ),
  });
  const s = (name: string) => v[name] as string | undefined;
  if (v.help) throw new Error(USAGE);
  const command = (positionals[0] ?? "run") as LoadOptions["command"];
  if (command !== "run" && command !== "ceiling") throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  if ((s("scenario") ?? "ext-storage") !== "ext-storage") throw new Error(`unknown scenario "${s("scenario")}"`);
  const subsArg = s("sub") ?? "all";
  // noisy runs crud-mix twice over: only when asked for
  const subs = (subsArg === "all" ? SUB_SCENARIOS.filter((n) => n !== "noisy") : subsArg.split(",")) as SubName[];
  for (const sub of subs) if (!SUB_SCENARIOS.includes(sub)) throw new Error(`unknown sub-scenario "${sub}"`);
  const seed = num(s("seed"), "seed", 1);
  const tenants = num(s("tenants"), "tenants", 50, 1);
  const installsPerTenant = num(s("installs-per-tenant"), "installs-per-tenant", 3, 1);
  const url = s("url");
  const secret = s("secret") ?? env.STORAGE_JWT_SECRET;
  if (url !== undefined && secret === undefined) throw new Error("--url needs --secret (or STORAGE_JWT_SECRET)");
  const serverEnv: Record<string, string> = {};
  // noisy measures the other installs under the limits a deployment runs with: the service's
  // defaults, unless the environment sets them
  if (subs.includes("noisy")) {
    for (const name of ["STORAGE_RATE_LIMIT", "STORAGE_WORK_LIMIT_BYTES"] as const) {
      serverEnv[name] = process.env[name] ?? String(ENV.properties[name].default);
    }
  }
  if (s("quota-bytes") !== undefined) serverEnv.STORAGE_QUOTA_BYTES = String(num(s("quota-bytes"), "quota-bytes", 0));
  if (s("quota-records") !== undefined) {
    serverEnv.STORAGE_QUOTA_RECORDS = String(num(s("quota-records"), "quota-records", 0));
  }
  return {
    command,
    subs,
    seed,
    prefix: s("prefix") ?? `ld${seed}`,
    tenants,
    installsPerTenant,
    installs: Math.min(tenants * installsPerTenant, num(s("installs"), "installs", tenants * installsPerTenant, 1)),
    ratePerInstallPerMin: num(s("rate"), "rate", 200, 0.001),
    durationSec: num(s("duration"), "duration", 60, 0.1),
    // 30, not 10: after crud-mix seeds ~90 MB of values, latencies burst for some 25 s
    // (p99.9 71 ms with 10 s of warm-up, 27 ms with 30 s; bench/README.md)
    warmupSec: num(s("warmup"), "warmup", 30),
    maxInFlight: num(s("concurrency"), "concurrency", 256, 1),
    keysPerNamespace: num(s("keys"), "keys", 8, 1),
    atomicShare: share(s("atomic-share")),
    atomicOps: Math.floor(num(s("atomic-ops"), "atomic-ops", 2, 2)),
    scanRecords: num(s("records"), "records", 5000, 1),
    walkRatePerSec: num(s("walk-rate"), "walk-rate", 2, 0.001),
    bulkInstalls: num(s("bulk-installs"), "bulk-installs", 3, 1),
    bulkBatch: num(s("bulk-batch"), "bulk-batch", 16, 1),
    url,
    secret,
    audience: s("audience") ?? env.STORAGE_JWT_AUDIENCE ?? "ext-storage",
    databaseUrl: s("database-url") ?? env.DATABASE_URL,
    serverEnv,
    out: s("out") ?? "bench/results",
    influx: s("influx"),
    slo: {
      readP95Ms: num(s("slo-read-p95"), "slo-read-p95", 150),
      writeP95Ms: num(s("slo-write-p95"), "slo-write-p95", 250),
      errorBudget: num(s("error-budget"), "error-budget", 0.001),
    },
    findMax: v["find-max"] === true,
    findMaxFactor: num(s("find-max-factor"), "find-max-factor", 1.5, 1.01),
    findMaxSteps: num(s("find-max-steps"), "find-max-steps", 8, 1),
    findMaxRefine: num(s("find-max-refine"), "find-max-refine", 2),
    progress: v["no-progress"] !== true,
    ceilingSeconds: num(s("ceiling-seconds"), "ceiling-seconds", 20, 1),
    profileDir: s("profile"),
    ceilingClients: num(s("ceiling-clients"), "ceiling-clients", Number(env.STORAGE_DB_POOL_MAX ?? 10), 1),
  };
}
