// The same app under Deno: `deno task start` on a loopback port against the test database,
// one PUT/GET round trip, then SIGTERM. Runs where `deno` is installed (CI installs it).
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { freePort } from "../helpers/postgres.ts";
import { exchange, request } from "../helpers/raw.ts";
import { client, newInstall, TEST_SECRET, tokenFor } from "../helpers/server.ts";

const DENO = Bun.which("deno");
if (DENO === null) process.stderr.write("deno.test.ts: deno is not installed, so the Deno smoke test is skipped\n");

test.skipIf(DENO === null)(
  "deno task start serves the app: PUT then GET round-trips, SIGTERM exits 0",
  async () => {
    const port = await freePort();
    const proc = Bun.spawn([DENO as string, "task", "start"], {
      cwd: new URL("../../", import.meta.url).pathname,
      env: {
        ...process.env,
        DATABASE_URL: process.env.DATABASE_URL,
        STORAGE_JWT_SECRET: TEST_SECRET,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        NO_COLOR: "1",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = new Response(proc.stderr).text();
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 45_000;
      let ready = false;
      while (!ready && Date.now() < deadline && proc.exitCode === null) {
        ready = await fetch(`${base}/readyz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (!ready) await Bun.sleep(100);
      }
      expect(ready).toBe(true);

      const api = client(base, await tokenFor(newInstall("deno")));
      const put = await api.put("deno", "hello/world", { value: { runtime: "deno" } });
      expect(put.status).toBe(201);
      const got = await api.get("deno", "hello/world");
      expect([got.status, got.body.value, got.headers.get("etag")]).toEqual([
        200,
        { runtime: "deno" },
        `"${put.body.revision}"`,
      ]);

      // Deno hands the app the target as sent (no dot segments resolved) but puts the Host
      // header's text in front of it: the same paths are refused as under Bun
      const token = await tokenFor(newInstall("deno"));
      const json = new TextEncoder().encode('{"items":[{"key":"k","value":1}]}');
      const send = (target: string, headers: Record<string, string> = {}, version = "1.1") =>
        exchange(
          port,
          request(
            "POST",
            target,
            {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "content-length": String(json.byteLength),
              connection: "close",
              ...headers,
            },
            version,
          ),
          json,
        );
      const host = { host: `127.0.0.1:${port}` };
      for (const target of [
        "/v1/namespaces/%2e/bulk-put",
        "/v1/namespaces/./bulk-put",
        "/v1/namespaces/x/../ns/bulk-put",
      ]) {
        expect(`${target} ${(await send(target, host)).status}`).toBe(`${target} 404`);
      }
      expect((await send("/v1/namespaces/ns/bulk-put/", host)).status).toBe(404);
      expect((await send("/v1/namespaces/ns/bulk-put", { host: "a/b" })).status).toBe(400);
      expect((await send("/v1/namespaces/named/bulk-put", {}, "1.0")).status).toBe(200);
      const oversize = await exchange(
        port,
        request("PUT", "/v1/namespaces/ns/records/k", {
          ...host,
          authorization: `bearer  ${token}`,
          "content-type": "application/json",
          "content-length": String(20 * 1024 * 1024),
        }),
      );
      expect([oversize.status, JSON.parse(oversize.body).error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
      expect(oversize.headers.get("x-request-id")).toBeTruthy();

      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      const log = await stderr;
      expect(log).toContain('"runtime":"deno"');
      expect(log).toContain('"msg":"draining"');
    } finally {
      proc.kill("SIGKILL");
    }
  },
  60_000,
);
