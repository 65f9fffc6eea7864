// bun run bench:peers — the service beside the programs it is measured against, on one
// database in one run:
//   servers     GET and PUT through the service, the naive peer (bench/peers/naive.ts:
//               Elysia + postgres.js, no auth, TTL or metrics) and the floor
//               (bench/peers/floor.ts: Bun.serve + Bun's native SQL client passing the stored
//               text through): req/s, server CPU µs per request, machine CPU µs per request
//   statements  each read and write statement of sql/records/ against its plain equivalent
//               under pgbench (bench/peers/statements.ts): database CPU µs per call and ratio
//   layers      the service's CPU per GET and per PUT split by layer, in this process
//               (bench/peers/layers.ts): the statements alone, the domain, app.handle
// Writes a JSON report (--out, default bench-peers.json) and prints each figure beside its
// target (issue 13). Needs DATABASE_URL on this machine (pgbench and the backends' CPU).
// Its 50 installs (peers-install-*) are seeded at the start and removed at the end.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { parseCommandLine } from "../../src/cli/args.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { onExit } from "../../tools/cleanup.ts";
import { runLayers } from "./layers.ts";
import { runServers } from "./servers.ts";
import { median, PGBENCH, pairs, parentOf, postmasterCpu, seed, unseed } from "./statements.ts";

const HELP = `bun run bench:peers [--part servers|statements|layers|all] [options]

  --part NAME          servers, statements, layers or all (default all)
  --seconds N          length of each pgbench run (default 5)
  --rounds N           rounds, every configuration once per round, interleaved (default 3)
  --clients N          pgbench connections (default 4)
  --requests N         requests per server (or layer) and round in the servers and layers
                       parts (default 4000)
  --concurrency N      requests in flight in the servers and layers parts (default 32)
  --workers LIST       STORAGE_WORKERS values the service runs with (default 1,2)
  --out FILE           the JSON report (default bench-peers.json)
  --help               this text

DATABASE_URL names a PostgreSQL on this machine (migrated here).`;

const { values } = parseCommandLine(HELP, {
  part: { type: "string", default: "all" },
  seconds: { type: "string", default: "5" },
  rounds: { type: "string", default: "3" },
  clients: { type: "string", default: "4" },
  requests: { type: "string", default: "4000" },
  concurrency: { type: "string", default: "32" },
  workers: { type: "string", default: "1,2" },
  out: { type: "string", default: "bench-peers.json" },
});
const num = (name: string, max: number) => {
  const n = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(n) || n <= 0 || n > max) {
    console.error(`--${name} must be an integer from 1 to ${max}`);
    process.exit(2);
  }
  return n;
};
const part = values.part as string;
if (!["servers", "statements", "layers", "all"].includes(part)) {
  console.error(`--part must be servers, statements, layers or all, got "${part}"`);
  process.exit(2);
}
const SECONDS = num("seconds", 600);
const ROUNDS = num("rounds", 20);
const CLIENTS = num("clients", 64);
const REQUESTS = num("requests", 1_000_000);
const CONCURRENCY = num("concurrency", 1024);
const WORKERS = (values.workers as string).split(",").map(Number);
if (WORKERS.some((w) => !Number.isInteger(w) || w < 1 || w > 64)) {
  console.error(`--workers must be a comma-separated list of integers from 1 to 64, got "${values.workers}"`);
  process.exit(2);
}
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.error("bench:peers needs DATABASE_URL: a PostgreSQL on this machine");
  process.exit(2);
}
const migrated = await dbmate(DATABASE_URL, ["up"]);
if (migrated.code !== 0) throw new Error(migrated.output);

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  cpus: cpus().length,
  loadBefore: loadavg(),
  bun: Bun.version,
};

// the seeded installs go however the run ends: at its end, on an error, on Ctrl-C (once,
// whichever asks first; the others wait for that removal)
let removing: Promise<void> | undefined;
const removeSeed = () =>
  (removing ??= (async () => {
    const cleanup = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      await unseed(cleanup);
    } finally {
      await cleanup.end();
    }
  })());
const forgetSeed = onExit({ name: "bench:peers' seeded installs", stop: removeSeed });
const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
await seed(sql);
const [backend] = await sql<{ pid: number; version: string }[]>`select pg_backend_pid() as pid, version()`;
report.postgres = backend?.version;
const postmaster = parentOf(Number(backend?.pid));
await sql.end();

