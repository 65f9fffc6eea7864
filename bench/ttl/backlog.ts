// bun run bench:ttl — what an expired-row backlog costs reads, and how fast the sweeper
// drains it. Starts its own PostgreSQL 15 cluster unless DATABASE_URL is set.
//
// Phases, each GETs of live keys through the real HTTP server, one at a time:
//   none       no expired row anywhere
//   elsewhere  100,000 expired rows spread over 1,000 other installs
//   same       100,000 expired rows in the very namespace being read (the first GET's
//              cleanup meets them)
// then the sweeper drains 100,000 rows and reports rows/s.
import { dbmate } from "../../src/db/migrate.ts";
import { type Cluster, startCluster } from "../../test/helpers/postgres.ts";

const GETS = Number(process.env.BENCH_GETS ?? 3000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const TARGET_RATIO = 1.2;

let cluster: Cluster | undefined;
if (!process.env.DATABASE_URL) {
  cluster = await startCluster();
  process.env.DATABASE_URL = cluster.url("ext_storage_bench");
}
const migrated = await dbmate(process.env.DATABASE_URL as string, ["up"]);
if (migrated.code !== 0) throw new Error(migrated.output);

const { client, newInstall, startServer, tokenFor } = await import("../../test/helpers/server.ts");
const { sweepOnce } = await import("../../src/background.ts");
const postgres = (await import("postgres")).default;
const sql = postgres(process.env.DATABASE_URL as string, { max: 2, onnotice: () => {} });
const server = await startServer({ TTL_LIST_SWEEP_EVERY: "0" });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function measure(label: string, c: ReturnType<typeof client>, keys: string[]) {
  const times: number[] = [];
  for (let i = 0; i < GETS; i++) {
    const started = performance.now();
    const res = await c.get("data", keys[i % keys.length] as string);
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
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

try {
  const install = newInstall("bench");
  const c = client(server.url, await tokenFor(install));
  const keys = Array.from({ length: 1000 }, (_, i) => `user/${i}/settings`);
  for (let i = 0; i < keys.length; i += 500) {
    await c.bulk("data", "bulk-put", {
      items: keys.slice(i, i + 500).map((key) => ({ key, value: { theme: "dark", i } })),
    });
  }
  await measure("warm-up", c, keys);
  const none = await measure("none", c, keys);

  const prefix = `bench-${Date.now().toString(36)}-`;
  await backlog(prefix, 1000);
  const elsewhere = await measure("elsewhere", c, keys);

  await backlog(prefix, 1, "data", install);
  const same = await measure("same", c, keys);

  await sql`delete from ext_storage_records where install_id like ${`${prefix}%`}`;
  await sql`delete from ext_storage_usage where install_id like ${`${prefix}%`}`;
  await backlog(`${prefix}s-`, 1000);
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
} finally {
  await server.close();
  await sql.end();
  cluster?.stop();
}
