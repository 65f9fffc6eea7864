// The read path before and after values kept their canonical text (value_json), side by side
// on one database in one run, so a busy machine weighs on both alike:
//
//   bun run bench:values -- --before DIR [--requests 3000] [--rounds 3] [--concurrency 4] [--pgbench-seconds 15]
//
// DIR is a checkout of the earlier revision with its dependencies installed (it must run
// `bun src/main.ts`); DATABASE_URL a database migrated by this revision. The earlier service
// reads `value` (jsonb) and ignores value_json, so both serve the same rows.
//
// 1. Seeds 100 records (the load fixtures' values, 1–64 KiB) through this revision's
//    bulk-put, and copies them into a second namespace as the earlier release wrote them
//    (value_json null), which this revision canonicalises on read.
// 2. Service: GET of one record and a list page of 100 with values, closed loop, rounds
//    alternating between the earlier server, this one, and this one reading the older rows.
//    CPU per request is the server process's on-CPU time (/proc/<pid>/task/*/schedstat, in ns)
//    over the requests of a phase; latency is per request, from send to the end of the body.
// 3. Database: pgbench -M prepared with the earlier and the current records.get (and
//    records.list) as scripts of one run, equal weights; pgbench reports each one's latency.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { parseCommandLine, usageError } from "../../src/cli/args.ts";
import { statementText } from "../../src/db/sql.ts";
import { prefixUpperBound } from "../../src/records/keys.ts";
import { mintToken } from "../../src/tokens.ts";
import { onExit } from "../../tools/cleanup.ts";
import { freePort } from "../../tools/postgres.ts";
import { PGBENCH } from "../load/ceiling.ts";
import { loadFixtures, valueFor } from "../load/data.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SECRET = "bench-values-secret-0123456789-abcdefgh";
const KEYS = 100;

const USAGE = `DATABASE_URL=postgres://… bun run bench:values -- --before DIR [options]

The read path of values before and after they were stored as canonical text: the service of
the checkout in DIR and this one, side by side on one database, then pgbench on the old and
new statements in one run. Prints server CPU per request, latency and bytes.

  --before DIR             a checkout (with node_modules) of the code to compare against
  --requests N             requests per measurement (default 3000)
  --rounds N               rounds of each measurement (default 3)
  --concurrency N          clients at once (default 4)
  --pgbench-seconds N      length of each pgbench run (default 15)
`;

const { values: args } = parseCommandLine(USAGE, {
  before: { type: "string" },
  requests: { type: "string", default: "3000" },
  rounds: { type: "string", default: "3" },
  concurrency: { type: "string", default: "4" },
  "pgbench-seconds": { type: "string", default: "15" },
});
const databaseUrl = process.env.DATABASE_URL;
if (args.before === undefined || databaseUrl === undefined) usageError(USAGE.split("\n")[0] as string);
const beforeDir = args.before;
const requests = Number(args.requests);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);
const pgbenchSeconds = Number(args["pgbench-seconds"]);

const install = { tenantId: "bench-values-t", extensionId: "bench-values-e", installId: "bench-values-i" };
const keyOf = (n: number) => `k${String(n).padStart(3, "0")}`;

type Server = { name: string; url: string; pid: number; proc: ReturnType<typeof Bun.spawn> };

async function startServer(name: string, cwd: string): Promise<Server> {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/main.ts"], {
    cwd,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STORAGE_JWT_SECRET: SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      STORAGE_RATE_LIMIT: "0",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  // stopped with the command, however it ends (tools/cleanup.ts)
  onExit({ name: `${name} server ${proc.pid}`, stop: () => proc.kill(), force: () => proc.kill("SIGKILL") });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { name, url, pid: proc.pid, proc };
    await Bun.sleep(100);
  }
  proc.kill();
  throw new Error(`${name} did not become ready`);
}

/** On-CPU nanoseconds of every thread of a process so far. */
function cpuNs(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return total;
}

type Sample = { cpuNs: number; count: number; bytes: number; latenciesMs: number[] };
const samples = new Map<string, Sample>();