try {
  if (part === "statements" || part === "all") {
    const dir = mkdtempSync(join(tmpdir(), "bench-peers-"));
    try {
      const results: Record<string, unknown>[] = [];
      const runs = new Map<string, { tps: number[]; cpu: number[] }>();
      const list = pairs();
      const pgbench = (name: string, file: string) => {
        const before = postmaster === undefined ? undefined : postmasterCpu(postmaster);
        const out = Bun.spawnSync(
          [
            PGBENCH,
            "-n",
            "-M",
            "prepared",
            "-c",
            String(CLIENTS),
            "-j",
            "2",
            "-T",
            String(SECONDS),
            "-f",
            file,
            DATABASE_URL,
          ],
          { stdout: "pipe", stderr: "pipe" },
        );
        if (out.exitCode !== 0) throw new Error(`pgbench ${name} failed:\n${out.stderr.toString()}`);
        const text = out.stdout.toString();
        const tx = Number(/number of transactions actually processed: (\d+)/.exec(text)?.[1]);
        const tps = Number(/tps = ([\d.]+)/.exec(text)?.[1]);
        Bun.sleepSync(300); // the backends exit and are reaped into the postmaster's figures
        const after = postmaster === undefined ? undefined : postmasterCpu(postmaster);
        const cpuUs = before === undefined || after === undefined ? Number.NaN : ((after - before) * 1e6) / tx;
        const seen = runs.get(name) ?? { tps: [], cpu: [] };
        seen.tps.push(tps);
        seen.cpu.push(cpuUs);
        runs.set(name, seen);
      };
      for (const [i, p] of list.entries()) {
        writeFileSync(join(dir, `${i}-statement.sql`), p.statement);
        writeFileSync(join(dir, `${i}-plain.sql`), p.plain);
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, p] of list.entries()) {
          // alternate which goes first, so neither always runs on a warmer cache
          const order = round % 2 === 0 ? ["statement", "plain"] : ["plain", "statement"];
          for (const which of order) pgbench(`${p.name} ${which}`, join(dir, `${i}-${which}.sql`));
        }
      }
      const target = (name: string) => (/^records\.(get|bulk_get|list) /.test(name) ? 1.15 : undefined);
      console.log(`\nstatements: pgbench -n -M prepared -c ${CLIENTS} -j 2 -T ${SECONDS}, ${ROUNDS} rounds, medians`);
      console.log("statement | tps | plain tps | database CPU µs/call | plain µs/call | ratio | target");
      for (const p of list) {
        const s = runs.get(`${p.name} statement`) as { tps: number[]; cpu: number[] };
        const q = runs.get(`${p.name} plain`) as { tps: number[]; cpu: number[] };
        const ratio = median(s.cpu) / median(q.cpu);
        const t = target(p.name);
        results.push({
          name: p.name,
          note: p.note,
          tps: median(s.tps),
          plainTps: median(q.tps),
          dbCpuUsPerCall: median(s.cpu),
          plainDbCpuUsPerCall: median(q.cpu),
          ratio,
          target: t ?? null,
          met: t === undefined ? null : ratio <= t,
          rounds: { statement: s, plain: q },
        });
        console.log(
          `${p.name} | ${median(s.tps).toFixed(0)} | ${median(q.tps).toFixed(0)} | ${median(s.cpu).toFixed(1)} | ${median(q.cpu).toFixed(1)} | ${ratio.toFixed(2)}× | ${t === undefined ? "reported" : `≤ ${t}× ${ratio <= t ? "met" : "MISSED"}`}`,
        );
      }
      report.statements = {
        command: `pgbench -n -M prepared -c ${CLIENTS} -j 2 -T ${SECONDS}`,
        rounds: ROUNDS,
        results,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // the closed loops of the servers and layers parts
  const loops = { databaseUrl: DATABASE_URL, requests: REQUESTS, concurrency: CONCURRENCY, rounds: ROUNDS };
  if (part === "servers" || part === "all") report.servers = await runServers({ ...loops, workers: WORKERS });
  if (part === "layers" || part === "all") report.layers = await runLayers(loops);
} finally {
  // on an error too; forgotten only once removed, so a signal meanwhile waits for it
  await removeSeed();
  forgetSeed();
}

report.loadAfter = loadavg();
writeFileSync(values.out as string, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nreport: ${values.out} (load average before ${report.loadBefore}, after ${report.loadAfter})`);
