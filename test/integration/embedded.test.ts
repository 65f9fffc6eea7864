// The README's start command on the embedded default: no DATABASE_URL, no secret. The server
// creates its PGlite database and a development secret, prints a token, serves a round trip,
// keeps the data across a restart, and leaves dbmate's bookkeeping so `dbmate up` agrees.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded } from "../../src/db/embedded.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { startEmbeddedServer } from "../helpers/embedded.ts";

const dataDir = mkdtempSync(join(tmpdir(), "ext-storage-embedded-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const boot = () => startEmbeddedServer(dataDir);

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
