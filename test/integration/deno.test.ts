// The same app under Deno: `deno task start` on a loopback port against the test database,
// one PUT/GET round trip, the change feed (a watch stream, its resumption, a page) and the
// write routes beyond PUT (PATCH, atomic, an Idempotency-Key replayed), then SIGTERM. Runs
// where `deno` is installed (CI installs it).
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { freePort } from "../helpers/postgres.ts";
import { exchange, request } from "../helpers/raw.ts";
import { client, newInstall, TEST_SECRET, tokenFor } from "../helpers/server.ts";
import { openSse } from "../helpers/sse.ts";

const DENO = Bun.which("deno");
if (DENO === null) process.stderr.write("deno.test.ts: deno is not installed, so the Deno smoke test is skipped\n");

test.skipIf(DENO === null)(
  "deno task start serves the app: PUT/GET, the change feed, PATCH, atomic, a replay; SIGTERM exits 0",
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
        // a watch is woken by the database's notification, not by the poll
        STORAGE_WATCH_POLL_MS: "60000",
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

      // the change feed: a watch stream sees a PUT made after it opened, and a reconnect with
      // Last-Event-ID resumes after that event; a changes page lists both
      const feedToken = await tokenFor(newInstall("deno-feed"));
      const feed = client(base, feedToken);
      const event = (e: { event?: string; data?: string } | undefined) => [e?.event, JSON.parse(e?.data ?? "{}").key];
      const watch = await openSse(`${base}/v1/watch`, feedToken);
      expect([watch.status, watch.headers.get("content-type")?.split(";")[0]]).toEqual([200, "text/event-stream"]);
      expect((await feed.put("w", "a", { value: { n: 1, m: 2 } })).status).toBe(201);
      const [first] = await watch.waitFor(1, 2000);
      expect(event(first)).toEqual(["put", "a"]);
      watch.close();
      expect((await feed.put("w", "b", { value: 2 })).status).toBe(201); // while away
      const resumed = await openSse(`${base}/v1/namespaces/w/watch?values=true`, feedToken, {
        "last-event-id": first?.id ?? "",
      });
      expect(resumed.status).toBe(200);
      const [next] = await resumed.waitFor(1, 2000);
      expect([...event(next), JSON.parse(next?.data ?? "{}").value]).toEqual(["put", "b", 2]);
      resumed.close();
      // the streams a client closed are let go (under Deno too, the app sees the disconnect)
      const openStreams = async () =>
        Number(/^watch_streams_open (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
      const released = Date.now() + 5_000;
      while ((await openStreams()) !== 0 && Date.now() < released) await Bun.sleep(50);
      expect(await openStreams()).toBe(0);
      const page = await feed.call("GET", "/v1/changes");
      expect([page.status, page.body.items.map((i: { key: string }) => i.key)]).toEqual([200, ["a", "b"]]);

      // PATCH (a merge patch), an atomic request, a PUT with an Idempotency-Key sent twice
      const patched = await feed.patch("w", "a", { m: null, o: 3 });
      expect([patched.status, patched.body.value]).toEqual([200, { n: 1, o: 3 }]);
      const atomic = await feed.atomic({
        checks: [{ namespace: "w", key: "a", revision: patched.body.revision }],
        ops: [
          { op: "increment", namespace: "w", key: "count", by: 2 },
          { op: "merge", namespace: "w", key: "a", patch: { p: true } },
        ],
      });
      expect([atomic.status, atomic.body.items.map((i: { key: string }) => i.key)]).toEqual([200, ["count", "a"]]);
      expect((await feed.get("w", "a")).body.value).toEqual({ n: 1, o: 3, p: true });
      const keyed = { "idempotency-key": "deno-put-1" };
      const once = await feed.put("w", "i", { value: 1 }, keyed);
      const twice = await feed.put("w", "i", { value: 1 }, keyed);
      expect([once.status, once.headers.get("idempotent-replayed")]).toEqual([201, null]);
      expect([twice.status, twice.headers.get("idempotent-replayed"), twice.body]).toEqual([201, "true", once.body]);

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

      // a stream still open at SIGTERM is closed by the drain, with the reason, and the process exits
      const open = await openSse(`${base}/v1/watch`, feedToken);
      expect(open.status).toBe(200);
      proc.kill("SIGTERM");
      await open.ended;
      expect(open.comments.some((c) => c.startsWith("closing"))).toBe(true);
      expect(await proc.exited).toBe(0);
      const log = await stderr;
      expect(log).toContain('"runtime":"deno"');
      expect(log).toContain('"msg":"draining"');
      // nothing above went wrong on the way (a listener that failed, a rejection)
      expect(log.split("\n").filter((line) => /"level":"(warn|error)"/.test(line))).toEqual([]);
    } finally {
      proc.kill("SIGKILL");
    }
  },
  60_000,
);
