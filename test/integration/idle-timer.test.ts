// STORAGE_IDLE_TIMEOUT_SECONDS is for the client's turns (sending its request, taking its
// answer, a kept-alive connection between requests), never the service's: a request the
// service works on for longer than it (here a write waiting on its install's lock) is answered,
// not cut off with its work going on; and once answered, whatever the answer, the connection is
// idle again and closed in time.
//
// Bun checks idle connections every 4 s, so with a setting of 1 a connection idle past it is
// closed at the next check: within 4 s, and so before the held write's 4.5 s wait is over.
// A watch stream is the one answer that stays open, its heartbeats keeping it, until it ends.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

const CHECK_EVERY_MS = 4_000;
let server: TestServer;
let port: number;
beforeAll(async () => {
  server = await startServer({ STORAGE_IDLE_TIMEOUT_SECONDS: "1" });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

type Exchange = { answer: string; answeredMs: number; closedMs: number | undefined };

/** Sends one HTTP/1.1 request on a connection of its own and reads the answer; then waits
 * (for `waitMs` at most) to see the server close the connection. */
async function exchange(request: string, waitMs: number): Promise<Exchange> {
  let answer = "";
  let answeredMs = 0;
  let closedMs: number | undefined;
  const started = performance.now();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_, chunk) {
        answer += chunk.toString();
        answeredMs = performance.now() - started;
      },
      close() {
        closedMs = performance.now() - started;
      },
    },
  });
  socket.write(request);
  while (closedMs === undefined && performance.now() - started < waitMs) await Bun.sleep(20);
  // closed by the server, not by the end() below
  const closedByServer = closedMs;
  if (closedByServer === undefined) socket.end();
  return { answer, answeredMs, closedMs: closedByServer };
}

const statusOf = (answer: string) => Number(answer.slice(9, 12));

