// STORAGE_WORKERS: server processes sharing one port. The process started (the primary)
// serves too and spawns the others (`bun src/main.ts` again, told their index); every one
// listens with reusePort, so the kernel spreads connections across them. Each serves its
// own Prometheus registry as JSON on a unix socket in a directory they share, and /metrics,
// whichever process answers it, sums them all (metrics.ts). SIGTERM on the primary is
// passed to every worker; each drains its own requests, and the primary exits once all
// have. A worker whose primary is gone (killed without a drain) drains and exits too.
// The embedded database has one session in one process: it always runs one.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";

const INDEX_ENV = "STORAGE_WORKER_INDEX";
const SOCKETS_ENV = "STORAGE_WORKER_SOCKETS";
const PRIMARY_ENV = "STORAGE_WORKER_PRIMARY";
/** how often a worker checks that its primary lives */
const PARENT_CHECK_MS = 250;

export type WorkerRole = { index: number; count: number; socketsDir: string | undefined; primary: boolean };

/** The processes this configuration runs: STORAGE_WORKERS, 0 meaning one per CPU; always 1
 * on the embedded database. */
export function workerCount(config: Config): number {
  if (config.databaseUrl === undefined) return 1;
  return config.workers === 0 ? availableParallelism() : config.workers;
}

/** This process's place: the primary (not told an index by its parent) or worker n. */
export function workerRole(config: Config, env: Record<string, string | undefined> = process.env): WorkerRole {
  const index = env[INDEX_ENV];
  if (index !== undefined && index !== "") {
    return { index: Number(index), count: workerCount(config), socketsDir: env[SOCKETS_ENV], primary: false };
  }
  const count = workerCount(config);
  return {
    index: 0,
    count,
    socketsDir: count > 1 ? mkdtempSync(join(tmpdir(), "ext-storage-workers-")) : undefined,
    primary: true,
  };
}

export type Workers = {
  /** SIGTERM to every worker, then their exits (codes) */
  stop(): Promise<number[]>;
};

/** The primary's workers 1 … count-1, on the port it listens on. */
export function spawnWorkers(role: WorkerRole, port: number, log: Logger, onUnexpectedExit: () => void): Workers {
  let stopping = false;
  const procs = Array.from({ length: role.count - 1 }, (_, i) => {
    const index = i + 1;
    const proc = Bun.spawn([process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      env: {
        ...process.env,
        PORT: String(port),
        [INDEX_ENV]: String(index),
        [SOCKETS_ENV]: role.socketsDir,
        [PRIMARY_ENV]: String(process.pid),
      },
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
    });
    void proc.exited.then((code) => {
      if (stopping) return;
      log.error("a worker exited", { worker: index, pid: proc.pid, code });
      onUnexpectedExit();
    });
    return proc;
  });
  log.info("workers started", { workers: role.count, pids: [process.pid, ...procs.map((p) => p.pid)] });
  return {
    async stop() {
      stopping = true;
      for (const proc of procs) if (proc.exitCode === null) proc.kill("SIGTERM");
      const codes = await Promise.all(procs.map((p) => p.exited));
      if (role.socketsDir !== undefined) rmSync(role.socketsDir, { recursive: true, force: true });
      return codes;
    },
  };
}

/** In a worker: calls `gone` once its primary is no longer its parent (killed, say). */
export function watchPrimary(gone: () => void): void {
  // the primary's pid as it spawned this process: one killed during this one's boot is gone too
  const parent = Number(process.env[PRIMARY_ENV]) || process.ppid;
  const timer = setInterval(() => {
    const now = parentPid();
    if (now === undefined ? !exists(parent) : now !== parent) {
      clearInterval(timer);
      gone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
}

/** This process's parent as the kernel says now (process.ppid keeps the one at start). */
function parentPid(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
