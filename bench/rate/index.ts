// bun run bench:rate — the request rate limit across service processes (src/http/rate-lease.ts):
//   micro     the limiter alone in this process (mitata): shared with tokens in hand, the
//             in-memory bucket, off
//   cpu       server CPU per request with the limit off, on (default lease) and on with a
//             lease of one token (a statement per request: the worst case), side by side
//   accuracy  1, 2 and 4 service processes against one database, one install driven through
//             all of them: 2xx per second against the configured rate
// Starts its own PostgreSQL 15 cluster unless DATABASE_URL is set; the service processes
// listen on loopback ports only. `bun run bench:rate --help` lists the flags.
import { parseCommandLine } from "../../src/cli/args.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { type Cluster, startCluster } from "../../tools/postgres.ts";
import { treeCpuSeconds } from "../load/server.ts";

const HELP = `bun run bench:rate [--part micro|cpu|accuracy|all] [options]

  --part NAME         micro, cpu, accuracy or all (default all)
  --rate N            STORAGE_RATE_LIMIT of the accuracy part (default 100)
  --seconds N         measured seconds of each accuracy run, after 3 s that spend the burst (default 10)
  --processes LIST    process counts of the accuracy part (default 1,2,4)
  --offered X         requests sent per second in the accuracy part, as a multiple of the rate (default 3)
  --requests N        requests per configuration and round in the cpu part (default 4000)
  --rounds N          rounds of the cpu part, the configurations interleaved (default 3)
  --help              this text

DATABASE_URL names a database to use (migrated here); without it a throwaway PostgreSQL 15
cluster is started and stopped.`;

const { values } = parseCommandLine(HELP, {
  part: { type: "string", default: "all" },
  rate: { type: "string", default: "100" },
  seconds: { type: "string", default: "10" },
  processes: { type: "string", default: "1,2,4" },
  offered: { type: "string", default: "3" },
  requests: { type: "string", default: "4000" },
  rounds: { type: "string", default: "3" },
});
const positive = (name: string, raw: string | undefined, max: number) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    console.error(`--${name} must be a number above 0 and at most ${max}, got "${raw}"`);
    process.exit(2);
  }
  return n;
};
const part = values.part as string;
if (!["micro", "cpu", "accuracy", "all"].includes(part)) {
  console.error(`--part must be micro, cpu, accuracy or all, got "${part}"`);
  process.exit(2);
}
const RATE = Math.round(positive("rate", values.rate, 100_000));
const SECONDS = positive("seconds", values.seconds, 600);
const OFFERED = positive("offered", values.offered, 100);
const REQUESTS = Math.round(positive("requests", values.requests, 1_000_000));
const ROUNDS = Math.round(positive("rounds", values.rounds, 20));
const BURST_SECONDS = 3;
const PROCESSES = (values.processes as string).split(",").map((p) => Math.round(positive("processes", p, 16)));

let cluster: Cluster | undefined;
if (!process.env.DATABASE_URL) {
  cluster = await startCluster();
  process.env.DATABASE_URL = cluster.url("ext_storage_bench");
}
const DATABASE_URL = process.env.DATABASE_URL as string;
const migrated = await dbmate(DATABASE_URL, ["up"]);
if (migrated.code !== 0) throw new Error(migrated.output);

const { mintToken } = await import("../../src/tokens.ts");
const { startServiceProcess } = await import("../../tools/service.ts");
type Service = Awaited<ReturnType<typeof startServiceProcess>>;

// the services this benchmark starts share one secret; tokens name installs of their own
const SECRET = "bench-rate-secret-0123456789-abcdefghij";
let installs = 0;
const newInstall = (label: string) => {
  const id = `${label}-${process.pid}-${installs++}`;
  return { tenantId: `tenant-${id}`, extensionId: `ext-${id}`, installId: `inst-${id}` };
};
const tokenFor = (install: ReturnType<typeof newInstall>) =>
  mintToken({ ...install, scope: "storage:read storage:write" }, { secret: SECRET, audience: "ext-storage" });
const startService = (databaseUrl: string, env: Record<string, string>) =>
  startServiceProcess({
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STORAGE_JWT_SECRET: SECRET,
      LOG_LEVEL: "error",
      STORAGE_RATE_LIMIT: "0",
      ...env,
    },
    readyTimeoutMs: 20_000,
  });