function http(method: string, path: string, token: string, body?: string, headers: string[] = []) {
  const head = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", `Authorization: Bearer ${token}`, ...headers];
  if (body !== undefined) {
    if (!headers.some((h) => h.toLowerCase().startsWith("content-type:"))) head.push("Content-Type: application/json");
    head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${head.join("\r\n")}\r\n\r\n${body ?? ""}`;
}

describe("the idle timer runs on the client's turns only", () => {
  test("writes the service works on past the idle timeout are answered, then their connections closed", async () => {
    // one without a body, one with, an import (whose route reads its body itself): Bun cut
    // the first, not the others; and an export, whose pages are read as the client takes them
    const deleter = newInstall("idle-delete");
    const writer = newInstall("idle-post");
    const importer = newInstall("idle-import");
    const exporter = newInstall("idle-export");
    const [deleteToken, postToken, importerToken, exporterToken, adminToken] = await Promise.all([
      tokenFor(deleter),
      tokenFor(writer),
      tokenFor(importer),
      tokenFor(exporter),
      tokenFor({}, "storage:admin"),
    ]);
    expect((await client(server.url, exporterToken).put("ns", "e", { value: 5 })).status).toBe(201);
    expect((await client(server.url, deleteToken).put("ns", "a", { value: 1 })).status).toBe(201);
    expect((await client(server.url, postToken).put("ns", "a", { value: 1 })).status).toBe(201);
    // the importer's install has its usage row and no record: it may take an import
    expect((await client(server.url, importerToken).put("ns", "a", { value: 1 })).status).toBe(201);
    expect((await client(server.url, importerToken).del("ns", "a")).status).toBe(204);
    const ndjson = [
      { type: "install", format: 1, ...importer, exportedAt: new Date().toISOString() },
      { type: "record", namespace: "ns", key: "c", value: 3, expiresAt: null },
      { type: "end", records: 1, schemas: 0 },
    ]
      .map((line) => `${JSON.stringify(line)}\n`)
      .join("");
    const ids = [deleter, writer, importer].map((i) => i.installId);
    // hold the installs' usage rows, as a writer does: their next writes wait on them; and the
    // records table, which the export's first page waits on (its head reads other tables)
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const holder = sql.begin(async (tx) => {
      await tx`select 1 from ext_storage_usage where install_id in ${sql(ids)} for update`;
      await tx`lock table ext_storage_records in access exclusive mode`;
      holding = true;
      await held;
    });
    while (!holding) await Bun.sleep(10);
    const WAIT_MS = CHECK_EVERY_MS + 500;
    const releaser = Bun.sleep(WAIT_MS).then(release);
    const LIMIT_MS = WAIT_MS + 2 * CHECK_EVERY_MS + 2_000;
    // sent on connections of their own: no client resends them when a connection drops
    const admin = (i: typeof importer) => `/admin/v1/tenants/${i.tenantId}/installs/${i.installId}`;
    const answered = await Promise.all([
      exchange(http("DELETE", "/v1/namespaces/ns/records/a", deleteToken), LIMIT_MS),
      exchange(http("POST", "/v1/namespaces/ns/bulk-put", postToken, '{"items":[{"key":"b","value":2}]}'), LIMIT_MS),
      exchange(
        http("POST", `${admin(importer)}/import`, adminToken, ndjson, ["Content-Type: application/x-ndjson"]),
        LIMIT_MS,
      ),
      exchange(http("GET", `${admin(exporter)}/export`, adminToken), LIMIT_MS),
    ]);
    await releaser;
    await holder;
    expect(answered.map((r) => statusOf(r.answer))).toEqual([204, 200, 200, 200]);
    // the export whole: its record and its end line (a cut one has none)
    expect(answered[3]?.answer).toContain('"key":"e","value":5');
    expect(answered[3]?.answer).toContain('{"type":"end","records":1,"schemas":0}');
    for (const r of answered) {
      expect(r.answeredMs).toBeGreaterThanOrEqual(WAIT_MS - 50);
      // idle again once answered: closed at one of the next checks
      expect(r.closedMs).toBeDefined();
      expect((r.closedMs as number) - r.answeredMs).toBeLessThan(2 * CHECK_EVERY_MS + 500);
    }
    // each applied once, and was told
    expect((await client(server.url, deleteToken).get("ns", "a")).status).toBe(404);
    expect((await client(server.url, postToken).get("ns", "b")).body.value).toBe(2);
    expect((await client(server.url, importerToken).get("ns", "c")).body.value).toBe(3);
  }, 30_000);

  test("every kind of answer hands the connection back to the idle timer", async () => {
    const token = await tokenFor(newInstall("idle-answers"));
    const purged = newInstall("idle-purged");
    const purgedToken = await tokenFor(purged);
    expect((await client(server.url, purgedToken).put("ns", "k", { value: 1 })).status).toBe(201);
    const WAIT_MS = 2 * CHECK_EVERY_MS + 1_500;
    // a watch stream the server ends (its install purged): the connection is idle again
    const ended = exchange(http("GET", "/v1/watch", purgedToken), WAIT_MS);
    setTimeout(async () => {
      const path = `/admin/v1/tenants/${purged.tenantId}/installs/${purged.installId}`;
      const headers = { authorization: `Bearer ${await tokenFor({}, "storage:admin")}` };
      await (await fetch(server.url + path, { method: "DELETE", headers })).arrayBuffer();
    }, 500);
    const requests = {
      "a read's 404": http("GET", "/v1/namespaces/ns/records/none", token),
      "a write's 201": http("PUT", "/v1/namespaces/ns/records/k", token, '{"value":1}'),
      "a bad body's 400": http("PUT", "/v1/namespaces/ns/records/k", token, '{"value":'),
      "a schema's 400": http("PUT", "/v1/namespaces/ns/records/k", token, '{"val":1}'),
      "a precondition's 412": http("DELETE", "/v1/namespaces/ns/records/k", token, undefined, ['If-Match: "999"']),
      "no token's 401": "GET /v1/namespaces/ns/records/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "no route's 404": http("GET", "/v1/nothing-here", token),
      "a probe's 200": "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      // kept open by its heartbeats (every 15 s by default), not closed as idle
      "a watch stream": http("GET", "/v1/watch", token),
    };
    const results = await Promise.all(
      Object.entries(requests).map(async ([name, request]) => {
        const r = await exchange(request, WAIT_MS);
        return { name, status: statusOf(r.answer), closed: r.closedMs !== undefined };
      }),
    );
    const watchEnded = await ended;
    expect(watchEnded.answer).toContain(": closing (purge)");
    results.push({
      name: "a watch stream the server ends",
      status: statusOf(watchEnded.answer),
      closed: watchEnded.closedMs !== undefined,
    });
    expect(results).toEqual([
      { name: "a read's 404", status: 404, closed: true },
      { name: "a write's 201", status: 201, closed: true },
      { name: "a bad body's 400", status: 400, closed: true },
      { name: "a schema's 400", status: 400, closed: true },
      { name: "a precondition's 412", status: 412, closed: true },
      { name: "no token's 401", status: 401, closed: true },
      { name: "no route's 404", status: 404, closed: true },
      { name: "a probe's 200", status: 200, closed: true },
      { name: "a watch stream", status: 200, closed: false },
      { name: "a watch stream the server ends", status: 200, closed: true },
    ]);
  }, 30_000);
});
