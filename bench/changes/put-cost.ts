// bun bench/changes/put-cost.ts [--root DIR] [--puts N] [--rounds R]
//
// The database's CPU per PUT: a throwaway PostgreSQL cluster (tools/postgres.ts), migrated
// with the checkout's own migrations, the checkout's app served in process, and N PUTs over
// HTTP (8 at a time, 50 installs, 20 keys each, a ~400-byte value). The figure is the CPU time
// (utime + stime from /proc) of the cluster's backends during the PUTs, divided by N: what a
// PUT costs the database, whatever the client and the service cost.
//
// --root names another checkout of the service (e.g. `git archive main | tar -x -C /tmp/x`,
// with node_modules linked in) to measure the same thing before a change. Rounds alternate
// warm-up and measure on the same cluster; each round's figure is printed, then the median.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: resolve(import.meta.dir, "../..") },
    puts: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
  },
});
const root = resolve(values.root as string);
const PUTS = Number(values.puts);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = 8;
const INSTALLS = 50;
const KEYS = 20;
const SECRET = "bench-secret-0123456789-abcdefghijklmnop";

const { startCluster } = await import(join(root, "tools/postgres.ts"));
const { startAppServer } = await import(join(root, "tools/app-server.ts"));
const { mintToken } = await import(join(root, "src/tokens.ts"));

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds of every process whose parent is the postmaster (the backends). */
function backendsCpu(postmaster: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== postmaster) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / TICKS;
}

const cluster = await startCluster();
try {
  const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe("create database bench_put");
  await admin.end();
  const url = cluster.url("bench_put");
  const migrated = Bun.spawnSync(["bun", "src/cli/db/migrate.ts", "--url", url], { cwd: root, stderr: "pipe" });
  if (migrated.exitCode !== 0) throw new Error(`migration failed: ${migrated.stderr}`);
  const postmaster = Number(readFileSync(join(cluster.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);

  const server = await startAppServer(url, {
    ...process.env,
    DATABASE_URL: url,
    STORAGE_JWT_SECRET: SECRET,
    LOG_LEVEL: "silent",
    STORAGE_RATE_LIMIT: "0",
  });
  const tokens = await Promise.all(
    Array.from({ length: INSTALLS }, (_, i) =>
      mintToken(
        {
          tenantId: "bench",
          extensionId: "bench-ext",
          installId: `bench-put-${i}`,
          scope: "storage:read storage:write",
        },
        { secret: SECRET, audience: "ext-storage", ttlSeconds: 3600 },
      ),
    ),
  );
  const value = { theme: "dark", recent: Array.from({ length: 40 }, (_, i) => `item-${i}`) };
  const body = JSON.stringify({ value });

  async function puts(n: number) {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const res = await fetch(`${server.url}/v1/namespaces/settings/records/k${i % KEYS}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${tokens[i % INSTALLS]}`, "content-type": "application/json" },
          body,
        });
        if (res.status >= 300) throw new Error(`PUT: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  const figures: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await puts(Math.ceil(PUTS / 4)); // warm-up: prepared statements, caches
    const cpu0 = backendsCpu(postmaster);
    const t0 = performance.now();
    await puts(PUTS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = backendsCpu(postmaster) - cpu0;
    const perPut = (cpu * 1e6) / PUTS;
    figures.push(perPut);
    console.log(
      `round ${round + 1}: ${PUTS} PUTs in ${seconds.toFixed(2)} s (${(PUTS / seconds).toFixed(0)}/s), ` +
        `backends' CPU ${cpu.toFixed(2)} s = ${perPut.toFixed(0)} µs per PUT`,
    );
  }
  figures.sort((a, b) => a - b);
  console.log(`${root}: median ${figures[Math.floor(figures.length / 2)]?.toFixed(0)} µs of database CPU per PUT`);
  await server.close();
} finally {
  cluster.stop();
}
