// Watch on the embedded default (PGlite): no notification of the socket's session reaches a
// listener there, so the driver delivers them in process after commit. With the poll set to a
// minute, an event that arrives at once came through that path: writes, and a read's cleanup
// of an expired row.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedServer } from "../helpers/embedded.ts";
import { openSse } from "../helpers/sse.ts";

const dataDir = mkdtempSync(join(tmpdir(), "ext-storage-embedded-watch-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("on PGlite a stream gets writes and cleanups without waiting for the poll", async () => {
  const server = await startEmbeddedServer(dataDir, { STORAGE_WATCH_POLL_MS: "60000" });
  try {
    const auth = { authorization: `Bearer ${server.token}` };
    const stream = await openSse(`${server.base}/v1/watch`, server.token);
    expect(stream.status).toBe(200);
    const put = (key: string, body: unknown) =>
      fetch(`${server.base}/v1/namespaces/e/records/${key}`, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await put("a", { value: 1 })).status).toBe(201);
    expect((await put("b", { value: 1, ttlSeconds: 1 })).status).toBe(201);
    await stream.waitFor(2, 2000);
    await Bun.sleep(1100);
    expect((await fetch(`${server.base}/v1/namespaces/e/records/b`, { headers: auth })).status).toBe(404);
    const events = await stream.waitFor(3, 2000);
    expect(events.map((e) => [e.event, JSON.parse(e.data ?? "{}").reason ?? null])).toEqual([
      ["put", null],
      ["put", null],
      ["delete", "expired"],
    ]);
    stream.close();
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
}, 90_000);
