// The service as its own process (`bun src/main.ts`) on a free loopback port: for the tools
// that drive it (fuzz, load, bench:ttl) and the tests that must measure, kill or starve it.
// Registered with tools/cleanup.ts as soon as it is spawned, so an interrupt during start-up
// stops it too.
import { fileURLToPath } from "node:url";
import { onExit } from "./cleanup.ts";
import { freePort } from "./postgres.ts";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** SIGTERM lets the server drain (at most 10 s); past this it is killed. */
const DRAIN_BOUND_MS = 12_000;
const STDERR_KEPT = 20_000;

export type ServiceProcess = {
  url: string;
  pid: number;
  alive(): boolean;
  /** what it wrote on stderr so far (its first and its last 20,000 characters) */
  stderr(): string;
  exited: Promise<number>;
  /** SIGTERM and wait for the drain; SIGKILL past the bound */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number>;
};

export async function startServiceProcess(options: {
  env: Record<string, string | undefined>;
  /** flags for bun itself, before the script (e.g. --cpu-prof) */
  bunFlags?: string[];
  readyTimeoutMs?: number;
  /** what must answer 200 before the service counts as up: /readyz (the default), or
   * /healthz for a service whose database is meant to be unreachable */
  readyPath?: "/readyz" | "/healthz";
  /** told once the service answers */
  announce?: (line: string) => void;
}): Promise<ServiceProcess> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, ...(options.bunFlags ?? []), "src/main.ts"], {
    cwd: ROOT,
    env: { ...options.env, PORT: String(port), HOST: "127.0.0.1" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  // the first and the last STDERR_KEPT characters: how it started, and how it ended (a crash
  // is the last thing a process writes)
  let head = "";
  let tail = "";
  let dropped = false;
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      if (head.length < STDERR_KEPT) head += text;
      else {
        tail += text;
        if (tail.length > 2 * STDERR_KEPT) {
          tail = tail.slice(-STDERR_KEPT);
          dropped = true;
        }
      }
    }
  })().catch(() => {});
  const stderr = () => (tail === "" ? head : `${head}${dropped ? "\n[…]\n" : ""}${tail.slice(-STDERR_KEPT)}`);
  let exited = false;
  const exitedP = proc.exited.then((code) => {
    exited = true;
    forget();
    return code;
  });
  const stop = async () => {
    if (exited) return;
    proc.kill("SIGTERM");
    await Promise.race([exitedP, Bun.sleep(DRAIN_BOUND_MS)]);
    if (!exited) proc.kill("SIGKILL");
    await exitedP;
  };
  const forget = onExit({
    name: `server process ${proc.pid}`,
    stop,
    force: () => {
      if (!exited) proc.kill("SIGKILL");
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      await exitedP;
      throw new Error(`the server exited before it was ready:\n${stderr()}`);
    }
    const ready = await fetch(`${url}${options.readyPath ?? "/readyz"}`, { signal: AbortSignal.timeout(2000) })
      .then((res) => res.status === 200)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${stderr()}`);
    }
    await Bun.sleep(100);
  }
  options.announce?.(`server ready at ${url} (pid ${proc.pid})`);
  return {
    url,
    pid: proc.pid,
    alive: () => !exited,
    stderr,
    exited: exitedP,
    stop,
    async kill(signal = "SIGKILL") {
      proc.kill(signal);
      return exitedP;
    },
  };
}
