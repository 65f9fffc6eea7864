// The server on the embedded default, as `bun run start` runs it in a folder: no
// DATABASE_URL, no secret, PGlite in STORAGE_DATA_DIR. Up once it has printed its
// development token and curl line.
import { fileURLToPath } from "node:url";
import { freePort } from "./postgres.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The environment of the embedded default on a loopback port. */
export function embeddedEnv(dataDir: string, port: number, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: "127.0.0.1",
    STORAGE_DATA_DIR: dataDir,
    ...extra,
  };
  delete env.DATABASE_URL;
  delete env.STORAGE_JWT_SECRET;
  return env;
}

export async function startEmbeddedServer(dataDir: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/main.ts"], {
    cwd: ROOT,
    env: embeddedEnv(dataDir, port, extra),
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 60_000; // PGlite boots in seconds, more on a loaded machine
  while (!/curl .*\n/.test(out) && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const token = /Development token[^\n]*\n(\S+)/.exec(out)?.[1];
  if (token === undefined) {
    proc.kill("SIGKILL");
    throw new Error(`no token printed:\n${out}\n${await new Response(proc.stderr).text()}`);
  }
  return { proc, out, token, base: `http://127.0.0.1:${port}` };
}
