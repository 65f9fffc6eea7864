// Sequential round trips between the service and the database per request, counted on the
// wire: the service reaches PostgreSQL through a loopback proxy that hands each answer of
// the database to the service a few milliseconds late, and counts a round trip each time
// the service sends after an answer reached it (what it sends before that, pipelined, is
// part of the same round trip). Issue's target: a PUT or DELETE in 2 (BEGIN pipelined with
// the first statements, COMMIT with the last), whatever the op count.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startAppServer } from "../../tools/app-server.ts";
import { type PgProxy, startPgProxy } from "../helpers/pg-proxy.ts";
import { client, newInstall, TEST_SECRET, type TestServer, tokenFor } from "../helpers/server.ts";

const ANSWER_DELAY_MS = 5;

let proxy: PgProxy;
let server: TestServer;
beforeAll(async () => {
  proxy = startPgProxy(process.env.DATABASE_URL as string, ANSWER_DELAY_MS);
  server = await startAppServer(proxy.url, {
    ...process.env,
    STORAGE_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: "silent",
    STORAGE_RATE_LIMIT: "0",
    STORAGE_WORK_LIMIT_BYTES: "0",
  });
});
afterAll(async () => {
  await server.close();
  proxy.stop();
});

/** The request warmed up three times (prepared statements, the namespace's schema version),
 * then counted once; `before` runs ahead of each, uncounted. */
async function rounds(
  send: (i: number) => Promise<{ status: number }>,
  status: number,
  before?: (i: number) => Promise<{ status: number }>,
) {
  for (let i = 0; i < 3; i++) {
    if (before) expect((await before(i)).status).toBeLessThan(300);
    expect((await send(i)).status).toBeLessThan(300);
  }
  if (before) expect((await before(3)).status).toBeLessThan(300);
  let answer = { status: 0 };
  const counted = await proxy.countRounds(async () => {
    answer = await send(3);
  });
  expect(answer.status).toBe(status);
  return counted;
}

describe("round trips to the database per request", () => {
  test("a write is 2, whatever its size; a read is 1; an Idempotency-Key adds 1", async () => {
    const c = client(server.url, await tokenFor(newInstall("rt"), "storage:read storage:write storage:schema"));
    const items = (i: number) => Array.from({ length: 20 }, (_, j) => ({ key: `b${i}-${j}`, value: { j } }));
    const found = {
      "PUT, new key": await rounds((i) => c.put("n", `new-${i}`, { value: { i } }), 201),
      "PUT, existing key": await rounds(() => c.put("n", "same", { value: { at: Date.now() } }), 200),
      "PATCH (merge patch)": await rounds(() => c.patch("n", "same", { patched: Date.now() }), 200),
      DELETE: await rounds(
        (i) => c.del("n", `gone-${i}`),
        204,
        (i) => c.put("n", `gone-${i}`, { value: 1 }),
      ),
      "bulk-put, 20 records": await rounds((i) => c.bulk("n", "bulk-put", { items: items(i) }), 200),
      "bulk-delete, 20 records": await rounds(
        (i) => c.bulk("n", "bulk-delete", { keys: items(i + 10).map((item) => item.key) }),
        200,
        (i) => c.bulk("n", "bulk-put", { items: items(i + 10) }),
      ),
      "atomic, 10 ops": await rounds(
        (i) =>
          c.atomic({
            ops: Array.from({ length: 10 }, (_, j) => ({
              op: "increment",
              namespace: "a",
              key: `c${j}`,
              path: "/n",
              by: i,
            })),
          }),
        200,
      ),
      "PUT with Idempotency-Key": await rounds(
        (i) => c.put("n", `idem-${i}`, { value: i }, { "idempotency-key": `key-${i}-${Date.now()}` }),
        201,
      ),
      "DELETE namespace": await rounds(
        (i) => c.call("DELETE", `/v1/namespaces/gone-${i}`),
        200,
        (i) => c.put(`gone-${i}`, "k", { value: 1 }),
      ),
      "PUT schema": await rounds(
        (i) => c.call("PUT", "/v1/namespaces/s/schema", { jsonSchema: { type: "object", maxProperties: 10 + i } }),
        200,
      ),
      GET: await rounds(() => c.get("n", "same"), 200),
      "list page": await rounds(() => c.list("n", "limit=5"), 200),
    };
    expect(found).toEqual({
      "PUT, new key": 2,
      "PUT, existing key": 2,
      "PATCH (merge patch)": 2,
      DELETE: 2,
      "bulk-put, 20 records": 2,
      "bulk-delete, 20 records": 2,
      "atomic, 10 ops": 2,
      "PUT with Idempotency-Key": 3,
      "DELETE namespace": 2,
      "PUT schema": 2,
      GET: 1,
      "list page": 1,
    });
  });
});