const METRICS_TOKEN = "bench-rate-metrics-token";
const PATH = "/v1/namespaces/bench/records/k";
/** How many times the process ran a named statement (its query metrics). */
async function statements(service: Service, query: string): Promise<number> {
  const res = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  let n = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("db_query_duration_seconds_count{") && line.includes(`query="${query}"`)) {
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return n;
}

async function put(base: string, token: string) {
  const res = await fetch(base + PATH, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: '{"value":{"n":1}}',
  });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`PUT answered ${res.status}`);
}

/** `count` GETs spread over `tokens`, `concurrency` at a time; returns the statuses seen. */
async function burst(base: string, tokens: string[], count: number, concurrency: number) {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const res = await fetch(base + PATH, { headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

async function cpuPart() {
  // 20 installs, well under the limit, so every request passes: what is measured is the
  // limiter's cost on the way through, the leases included
  const configs: Array<{ label: string; env: Record<string, string> }> = [
    { label: "limit off", env: { STORAGE_RATE_LIMIT: "0" } },
    { label: "limit on, lease default", env: { STORAGE_RATE_LIMIT: "1000" } },
    { label: "limit on, lease 1", env: { STORAGE_RATE_LIMIT: "1000", STORAGE_RATE_LIMIT_LEASE: "1" } },
  ];
  const services = await Promise.all(
    configs.map((c) => startService(DATABASE_URL, { ...c.env, METRICS_TOKEN, STORAGE_DB_POOL_MAX: "4" })),
  );
  const tokens = await Promise.all(Array.from({ length: 20 }, () => tokenFor(newInstall("bench-rate-cpu"))));
  const samples = configs.map(() => [] as number[]);
  const leases = configs.map(() => 0);
  try {
    for (const [i, s] of services.entries()) {
      for (const token of tokens) await put(s.url, token);
      await burst(s.url, tokens, 500, 8); // warm-up: JIT, prepared statements, shares
      leases[i] = -(await statements(s, "ratelimit.lease"));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of services.entries()) {
        const before = treeCpuSeconds(s.pid);
        const statuses = await burst(s.url, tokens, REQUESTS, 8);
        const used = treeCpuSeconds(s.pid) - before;
        if ((statuses.get(200) ?? 0) !== REQUESTS) throw new Error(`${configs[i]?.label}: not every GET passed`);
        samples[i]?.push((used / REQUESTS) * 1e6);
      }
    }
    console.log(`\nserver CPU per GET (user + system, µs; ${ROUNDS} rounds × ${REQUESTS} GETs, 8 at a time)`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const base = median(samples[0] ?? []);
    for (const [i, c] of configs.entries()) {
      const m = median(samples[i] ?? []);
      const leaseCount = (leases[i] ?? 0) + (await statements(services[i] as Service, "ratelimit.lease"));
      console.log(
        `${c.label.padEnd(26)} median ${m.toFixed(1).padStart(6)}  rounds ${(samples[i] ?? []).map((x) => x.toFixed(1)).join(" / ")}` +
          `  Δ ${(m - base >= 0 ? "+" : "") + (m - base).toFixed(1)}  leases per GET ${(leaseCount / (ROUNDS * REQUESTS)).toFixed(3)}`,
      );
    }
  } finally {
    await Promise.all(services.map((s) => s.kill("SIGTERM")));
  }
}

/** One install driven through every service at OFFERED × RATE requests a second, paced:
 * first BURST_SECONDS in which the bucket's burst is spent, then SECONDS measured. */
async function accuracyRun(n: number) {
  const services = await Promise.all(
    Array.from({ length: n }, () =>
      startService(DATABASE_URL, { STORAGE_RATE_LIMIT: String(RATE), METRICS_TOKEN, LOG_LEVEL: "warn" }),
    ),
  );
  try {
    // warm-up with another install: compiled code paths and open connections in every process
    const warm = await tokenFor(newInstall(`bench-rate-warm-${n}`));
    for (const service of services) {
      await put(service.url, warm);
      await burst(service.url, [warm], 400, 8);
    }
    const token = await tokenFor(newInstall(`bench-rate-${n}`));
    await put(services[0]?.url as string, token);
    await Bun.sleep(2_000); // the PUT's token back: a full bucket
    const seconds = BURST_SECONDS + Math.ceil(SECONDS);
    const perSecond = Array.from({ length: seconds }, () => 0);
    const offered = OFFERED * RATE;
    const total = Math.floor(offered * seconds);
    const started = performance.now();
    let next = 0;
    let refused = 0;
    let other = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const wait = started + (i * 1000) / offered - performance.now();
          if (wait > 0) await Bun.sleep(wait);
          if (performance.now() - started >= seconds * 1000) return;
          const base = services[i % n]?.url as string;
          const res = await fetch(base + PATH, { headers: { authorization: `Bearer ${token}` } });
          await res.arrayBuffer();
          const second = Math.floor((performance.now() - started) / 1000);
          if (res.status === 200 && second < perSecond.length) perSecond[second] = (perSecond[second] ?? 0) + 1;
          else if (res.status === 429) refused++;
          else if (res.status !== 200) other++;
        }
      }),
    );
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const spent = sum(perSecond.slice(0, BURST_SECONDS));
    const steady = perSecond.slice(BURST_SECONDS);
    const mean = sum(steady) / steady.length;
    const off = (mean / RATE - 1) * 100;
    let leases = 0;
    for (const s of services) leases += await statements(s, "ratelimit.lease");
    const measured = (performance.now() - started) / 1000;
    console.log(
      `${String(n).padStart(2)} process${n === 1 ? "  " : "es"}  first ${BURST_SECONDS} s: ${spent} (burst + rate × ${BURST_SECONDS} s = ${2 * RATE + RATE * BURST_SECONDS})` +
        `  | then 2xx/s ${steady.join(" ")}: mean ${mean.toFixed(1)}/s (${off >= 0 ? "+" : ""}${off.toFixed(1)} %, ${Math.abs(off) <= 10 ? "within" : "NOT within"} ±10 %)` +
        `  | 429 ${refused}${other > 0 ? `, other ${other}` : ""}  | leases ${(leases / measured).toFixed(1)}/s`,
    );
  } finally {
    await Promise.all(services.map((s) => s.kill("SIGTERM")));
  }
  // read once the processes are gone: their stderr ends with them
  for (const s of services) {
    await s.exited;
    for (const line of s.stderr().split("\n")) {
      if (line.includes("rate limit store unavailable")) console.log(`    pid ${s.pid}: ${line}`);
    }
  }
}

