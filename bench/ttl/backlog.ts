// bun run bench:ttl — what an expired-row backlog costs reads, and how fast the sweeper
// drains it. Starts its own PostgreSQL 15 cluster unless DATABASE_URL is set.
//
// Phases, each GETs of live keys through the real HTTP server, one at a time:
//   none       no expired row anywhere
//   elsewhere  100,000 expired rows spread over 1,000 other installs
//   same       100,000 expired rows in the very namespace being read (the first GET's
//              cleanup meets them)
// then the sweeper drains 100,000 rows and reports rows/s.
//
// Every request must answer what it should (200 for a GET, 200 for a bulk-put): any other
// status fails the run with exit 1, instead of timing errors. The server runs with the rate
// limit off: it measures cleanup, not the limiter.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { sweepOnce } from "../../src/background.ts";
import { parseCommandLine } from "../../src/cli/args.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { mintToken } from "../../src/tokens.ts";
import { startAppServer } from "../../tools/app-server.ts";
import { onExit, runCommand } from "../../tools/cleanup.ts";
import { startCluster } from "../../tools/postgres.ts";
import { checkStatus, expectStatus } from "../status.ts";

parseCommandLine(
  `bun run bench:ttl

GET latency with a 100,000-row expired backlog (elsewhere, and in the namespace read) against
none, and the scheduled sweeper's drain rate. Starts its own PostgreSQL cluster unless
DATABASE_URL names a migrated database. Environment: BENCH_GETS (GETs per phase, default
3000), BENCH_BACKLOG (expired rows, default 100000).
`,
  {},
);

const GETS = Number(process.env.BENCH_GETS ?? 3000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const TARGET_RATIO = 1.2;
const SECRET = randomBytes(32).toString("base64url");

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

type Client = (method: string, path: string, body?: unknown) => Promise<Response>;

function clientOf(url: string, token: string): Client {
  return (method, path, body) =>
    fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

async function measure(label: string, call: Client, keys: string[]) {
  const times: number[] = [];
  for (let i = 0; i < GETS; i++) {
    const started = performance.now();
    const res = await call("GET", `/v1/namespaces/data/records/${encodeURIComponent(keys[i % keys.length] as string)}`);
    const body = await res.text();
    times.push(performance.now() - started);
    checkStatus(`${label}: GET`, res.status, 200, body);
  }
  times.sort((a, b) => a - b);
  const row = {
    label,
    p50: percentile(times, 0.5),
    p95: percentile(times, 0.95),
    p99: percentile(times, 0.99),
    max: times.at(-1) ?? 0,
  };
  console.log(
    `${label.padEnd(10)} p50 ${row.p50.toFixed(3)} ms  p95 ${row.p95.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms  max ${row.max.toFixed(1)} ms`,
  );
  return row;
}

async function backlog(
  sql: postgres.Sql,
  installPrefix: string,
  installs: number,
  namespace = "cache",
  install?: { tenantId: string; installId: string },
) {
  const perInstall = Math.ceil(BACKLOG / installs);
  if (install === undefined) {
    await sql`insert into ext_storage_usage (install_id, tenant_id, extension_id, bytes_used, record_count)
      select ${installPrefix} || i, 'bench-tenant', 'bench-ext', ${perInstall * 12}, ${perInstall} from generate_series(1, ${installs}) i`;
    await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes, expires_at)
      select 'bench-tenant', 'bench-ext', ${installPrefix} || i, ${namespace}, 'k' || j, '1', j, 12, now() - interval '1 second'
      from generate_series(1, ${installs}) i, generate_series(1, ${perInstall}) j`;
  } else {
    await sql`update ext_storage_usage set bytes_used = bytes_used + ${BACKLOG * 12}, record_count = record_count + ${BACKLOG}
      where install_id = ${install.installId}`;
    await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes, expires_at)
      select ${install.tenantId}, 'bench-ext', ${install.installId}, ${namespace}, 'expired-' || j, '1', 1000000 + j, 12, now() - interval '1 second'
      from generate_series(1, ${BACKLOG}) j`;
  }
  await sql`analyze ext_storage_records`;
}

await runCommand(async () => {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const cluster = await startCluster();
    process.stderr.write(`bench:ttl: PostgreSQL in ${cluster.dir}\n`);
    url = cluster.url("postgres");
  }
  const migrated = await dbmate(url, ["up"]);
  if (migrated.code !== 0) throw new Error(`migrating the benchmark database failed:\n${migrated.output}`);
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  onExit({ name: "bench:ttl connections", stop: () => sql.end({ timeout: 5 }) });
  const server = await startAppServer(url, {
    ...process.env,
    STORAGE_JWT_SECRET: SECRET,
    LOG_LEVEL: "warn",
    STORAGE_RATE_LIMIT: "0",
    TTL_LIST_SWEEP_EVERY: "0",
  });
  process.stderr.write(`bench:ttl: server ready at ${server.url}\n`);

  const id = `bench-${Date.now().toString(36)}`;
  const install = { tenantId: `tenant-${id}`, extensionId: `ext-${id}`, installId: `inst-${id}` };
  const token = await mintToken(
    { ...install, scope: "storage:read storage:write" },
    { secret: SECRET, audience: server.config.jwt.audience },
  );
  const c = clientOf(server.url, token);
  const keys = Array.from({ length: 1000 }, (_, i) => `user/${i}/settings`);
  for (let i = 0; i < keys.length; i += 500) {
    const res = await c("POST", "/v1/namespaces/data/bulk-put", {
      items: keys.slice(i, i + 500).map((key) => ({ key, value: { theme: "dark", i } })),
    });
    await expectStatus("writing the records read", res, 200);
  }
  await measure("warm-up", c, keys);
  const none = await measure("none", c, keys);

  const prefix = `bench-${Date.now().toString(36)}-`;
  await backlog(sql, prefix, 1000);
  const elsewhere = await measure("elsewhere", c, keys);

  await backlog(sql, prefix, 1, "data", install);
  const same = await measure("same", c, keys);

  await sql`delete from ext_storage_records where install_id like ${`${prefix}%`}`;
  await sql`delete from ext_storage_usage where install_id like ${`${prefix}%`}`;
  await backlog(sql, `${prefix}s-`, 1000);
  const started = performance.now();
  const deleted = await sweepOnce(server.db, server.config, server.metrics, 600_000);
  const seconds = (performance.now() - started) / 1000;

  console.log("");
  console.log(
    `GET p95, backlog elsewhere / none: ${(elsewhere.p95 / none.p95).toFixed(2)}× (target ≤ ${TARGET_RATIO}×)`,
  );
  console.log(
    `GET p95, backlog in the namespace read / none: ${(same.p95 / none.p95).toFixed(2)}× (target ≤ ${TARGET_RATIO}×); the first GET's cleanup took ${same.max.toFixed(0)} ms`,
  );
  console.log(
    `sweeper: ${deleted} rows in ${seconds.toFixed(2)} s = ${Math.round(deleted / seconds)} rows/s (batches of ${server.config.ttl.sweepMaxInstalls} installs × ${server.config.ttl.sweepMaxRows} rows)`,
  );
  return 0;
});
