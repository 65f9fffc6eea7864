// The servers part of bench:peers: the service (with STORAGE_WORKERS 1, 2, …), the naive peer
// and the floor, all on one database, each driven in turn by the same closed loop of GETs
// and then PUTs (requests interleaved by round). For each: requests per second, server CPU
// µs per request (user + system time of its processes, from /proc) and machine CPU µs per
// request (all cores' busy time, from /proc/stat: the load generator, PostgreSQL and anything
// else running on the machine included).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { mintToken } from "../../src/tokens.ts";
import { onExit } from "../../tools/cleanup.ts";
import { freePort } from "../../tools/postgres.ts";
import { startServiceProcess } from "../../tools/service.ts";
import { cpuSeconds, processTree } from "../load/server.ts";
import { installId, median, SEED, VALUE } from "./statements.ts";

const SECRET = "bench-peers-secret-0123456789-abcdefghij";
const HERE = fileURLToPath(new URL("./", import.meta.url));

type Target = { name: string; url: string; pids: () => number[]; stop: () => Promise<void>; auth: boolean };

/** All cores' busy seconds so far (everything but idle and iowait), from /proc/stat. */
function machineBusy(): number {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (f[3] as number) - (f[4] as number)) / 100;
}

async function startProgram(name: string, file: string, databaseUrl: string): Promise<Target> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, file], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), PEERS_TENANT: SEED.tenant },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "inherit",
  });
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  // stopped however the run ends (Ctrl-C included), before the seed it writes over is removed
  const forget = onExit({ name, stop, force: () => proc.kill("SIGKILL") });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/v1/namespaces/${SEED.namespace}/records/k000`, {
      headers: { "x-install": installId(0) },
    })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (i === 299) throw new Error(`${name} did not answer`);
    await Bun.sleep(100);
  }
  return {
    name,
    url,
    auth: false,
    pids: () => [proc.pid],
    stop: async () => {
      forget();
      await stop();
    },
  };
}

async function startService(workers: number, databaseUrl: string): Promise<Target> {
  const service = await startServiceProcess({
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STORAGE_JWT_SECRET: SECRET,
      STORAGE_WORKERS: String(workers),
      LOG_LEVEL: "info",
      // one token per install, far past the per-install request rate on purpose
      STORAGE_RATE_LIMIT: "0",
    },
  });
  // the workers come up after the primary answers: wait for all of them
  for (let i = 0; i < 300 && processTree(service.pid).length < workers; i++) await Bun.sleep(100);
  await Bun.sleep(workers > 1 ? 3000 : 0);
  return {
    name: `service (STORAGE_WORKERS=${workers})`,
    url: service.url,
    auth: true,
    pids: () => processTree(service.pid),
    stop: service.stop,
  };
}

type Phase = { requests: number; seconds: number; serverCpu: number; machineCpu: number; errors: number };

async function drive(target: Target, kind: "GET" | "PUT", requests: number, concurrency: number, tokens: string[]) {
  const installs = SEED.installs;
  const body = `{"value":${VALUE}}`;
  const pids = target.pids();
  const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const m0 = machineBusy();
  const t0 = performance.now();
  let next = 0;
  let errors = 0;
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const inst = i % installs;
      const headers: Record<string, string> = target.auth
        ? { authorization: `Bearer ${tokens[inst]}` }
        : { "x-install": installId(inst) };
      const key = `k${String(Math.floor(i / installs) % SEED.keys).padStart(3, "0")}`;
      const res =
        kind === "GET"
          ? await fetch(`${target.url}/v1/namespaces/${SEED.namespace}/records/${key}`, { headers })
          : await fetch(`${target.url}/v1/namespaces/peers-put/records/${key}`, {
              method: "PUT",
              headers: { ...headers, "content-type": "application/json" },
              body,
            });
      await res.arrayBuffer();
      if (res.status >= 300) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = target.pids().reduce((s, p) => s + cpuSeconds(p), 0) - cpu0;
  return { requests, seconds, serverCpu, machineCpu: machineBusy() - m0, errors } satisfies Phase;
}

export async function runServers(o: {
  databaseUrl: string;
  requests: number;
  concurrency: number;
  rounds: number;
  workers: number[];
}): Promise<unknown> {
  const tokens = await Promise.all(
    Array.from({ length: SEED.installs }, (_, i) =>
      mintToken(
        {
          tenantId: SEED.tenant,
          extensionId: "peers-ext",
          installId: installId(i),
          scope: "storage:read storage:write",
        },
        { secret: SECRET, audience: "ext-storage" },
      ),
    ),
  );
  const targets: Target[] = [];
  try {
    for (const w of o.workers) targets.push(await startService(w, o.databaseUrl));
    targets.push(await startProgram("naive (Elysia + postgres.js)", `${HERE}naive.ts`, o.databaseUrl));
    targets.push(await startProgram("floor (Bun.serve + Bun SQL)", `${HERE}floor.ts`, o.databaseUrl));
    const phases = new Map<string, Phase[]>();
    for (const t of targets) await drive(t, "GET", 500, o.concurrency, tokens); // warm-up
    for (const t of targets) await drive(t, "PUT", 500, o.concurrency, tokens);
    for (let round = 0; round < o.rounds; round++) {
      for (const kind of ["GET", "PUT"] as const) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          const p = await drive(t, kind, o.requests, o.concurrency, tokens);
          const key = `${t.name} ${kind}`;
          phases.set(key, [...(phases.get(key) ?? []), p]);
        }
      }
    }
    const results = [];
    const floor = (kind: string) => phases.get(`floor (Bun.serve + Bun SQL) ${kind}`) ?? [];
    console.log(`\nservers: ${o.requests} requests per run, ${o.concurrency} in flight, ${o.rounds} rounds, medians`);
    console.log("server | request | req/s | server CPU µs/req | × floor | machine CPU µs/req | errors");
    for (const kind of ["GET", "PUT"]) {
      const floorCpu = median(floor(kind).map((p) => (p.serverCpu * 1e6) / p.requests));
      for (const t of targets) {
        const ps = phases.get(`${t.name} ${kind}`) ?? [];
        const rps = median(ps.map((p) => p.requests / p.seconds));
        const cpu = median(ps.map((p) => (p.serverCpu * 1e6) / p.requests));
        const machine = median(ps.map((p) => (p.machineCpu * 1e6) / p.requests));
        const errors = ps.reduce((s, p) => s + p.errors, 0);
        const ratio = cpu / floorCpu;
        results.push({
          server: t.name,
          request: kind,
          reqPerSecond: rps,
          serverCpuUsPerRequest: cpu,
          floorRatio: ratio,
          machineCpuUsPerRequest: machine,
          errors,
          runs: ps,
        });
        console.log(
          `${t.name} | ${kind} | ${rps.toFixed(0)} | ${cpu.toFixed(1)} | ${ratio.toFixed(2)}×${t.name.startsWith("service") ? " (target ≤ 1.3×)" : ""} | ${machine.toFixed(1)} | ${errors}`,
        );
      }
    }
    return { requests: o.requests, concurrency: o.concurrency, rounds: o.rounds, results };
  } finally {
    for (const t of targets) await t.stop().catch(() => {});
  }
}