/** The limiter alone, in this process: what a request pays on its way through when its
 * process holds tokens (the common case), against the in-memory bucket and no limit. */
async function microPart() {
  const { bench, run, summary } = await import("mitata");
  const { connect } = await import("../../src/db/client.ts");
  const { createLogger } = await import("../../src/log.ts");
  const { createRateLimiter } = await import("../../src/http/rate-limit.ts");
  const { createSharedRateLimiter } = await import("../../src/http/rate-lease.ts");
  const db = connect(DATABASE_URL, { poolMax: 2, prepare: true });
  const log = createLogger("silent");
  // a rate no loop here reaches: every call passes, the shared one leasing 100,000 at a time
  const shared = createSharedRateLimiter({ perSecond: 1_000_000, lease: 0, db, log });
  const local = createRateLimiter(1_000_000);
  const off = createSharedRateLimiter({ perSecond: 0, lease: 0, db, log });
  const principals = Array.from({ length: 100 }, (_, i) => ({
    tenantId: "bench-tenant",
    installId: `bench-micro-${i}`,
  }));
  for (const p of principals) await shared(p);
  await Bun.sleep(200); // the first leases in
  let i = 0;
  const next = () => principals[i++ % principals.length] as (typeof principals)[number];
  summary(() => {
    bench("limit off", () => off(next()));
    bench("in-memory bucket (embedded)", () => local(next()));
    bench("shared bucket, tokens in hand", () => shared(next()));
  });
  console.log("\nthe limiter alone, per request (100 installs in turn)");
  await run({ colors: false });
  await db.close();
}

try {
  if (part === "micro" || part === "all") await microPart();
  if (part === "cpu" || part === "all") await cpuPart();
  if (part === "accuracy" || part === "all") {
    console.log(
      `\naccuracy: STORAGE_RATE_LIMIT=${RATE} (burst ${2 * RATE}), one install, ${OFFERED * RATE} GETs/s offered round-robin, ${BURST_SECONDS} s + ${SECONDS} s measured`,
    );
    for (const n of PROCESSES) await accuracyRun(n);
  }
} finally {
  cluster?.stop();
}
