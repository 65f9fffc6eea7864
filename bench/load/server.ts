// The server under load: one the driver starts itself (a child process running src/main.ts,
// on the embedded database or on DATABASE_URL), or one given by --url. A child process, not
// the driver's own event loop, so the driver's work never shows up as server latency, and
// its resident memory can be sampled on its own.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onExit } from "../../tools/cleanup.ts";
import { startServiceProcess } from "../../tools/service.ts";

const READY_TIMEOUT_MS = 120_000;

export type Target = {
  url: string;
  secret: string;
  audience: string;
  mode: "embedded" | "postgres" | "external";
  /** the server process when the driver started it */
  pid: number | undefined;
  stop(): Promise<void>;
};

export async function startOwnServer(options: {
  databaseUrl: string | undefined;
  secret: string | undefined;
  env?: Record<string, string>;
  /** write a CPU profile of the server here when it stops (bun --cpu-prof) */
  profileDir?: string;
  announce?: (line: string) => void;
}): Promise<Target> {
  const secret = options.secret ?? randomBytes(32).toString("base64url");
  const env: Record<string, string | undefined> = {
    ...process.env,
    STORAGE_JWT_SECRET: secret,
    LOG_LEVEL: "warn",
    // the driver measures the service, not its per-install limits (find-max offers far more
    // than 100 requests/s to an install); the environment wins, and noisy keeps the
    // service's own limits (it measures what they leave the other installs)
    STORAGE_RATE_LIMIT: process.env.STORAGE_RATE_LIMIT ?? "0",
    STORAGE_WORK_LIMIT_BYTES: process.env.STORAGE_WORK_LIMIT_BYTES ?? "0",
    ...options.env,
  };
  // the embedded database's folder, removed with the server (and by tools/cleanup.ts on an interrupt)
  const dataDir = options.databaseUrl === undefined ? mkdtempSync(join(tmpdir(), "ext-storage-load-")) : undefined;
  const removeData = () => {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  if (dataDir === undefined) env.DATABASE_URL = options.databaseUrl;
  else {
    onExit({ name: `data folder ${dataDir}`, stop: removeData });
    delete env.DATABASE_URL;
    env.STORAGE_DATA_DIR = dataDir;
  }

  const profile =
    options.profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${options.profileDir}`];
  let service: Awaited<ReturnType<typeof startServiceProcess>>;
  try {
    service = await startServiceProcess({
      env,
      bunFlags: profile,
      readyTimeoutMs: READY_TIMEOUT_MS,
      announce: options.announce,
    });
  } catch (error) {
    removeData();
    throw error;
  }
  return {
    url: service.url,
    secret,
    audience: env.STORAGE_JWT_AUDIENCE || "ext-storage",
    mode: options.databaseUrl === undefined ? "embedded" : "postgres",
    pid: service.pid,
    async stop() {
      await service.stop();
      removeData();
    },
  };
}

export function externalTarget(url: string, secret: string, audience: string): Target {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new Error(`--url must be a loopback address, got ${host}`);
  }
  return { url: url.replace(/\/$/, ""), secret, audience, mode: "external", pid: undefined, stop: async () => {} };
}

/** Resident memory of a process in MiB (Linux /proc), undefined when unknown. */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** The whole machine's CPU time so far, busy and total, in seconds of all cores (Linux /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const t = line.trim().split(/\s+/).slice(1).map(Number);
    const total = t.reduce((a, b) => a + b, 0);
    const idle = (t[3] ?? 0) + (t[4] ?? 0); // idle + iowait
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc), 0 when unknown. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * A process and all its descendants, by pid (Linux /proc: each task's `children`): a service
 * started with STORAGE_WORKERS above 1 is its primary and the workers it spawned, and what it
 * costs is theirs together. Bounded to 1,000 processes; ones gone meanwhile are left out.
 */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length && tree.length < 1000; i++) {
    const parent = tree[i] as number;
    try {
      for (const task of readdirSync(`/proc/${parent}/task`)) {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8");
        for (const child of children.split(/\s+/)) if (child !== "") tree.push(Number(child));
      }
    } catch {
      // gone meanwhile
    }
  }
  return tree;
}

/** Resident memory of a process and its descendants (a service and its workers), in MiB:
 * each one's RSS summed, so pages they share count once per process (an upper bound). */
export function treeRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = rssMiB(pid);
  if (own === undefined) return undefined;
  return processTree(pid)
    .slice(1)
    .reduce((sum, child) => sum + (rssMiB(child) ?? 0), own);
}

/** CPU seconds (user + system) a process and its descendants have used so far. */
export function treeCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  return processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/** CPU seconds used so far by each process of a given name (e.g. every PostgreSQL backend), by pid. */
export function cpuByName(name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name)
        out.set(Number(entry), cpuSeconds(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds those processes used between two snapshots (ones that ended meanwhile are not seen). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}
