// The service as its own process (`bun src/main.ts`) on a loopback port, for the tests that
// must measure it (memory), kill it (SIGKILL) or cut its database away from under it.
import { readFileSync } from "node:fs";
import { freePort } from "./postgres.ts";
import { TEST_SECRET } from "./server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

export type Service = {
  url: string;
  pid: number;
  /** resident memory of the process, in MiB */
  rssMiB(): number;
  /** whether the process is still running */
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<number>;
  stderr(): Promise<string>;
};

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await Bun.sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Starts the service and waits until `waitFor` answers 200: /readyz, or /healthz for a
 * service whose database is meant to be unreachable. */
export async function startService(
  databaseUrl: string,
  env: Record<string, string> = {},
  waitFor: "/readyz" | "/healthz" = "/readyz",
): Promise<Service> {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STORAGE_JWT_SECRET: TEST_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      // these tests drive one install far past any per-install request rate on purpose:
      // they measure the service, not its rate limit (STORAGE_RATE_LIMIT=0 turns it off)
      STORAGE_RATE_LIMIT: "0",
      ...env,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(`${waitFor} of the service`, async () => (await fetch(`${url}${waitFor}`)).status === 200, 20_000);
  } catch (error) {
    proc.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${await stderr}`);
  }
  return {
    url,
    pid: proc.pid,
    rssMiB() {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"))?.[1];
      return Number(kb) / 1024;
    },
    alive: () => !exited,
    async kill(signal = "SIGKILL") {
      proc.kill(signal);
      return proc.exited;
    },
    stderr: () => stderr,
  };
}
