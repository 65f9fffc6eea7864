// The README's start command on the embedded default: no DATABASE_URL, no secret. The server
// creates its PGlite database and a development secret, prints a token, serves a round trip,
// keeps the data across a restart, and leaves dbmate's bookkeeping so `dbmate up` agrees.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbedded } from "../../src/db/embedded.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { freePort } from "../helpers/postgres.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "ext-storage-embedded-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function boot() {
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: "127.0.0.1",
    STORAGE_DATA_DIR: dataDir,
  };
  delete env.DATABASE_URL;
  delete env.STORAGE_JWT_SECRET;
  const proc = Bun.spawn(["bun", "src/main.ts"], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 25_000;
  while (!/curl .*\n/.test(out) && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const token = /Development token[^\n]*\n(\S+)/.exec(out)?.[1];
  if (token === undefined) {
    proc.kill();
    throw new Error(`no token printed:\n${out}\n${await new Response(proc.stderr).text()}`);
  }
  return { proc, out, token, base: `http://127.0.0.1:${port}` };
}

test("starts on PGlite, prints a working token and curl line, persists across restarts", async () => {
  const first = await boot();
  expect(first.out).toContain(`curl -X PUT ${first.base}/v1/namespaces/settings/records/theme`);
  const auth = { authorization: `Bearer ${first.token}` };
  const put = await fetch(`${first.base}/v1/namespaces/settings/records/theme`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ value: { mode: "dark" } }),
  });
  expect(put.status).toBe(201);
  const get = await fetch(`${first.base}/v1/namespaces/settings/records/theme`, { headers: auth });
  expect(await get.json()).toMatchObject({ key: "theme", value: { mode: "dark" } });
  expect((await fetch(`${first.base}/readyz`)).status).toBe(200);
  first.proc.kill("SIGTERM");
  expect(await first.proc.exited).toBe(0);

  const second = await boot();
  const again = await fetch(`${second.base}/v1/namespaces/settings/records/theme`, {
    headers: { authorization: `Bearer ${second.token}` },
  });
  expect((await again.json()).value).toEqual({ mode: "dark" });
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);

  // dbmate, pointed at the embedded database, finds every migration applied
  const embedded = await startEmbedded(dataDir);
  try {
    const status = await dbmate(embedded.url, ["status"]);
    expect(status.output).toContain("[X] 20251008120000_create_ext_storage_tables.sql");
    expect(status.output).toContain("Pending: 0");
  } finally {
    await embedded.stop();
  }
}, 60_000);
