// The service as its own process (`bun src/main.ts`) on a loopback port, for the tests that
// must measure it (memory), kill it (SIGKILL) or cut its database away from under it.
import { readFileSync } from "node:fs";
import { startServiceProcess } from "../../tools/service.ts";
import { TEST_SECRET } from "./server.ts";

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
  { waitFor = "/readyz", announce }: { waitFor?: "/readyz" | "/healthz"; announce?: (line: string) => void } = {},
): Promise<Service> {
  const service = await startServiceProcess({
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STORAGE_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "error",
      // these tests drive one install far past any per-install request rate on purpose:
      // they measure the service, not its rate limit (STORAGE_RATE_LIMIT=0 turns it off)
      STORAGE_RATE_LIMIT: "0",
      ...env,
    },
    readyTimeoutMs: 20_000,
    readyPath: waitFor,
    announce,
  });
  return {
    url: service.url,
    pid: service.pid,
    rssMiB() {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${service.pid}/status`, "utf8"))?.[1];
      return Number(kb) / 1024;
    },
    alive: service.alive,
    kill: service.kill,
    stderr: async () => {
      await service.exited;
      return service.stderr();
    },
  };
}