async function phase(label: string, server: Server, token: string, paths: string[], count: number) {
  const latencies: number[] = [];
  let bytes = 0;
  let next = 0;
  const cpu0 = cpuNs(server.pid);
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const started = performance.now();
      const res = await fetch(server.url + paths[i % paths.length], { headers: { authorization: `Bearer ${token}` } });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${label}: ${res.status}`);
      latencies.push(performance.now() - started);
      bytes += body.byteLength;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = samples.get(label) ?? { cpuNs: 0, count: 0, bytes: 0, latenciesMs: [] };
  s.cpuNs += cpuNs(server.pid) - cpu0;
  s.count += count;
  s.bytes += bytes;
  s.latenciesMs.push(...latencies);
  samples.set(label, s);
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A statement as a pgbench script: its parameters replaced, highest number first ($10 before $1). */
function pgbenchScript(sqlText: string, params: string[]): string {
  let body = sqlText
    .split("\n")
    .filter((l) => !l.startsWith("--"))
    .join("\n")
    .trim();
  for (let i = params.length; i >= 1; i--) body = body.replaceAll(`$${i}`, params[i - 1] as string);
  return `\\set k random(0, ${KEYS - 1})\n${body};\n`;
}

const scope = [lit(install.installId), lit(install.tenantId)];
const getParams = (ns: string) => [...scope, lit(ns), "array['k' || lpad((:k)::text, 3, '0')]"];
const listParams = (ns: string) => [...scope, lit(ns), "''", "''", lit(prefixUpperBound("")), String(KEYS + 1), "true"];
// records.upsert takes one namespace per item since the write pipeline (a checkout from
// before that takes one namespace for all)
const upsertParams = (upsertSql: string, valueText: string) => [
  ...scope,
  lit(install.extensionId),
  upsertSql.includes("$4 namespaces (text[])") ? "array['w']" : "'w'",
  "array['w' || (:k)::text]",
  // base64, because pgbench reads ":name" anywhere in a script as one of its variables
  `array[convert_from(decode('${Buffer.from(valueText).toString("base64")}', 'base64'), 'UTF8')]`,
  "array[1]",
  `array[${Buffer.byteLength(valueText) + 4}]`,
  "array[null]",
  "array[null]",
];

const servers: Server[] = [];
const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
try {
  // 1. data
  await sql`delete from ext_storage_records where install_id = ${install.installId}`;
  await sql`delete from ext_storage_usage where install_id = ${install.installId}`;
  const after = await startServer("after", ROOT);
  servers.push(after);
  const before = await startServer("before", beforeDir);
  servers.push(before);
  const token = await mintToken(
    { ...install, scope: "storage:read storage:write" },
    { secret: SECRET, audience: "ext-storage" },
  );
  const fixtures = loadFixtures();
  const items = Array.from({ length: KEYS }, (_, n) => {
    const fixture = fixtures[n % fixtures.length] as (typeof fixtures)[number];
    return { key: keyOf(n), value: valueFor(1, { ...install, index: 0 }, fixture, n) };
  });
  for (let i = 0; i < KEYS; i += 25) {
    const res = await fetch(`${after.url}/v1/namespaces/v/bulk-put`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ items: items.slice(i, i + 25) }),
    });
    if (res.status !== 200) throw new Error(`seeding: ${res.status} ${await res.text()}`);
  }
  // the value of the fault: 9,362 × 5e-324, 65,535 bytes as written, about 3 MB as jsonb prints it
  const tiny = `{"value":[${Array(9362).fill("5e-324").join(",")}]}`;
  const put = await fetch(`${after.url}/v1/namespaces/t/records/tiny`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: tiny,
  });
  if (put.status !== 201) throw new Error(`seeding: ${put.status} ${await put.text()}`);
  await sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
            select tenant_id, extension_id, install_id, 'legacy', key, value, revision, size_bytes
            from ext_storage_records where install_id = ${install.installId} and namespace = 'v'`;
  await sql`update ext_storage_usage set (bytes_used, record_count) =
            (select sum(size_bytes), count(*) from ext_storage_records where install_id = ${install.installId})
            where install_id = ${install.installId}`;
  await sql`vacuum analyze ext_storage_records`;
  const [sizes] = await sql`select sum(octet_length(value_json::text))::int as canonical,
                                   sum(octet_length(value::text))::int as jsonb_text,
                                   sum(pg_column_size(value))::int as jsonb_stored,
                                   sum(pg_column_size(value_json))::int as json_stored
                            from ext_storage_records where install_id = ${install.installId} and namespace = 'v'`;
  console.log(`data: ${KEYS} records; value bytes: canonical ${sizes?.canonical}, jsonb text ${sizes?.jsonb_text};`);
  console.log(
    `      stored (pg_column_size, after compression): jsonb ${sizes?.jsonb_stored}, json ${sizes?.json_stored}`,
  );

  // 2. service
  const getPaths = (ns: string) => Array.from({ length: KEYS }, (_, n) => `/v1/namespaces/${ns}/records/${keyOf(n)}`);
  const listPaths = (ns: string) => [`/v1/namespaces/${ns}/records?limit=100`];
  const variants: Array<[string, Server, string]> = [
    ["before", before, "v"],
    ["after", after, "v"],
    ["after, rows older than value_json", after, "legacy"],
  ];
  const tinyPath = ["/v1/namespaces/t/records/tiny"];
  for (const [, server, ns] of variants) {
    await phase("warm-up", server, token, getPaths(ns), 300);
    await phase("warm-up", server, token, listPaths(ns), 30);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, server, ns] of r % 2 === 0 ? variants : [...variants].reverse()) {
      await phase(`GET one record | ${name}`, server, token, getPaths(ns), requests);
      await phase(`list page of 100 | ${name}`, server, token, listPaths(ns), Math.max(50, Math.round(requests / 20)));
      if (ns === "v")
        await phase(`GET 9,362 × 5e-324 | ${name}`, server, token, tinyPath, Math.max(20, Math.round(requests / 50)));
    }
  }
  console.log(
    `\nservice (closed loop, ${concurrency} in flight, ${rounds} alternating rounds; server CPU = on-CPU time of its threads ÷ requests)`,
  );
  console.log("| request | server | server CPU µs/request | p50 ms | p99 ms | bytes/response |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const [label, s] of samples) {
    if (label === "warm-up") continue;
    const sorted = s.latenciesMs.sort((a, b) => a - b);
    console.log(
      `| ${label} | ${(s.cpuNs / s.count / 1000).toFixed(0)} | ${pct(sorted, 50).toFixed(2)} | ${pct(sorted, 99).toFixed(2)} | ${Math.round(s.bytes / s.count)} |`,
    );
  }

  // 3. database
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-bench-values-"));
  try {
    const read = (base: string, file: string) => statementText(join(base, "sql"), `records/${file}`);
    // the write: a value of median size, as JSON.stringify writes it
    const median = items.map((i) => JSON.stringify(i.value)).sort((a, b) => a.length - b.length)[KEYS / 2] as string;
    const groups: Array<Array<[string, string]>> = [
      [
        ["records.get before", pgbenchScript(read(beforeDir, "get.sql"), getParams("v"))],
        // the keys-array statement is records.bulk_get since GET took one key of its own
        ["records.get after", pgbenchScript(read(ROOT, "bulk-get.sql"), getParams("v"))],
        ["records.get after, older rows", pgbenchScript(read(ROOT, "bulk-get.sql"), getParams("legacy"))],
      ],
      [
        ["records.list before (100 with values)", pgbenchScript(read(beforeDir, "list.sql"), listParams("v"))],
        ["records.list after (100 with values)", pgbenchScript(read(ROOT, "list.sql"), listParams("v"))],
      ],
      [
        [
          `records.upsert before (${median.length} B)`,
          pgbenchScript(read(beforeDir, "upsert.sql"), upsertParams(read(beforeDir, "upsert.sql"), median)),
        ],
        [
          `records.upsert after (${median.length} B)`,
          pgbenchScript(read(ROOT, "upsert.sql"), upsertParams(read(ROOT, "upsert.sql"), median)),
        ],
      ],
    ];
    const pgArgs = ["-n", "-M", "prepared", "-c", "2", "-j", "2", "-T", String(pgbenchSeconds)];
    console.log("\n| statement | pgbench run | transactions | latency average ms |");
    console.log("| --- | --- | ---: | ---: |");
    for (const [g, scripts] of groups.entries()) {
      const files = scripts.map(([, text], i) => {
        const file = join(dir, `g${g}s${i}.sql`);
        writeFileSync(file, text);
        return file;
      });
      const command = `pgbench ${pgArgs.join(" ")} ${files.map((_, i) => `-f g${g}s${i}.sql@1`).join(" ")}`;
      const run = spawnSync(PGBENCH, [...pgArgs, ...files.flatMap((f) => ["-f", `${f}@1`]), databaseUrl], {
        encoding: "utf8",
        timeout: (pgbenchSeconds + 60) * 1000,
      });
      if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr}`);
      const blocks = run.stdout.split(/^SQL script \d+: /m).slice(1);
      blocks.forEach((block, i) => {
        const n = / - (\d+) transactions/.exec(block)?.[1];
        const latency = /latency average = ([\d.]+) ms/.exec(block)?.[1];
        console.log(`| ${scripts[i]?.[0]} | \`${command}\` | ${n} | ${latency} |`);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  for (const s of servers) s.proc.kill();
  await Promise.all(servers.map((s) => s.proc.exited));
  await sql`delete from ext_storage_records where install_id = ${install.installId}`;
  await sql`delete from ext_storage_usage where install_id = ${install.installId}`;
  await sql.end({ timeout: 5 });
}
