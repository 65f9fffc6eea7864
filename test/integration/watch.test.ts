import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as tcp } from "node:net";
import { sql } from "../helpers/db.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";
import { startService, until } from "../helpers/service.ts";
import { openSse } from "../helpers/sse.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ STORAGE_WATCH_HEARTBEAT_MS: "200", STORAGE_MAX_WATCHERS_PER_INSTALL: "3" });
});
afterAll(() => server.close());

const parse = (data: string | undefined) => JSON.parse(data ?? "null");

describe("watch", () => {
  test("streams changes as they commit, with ids a reconnect resumes from exactly once", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const c = client(server.url, token);
    const s = await openSse(`${server.url}/v1/watch`, token);
    expect(s.status).toBe(200);
    expect(s.headers.get("content-type")).toStartWith("text/event-stream");
    await c.put("a", "k1", { value: 1 });
    await c.put("a", "k2", { value: 2 });
    const first = await s.waitFor(2);
    expect(first.map((e) => [e.event, parse(e.data).key])).toEqual([
      ["put", "k1"],
      ["put", "k2"],
    ]);
    expect(s.retry).toBeGreaterThan(0);
    s.close();
    // while away
    await c.del("a", "k1");
    await c.call("DELETE", "/v1/namespaces/a");
    const again = await openSse(`${server.url}/v1/watch?since=now`, token, { "last-event-id": first[0]?.id as string });
    const resumed = await again.waitFor(3);
    expect(resumed.map((e) => [e.event, parse(e.data).key ?? null])).toEqual([
      ["put", "k2"],
      ["delete", "k1"],
      ["namespace_deleted", null],
    ]);
    // the ids are the feed's cursors
    const page = await c.call("GET", `/v1/changes?since=${first[0]?.id}`);
    expect(page.body.items.map((i: { revision: number }) => i.revision)).toEqual(
      resumed.map((e) => parse(e.data).revision),
    );
    await Bun.sleep(300);
    expect(again.comments.filter((x) => x === "keep-alive").length).toBeGreaterThan(0);
    expect(again.events.length).toBe(3);
    again.close();
  });

  test("a namespace's watch, with a prefix, sees only its changes", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const c = client(server.url, token);
    const s = await openSse(`${server.url}/v1/namespaces/n1/watch?prefix=p:&values=true`, token);
    await c.put("n2", "p:1", { value: 1 });
    await c.put("n1", "q:1", { value: 1 });
    await c.put("n1", "p:2", { value: { deep: [1] } });
    const [e] = await s.waitFor(1);
    expect(parse(e?.data)).toMatchObject({ type: "put", namespace: "n1", key: "p:2", value: { deep: [1] } });
    await Bun.sleep(200);
    expect(s.events.length).toBe(1);
    s.close();
  });

  test("more streams than the install's limit are 429; a closed one frees its place", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const open = await Promise.all([1, 2, 3].map(() => openSse(`${server.url}/v1/watch`, token)));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
    const fourth = await openSse(`${server.url}/v1/watch`, token);
    expect(fourth.status).toBe(429);
    // another install is not affected
    expect((await openSse(`${server.url}/v1/watch`, await tokenFor(newInstall()))).status).toBe(200);
    open[0]?.close();
    await until(
      "the fourth stream opens",
      async () => {
        const s = await openSse(`${server.url}/v1/watch`, token);
        s.close();
        return s.status === 200;
      },
      3000,
    );
    for (const s of open) s.close();
  });

  test("more streams than the process's limit are 503 UNAVAILABLE with Retry-After, whichever install asks", async () => {
    const capped = await startServer({ STORAGE_WATCH_MAX_STREAMS: "2" });
    try {
      const tokens = await Promise.all([1, 2, 3].map(() => tokenFor(newInstall())));
      const open = [await openSse(`${capped.url}/v1/watch`, tokens[0] as string)];
      open.push(await openSse(`${capped.url}/v1/namespaces/n/watch`, tokens[1] as string));
      expect(open.map((s) => s.status)).toEqual([200, 200]);
      // a third install, with no stream of its own: the process is full, not the install
      const refused = await fetch(`${capped.url}/v1/watch`, { headers: { authorization: `Bearer ${tokens[2]}` } });
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      const body = await refused.json();
      expect(body.error.code).toBe("UNAVAILABLE");
      expect(body.error.message).toContain("2 watch streams");
      // nor does it go to the install's count: once a stream closes, the third install's opens
      open[0]?.close();
      await until(
        "a place is free",
        async () => {
          const s = await openSse(`${capped.url}/v1/watch`, tokens[2] as string);
          if (s.status === 200) open.push(s);
          return s.status === 200;
        },
        3000,
      );
      for (const s of open) s.close();
    } finally {
      await capped.close();
    }
  });

  test("HEAD answers the stream's head and leaves no stream open", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const res = await fetch(`${server.url}/v1/watch`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    await until("no stream is left", async () => server.watchers.count(install.installId) === 0, 3000);
  });

  test("an expired cursor gets one reset event and the stream ends; a purge ends streams", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const c = client(server.url, token);
    await c.put("r", "a", { value: 1 });
    const cursor = (await c.call("GET", "/v1/changes")).body.cursor;
    const admin = await adminClient(server.url);
    const watching = await openSse(`${server.url}/v1/watch`, token);
    expect((await admin.purge(install)).status).toBe(204);
    await watching.ended;
    const stale = await openSse(`${server.url}/v1/watch?since=${cursor}`, token);
    await stale.ended;
    expect(stale.events.map((e) => e.event)).toEqual(["reset"]);
    expect(parse(stale.events[0]?.data).code).toBe("CURSOR_EXPIRED");
  });

  test("a client that does not read is closed once its buffer is full, and resumes from its last id", async () => {
    const slow = await startServer({ STORAGE_WATCH_BUFFER: "4" });
    try {
      const install = newInstall();
      const token = await tokenFor(install);
      const c = client(slow.url, token);
      const port = Number(new URL(slow.url).port);
      // a raw socket that stops reading after the headers
      const socket = tcp({ host: "127.0.0.1", port });
      const chunks: Buffer[] = [];
      let closed = false;
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.on("close", () => {
        closed = true;
      });
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(
        `GET /v1/watch?values=true HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\naccept: text/event-stream\r\nconnection: close\r\n\r\n`,
      );
      await until("the stream opens", async () => Buffer.concat(chunks).toString().includes("watching"), 3000);
      socket.pause();
      const big = "x".repeat(60_000);
      // far more than the socket buffers hold: the server's queue fills
      for (let i = 0; i < 12; i++) {
        const items = Array.from({ length: 10 }, (_, j) => ({ key: `k${i}-${j}`, value: big }));
        expect((await c.bulk("s", "bulk-put", { items })).status).toBe(200);
      }
      await until("the slow stream is let go", async () => slow.watchers.count() === 0, 10_000);
      socket.resume();
      await until("the socket ends", async () => closed, 10_000);
      const text = Buffer.concat(chunks).toString();
      const ids = [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1] as string);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.length).toBeLessThan(120);
      // resuming from the last id it got: the rest, exactly
      const rest = await c.call("GET", `/v1/changes?since=${ids.at(-1)}&limit=1000`);
      expect(ids.length + rest.body.items.length).toBe(120);
    } finally {
      await slow.close();
    }
  }, 30_000);

  test("SIGTERM's drain closes streams cleanly", async () => {
    const other = await startServer();
    const install = newInstall();
    const token = await tokenFor(install);
    const s = await openSse(`${other.url}/v1/watch`, token);
    expect(s.status).toBe(200);
    await other.watchers.drain();
    await s.ended;
    expect(s.comments).toContain("closing (drain)");
    // a stream asked for while draining: the server is going away (503), not the install's limit
    const late = await fetch(`${other.url}/v1/watch`, { headers: { authorization: `Bearer ${token}` } });
    expect([late.status, (await late.json()).error.code]).toEqual([503, "UNAVAILABLE"]);
    expect(late.headers.get("retry-after")).not.toBeNull();
    await other.close();
  });

  test("a SIGTERM to the service closes its streams and the process exits 0", async () => {
    const service = await startService(process.env.DATABASE_URL as string);
    const token = await tokenFor(newInstall());
    const s = await openSse(`${service.url}/v1/watch`, token);
    expect(s.status).toBe(200);
    const started = Date.now();
    const code = await service.kill("SIGTERM");
    await s.ended;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(s.comments).toContain("closing (drain)");
  }, 30_000);

  test("a stream outlives its server's database connections being cut", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const c = client(server.url, token);
    const s = await openSse(`${server.url}/v1/watch`, token);
    await c.put("cut", "a", { value: 1 });
    await s.waitFor(1);
    // every connection the service holds: its pool and its listener
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
              where pid <> pg_backend_pid() and application_name = 'ext-storage'`;
    let written = false;
    for (let i = 0; i < 20 && !written; i++) {
      written = (await c.put("cut", "b", { value: 1 })).status === 201;
      if (!written) await Bun.sleep(100);
    }
    expect(written).toBe(true);
    const events = await s.waitFor(2, 5000);
    expect(events.map((e) => parse(e.data).key)).toEqual(["a", "b"]);
    expect(server.watchers.count(install.installId)).toBe(1);
    s.close();
  }, 30_000);

  test("resumes across a server restart and after the listener's connection is killed", async () => {
    const install = newInstall();
    const token = await tokenFor(install);
    const first = await startServer({ STORAGE_WATCH_POLL_MS: "200" });
    const c1 = client(first.url, token);
    const s1 = await openSse(`${first.url}/v1/watch`, token);
    await c1.put("x", "a", { value: 1 });
    const [seen] = await s1.waitFor(1);
    s1.close();
    await first.close();
    const second = await startServer({ STORAGE_WATCH_POLL_MS: "200" });
    try {
      const c2 = client(second.url, token);
      await c2.put("x", "b", { value: 1 });
      const s2 = await openSse(`${second.url}/v1/watch`, token, { "last-event-id": seen?.id as string });
      const [b] = await s2.waitFor(1);
      expect(parse(b?.data).key).toBe("b");
      // cut every listening connection: the poll carries on, the listener comes back
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                where pid <> pg_backend_pid() and query ilike 'listen%'`;
      await c2.put("x", "c", { value: 1 });
      await c2.put("x", "d", { value: 1 });
      const events = await s2.waitFor(3, 5000);
      expect(events.map((e) => parse(e.data).key)).toEqual(["b", "c", "d"]);
      s2.close();
    } finally {
      await second.close();
    }
  }, 30_000);
});
