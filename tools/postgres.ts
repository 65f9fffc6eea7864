// An ephemeral PostgreSQL cluster for the tests and the benchmarks: a temporary folder, a
// free loopback port, fsync off. Started as the postgres user when the run is root (initdb
// refuses root). It is registered with tools/cleanup.ts before initdb runs, so an interrupt
// or an error at any point stops it and removes its folder.
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onExit } from "./cleanup.ts";

export type Cluster = {
  url: (database: string) => string;
  /** the folder holding the data directory, the socket and the log */
  dir: string;
  stop(): void;
  /** Stops the postmaster (fast shutdown: sessions are cut), keeping the data folder. */
  halt(): void;
  /** Starts it again on the same port, after halt(). */
  resume(): void;
};

export function pgBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const preferred = versions.includes("15") ? "15" : versions[0];
  if (preferred === undefined) throw new Error("no PostgreSQL server found under /usr/lib/postgresql (set PG_BIN)");
  return join(root, preferred, "bin");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function run(command: string, args: string[], asPostgres: boolean): void {
  const [cmd, argv] = asPostgres ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  const result = spawnSync(cmd, argv, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout || result.error}`);
  }
}

export async function startCluster(): Promise<Cluster> {
  const bin = pgBin();
  const asPostgres = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-pg-"));
  const data = join(dir, "data");
  const pgCtl = (args: string[]) =>
    spawnSync(
      ...((asPostgres
        ? ["runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), ...args]]
        : [join(bin, "pg_ctl"), args]) as [string, string[]]),
    );
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    forget();
    if (existsSync(join(data, "postmaster.pid"))) pgCtl(["-D", data, "-m", "immediate", "-w", "-t", "10", "stop"]);
    rmSync(dir, { recursive: true, force: true });
  };
  const forget = onExit({ name: `PostgreSQL cluster in ${dir}`, stop });
  if (asPostgres) {
    const pg = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    chownSync(dir, Number(pg.stdout.trim()), Number(gid.stdout.trim()));
  }
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  const start = () =>
    run(
      join(bin, "pg_ctl"),
      ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"],
      asPostgres,
    );
  try {
    run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], asPostgres);
    start();
  } catch (error) {
    stop();
    throw error;
  }
  return {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`,
    dir,
    halt: () => run(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"], asPostgres),
    resume: start,
    stop,
  };
}
