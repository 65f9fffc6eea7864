// bun bench/changes/watch.ts [--streams N] [--installs M] [--rate W] [--seconds S] [--database-url URL]
//
// Watch streams under a write load: a throwaway PostgreSQL cluster (tools/postgres.ts),
// migrated (or, with --database-url, a database already migrated: a Citus coordinator); the service as its own process (src/main.ts, LISTEN/NOTIFY wake-up); N raw
// loopback connections each holding GET /v1/watch open (spread over M installs); then W
// PUTs a second, round-robin over the installs, for S seconds. For every change and every
// stream of its install it reports the time from the PUT's answer (the write committed) to
// the event's arrival, and from the PUT's start (an upper bound that includes the write);
// and the service's resident memory per open stream (RSS with the streams open, less RSS
// before, over N).
import { type Socket, connect as tcp } from "node:net";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { mintToken } from "../../src/tokens.ts";
import { startCluster } from "../../tools/postgres.ts";
import { startServiceProcess } from "../../tools/service.ts";
import { treeRssMiB } from "../load/server.ts";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "200" },
    installs: { type: "string", default: "20" },
    rate: { type: "string", default: "50" },
    seconds: { type: "string", default: "20" },
    "database-url": { type: "string" },
  },
});
const STREAMS = Number(values.streams);
const INSTALLS = Number(values.installs);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const SECRET = "bench-secret-0123456789-abcdefghijklmnop";
const ROOT = resolve(import.meta.dir, "../..");

const rssMiB = (pid: number) => treeRssMiB(pid) ?? Number.NaN;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

const given = values["database-url"];
const cluster = given === undefined ? await startCluster() : undefined;
const sockets: Socket[] = [];
let service: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
try {
  let url = given as string;
  if (cluster !== undefined) {
    const admin = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
    await admin.unsafe("create database bench_watch");
    await admin.end();
    url = cluster.url("bench_watch");
    const migrated = Bun.spawnSync(["bun", "src/cli/db/migrate.ts", "--url", url], { cwd: ROOT, stderr: "pipe" });
    if (migrated.exitCode !== 0) throw new Error(`migration failed: ${migrated.stderr}`);
  }

  service = await startServiceProcess({
    env: {
      ...process.env,
      DATABASE_URL: url,
      STORAGE_JWT_SECRET: SECRET,
      LOG_LEVEL: "error",
      STORAGE_RATE_LIMIT: "0",
      STORAGE_MAX_WATCHERS_PER_INSTALL: String(Math.max(16, Math.ceil(STREAMS / INSTALLS))),
      STORAGE_IDLE_TIMEOUT_SECONDS: "255",
    },
    readyTimeoutMs: 30_000,
  });
  const base = service.url;
  const port = Number(new URL(base).port);
  const tokens = await Promise.all(
    Array.from({ length: INSTALLS }, (_, i) =>
      mintToken(
        {
          tenantId: "bench",
          extensionId: "bench-ext",
          installId: `bench-watch-${i}`,
          scope: "storage:read storage:write",
        },
        { secret: SECRET, audience: "ext-storage", ttlSeconds: 3600 },
      ),
    ),
  );
  const put = async (install: number, key: string) => {
    const res = await fetch(`${base}/v1/namespaces/b/records/${key}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${tokens[install]}`, "content-type": "application/json" },
      body: JSON.stringify({ value: { key } }),
    });
    if (res.status >= 300) throw new Error(`PUT ${res.status}`);
    await res.arrayBuffer();
  };
  // every install written once, so its usage row exists and the feed has a head
  for (let i = 0; i < INSTALLS; i++) await put(i, "warm");
  await Bun.sleep(500);
  const rssBefore = rssMiB(service.pid);

  // arrivals[key] = times the event arrived on the streams of its install
  const arrivals = new Map<string, number[]>();
  let opened = 0;
  let closedEarly = 0;
  const open = (i: number) =>
    new Promise<void>((done, fail) => {
      const install = i % INSTALLS;
      const socket = tcp({ host: "127.0.0.1", port });
      sockets.push(socket);
      let text = "";
      let ready = false;
      socket.setEncoding("utf8");
      socket.on("connect", () =>
        socket.write(
          `GET /v1/watch HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${tokens[install]}\r\naccept: text/event-stream\r\n\r\n`,
        ),
      );
      socket.on("data", (chunk: string) => {
        const at = performance.now();
        text += chunk;
        if (!ready && text.includes("watching from")) {
          ready = true;
          opened++;
          done();
        }
        for (const m of text.matchAll(/"key":"(s\d+)"/g)) {
          const key = m[1] as string;
          arrivals.set(key, [...(arrivals.get(key) ?? []), at]);
        }
        text = text.slice(Math.max(0, text.lastIndexOf("\n\n")));
      });
      socket.on("error", (e) => (ready ? undefined : fail(e)));
      socket.on("close", () => {
        if (ready) closedEarly++;
      });
    });
  const openStarted = performance.now();
  for (let from = 0; from < STREAMS; from += 250) {
    await Promise.all(Array.from({ length: Math.min(250, STREAMS - from) }, (_, j) => open(from + j)));
  }
  const openSeconds = (performance.now() - openStarted) / 1000;
  await Bun.sleep(1000);
  const rssOpen = rssMiB(service.pid);

  // the write load: RATE PUTs a second for SECONDS, each to the next install
  const writes: Array<{ key: string; install: number; start: number; end: number }> = [];
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let n = 0; n < RATE * SECONDS; n++) {
    const due = started + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    const key = `s${n}`;
    const install = n % INSTALLS;
    const w = { key, install, start: performance.now(), end: 0 };
    writes.push(w);
    pending.push(
      put(install, key).then(() => {
        w.end = performance.now();
      }),
    );
  }
  await Promise.all(pending);
  await Bun.sleep(2000);
  const rssLoaded = rssMiB(service.pid);

  const perInstall = Math.ceil(STREAMS / INSTALLS);
  const fromCommit: number[] = [];
  const fromStart: number[] = [];
  let missing = 0;
  for (const w of writes) {
    const got = arrivals.get(w.key) ?? [];
    const expected = Math.floor(STREAMS / INSTALLS) + (w.install < STREAMS % INSTALLS ? 1 : 0);
    missing += Math.max(0, expected - got.length);
    for (const at of got) {
      fromCommit.push(Math.max(0, at - w.end));
      fromStart.push(at - w.start);
    }
  }
  fromCommit.sort((a, b) => a - b);
  fromStart.sort((a, b) => a - b);
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(
    JSON.stringify(
      {
        streams: opened,
        installs: INSTALLS,
        streamsPerInstall: perInstall,
        openSeconds: Number(openSeconds.toFixed(1)),
        writes: writes.length,
        writesPerSecond: RATE,
        events: fromCommit.length,
        missing,
        closedEarly,
        commitToEvent: { p50: ms(pct(fromCommit, 0.5)), p99: ms(pct(fromCommit, 0.99)), max: ms(pct(fromCommit, 1)) },
        putStartToEvent: { p50: ms(pct(fromStart, 0.5)), p99: ms(pct(fromStart, 0.99)) },
        rssMiB: { before: rssBefore.toFixed(0), streamsOpen: rssOpen.toFixed(0), afterLoad: rssLoaded.toFixed(0) },
        kibPerStream: Number((((rssOpen - rssBefore) * 1024) / Math.max(1, opened)).toFixed(1)),
      },
      null,
      2,
    ),
  );
} finally {
  for (const s of sockets) s.destroy();
  await service?.stop();
  cluster?.stop();
}
