import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ STORAGE_RATE_LIMIT: "5", STORAGE_IDLE_TIMEOUT_SECONDS: "1" });
});
afterAll(() => server.close());

describe("per-install rate limit", () => {
  test("429 RATE_LIMITED with Retry-After past the burst; other installs unaffected; refills", async () => {
    const a = client(server.url, await tokenFor(newInstall()));
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await a.get("ns", "k")).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
    const limited = await a.get("ns", "k");
    expect([limited.status, limited.body.error.code, limited.headers.get("retry-after")]).toEqual([
      429,
      "RATE_LIMITED",
      "1",
    ]);
    expect(limited.headers.get("x-request-id")).toBeTruthy();
    const b = client(server.url, await tokenFor(newInstall()));
    expect((await b.get("ns", "k")).status).toBe(404);
    await Bun.sleep(1100);
    expect((await a.get("ns", "k")).status).toBe(404);
  });

  test("precedence: 401 before 429, 429 before 403", async () => {
    const install = newInstall();
    const reader = client(server.url, await tokenFor(install, "storage:read"));
    // spent until refused (the burst, plus what refilled meanwhile on a slow machine)
    let last = 0;
    for (let i = 0; i < 50 && last !== 429; i++) last = (await reader.get("ns", "k")).status;
    expect(last).toBe(429);
    const noToken = await fetch(`${server.url}/v1/namespaces/ns/records/k`);
    expect(noToken.status).toBe(401);
    const forbiddenAndLimited = await reader.put("ns", "k", { value: 1 });
    expect([forbiddenAndLimited.status, forbiddenAndLimited.body.error.code]).toEqual([429, "RATE_LIMITED"]);
  });
});

describe("slow clients", () => {
  // Bun closes a connection idle past STORAGE_IDLE_TIMEOUT_SECONDS once a request is under
  // way (a stalled body), and one that has not finished its headers, or sent nothing, after
  // about 10 s of its own, whatever that setting says.
  async function probe(port: number, payload: string | null, limitMs: number) {
    let closed = false;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data() {},
        close() {
          closed = true;
        },
      },
    });
    if (payload !== null) socket.write(payload);
    const started = Date.now();
    while (!closed && Date.now() - started < limitMs) await Bun.sleep(50);
    if (!closed) socket.end();
    return { closed, ms: Date.now() - started };
  }

  test("stalled connections are closed by the server: mid-body, mid-headers, silent", async () => {
    const port = Number(new URL(server.url).port);
    const [body, headers, silent] = await Promise.all([
      probe(
        port,
        'PUT /v1/namespaces/ns/records/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"va',
        8000,
      ),
      probe(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", 16_000),
      probe(port, null, 16_000),
    ]);
    expect(body.closed).toBe(true);
    expect(body.ms).toBeLessThan(8000);
    expect(headers.closed).toBe(true);
    expect(silent.closed).toBe(true);
  }, 20_000);
});
