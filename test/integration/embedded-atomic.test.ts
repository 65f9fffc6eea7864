// PATCH, /v1/atomic and Idempotency-Key on the embedded default (PGlite, one connection): the
// idempotency migration applies there, concurrent increments lose nothing and a repeated
// write replays.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedServer } from "../helpers/embedded.ts";

const dataDir = mkdtempSync(join(tmpdir(), "ext-storage-embedded-atomic-"));
let server: Awaited<ReturnType<typeof startEmbeddedServer>>;
beforeAll(async () => {
  server = await startEmbeddedServer(dataDir, { STORAGE_RATE_LIMIT: "0" });
}, 60_000);
afterAll(async () => {
  server?.proc.kill("SIGTERM");
  await server?.proc.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
};

test("PATCH, atomic increments and idempotent replays on PGlite", async () => {
  const put = await call("PUT", "/v1/namespaces/e/records/doc", { value: { a: 1, b: 2 }, ttlSeconds: 600 });
  expect(put.status).toBe(201);
  const patched = await call(
    "PATCH",
    "/v1/namespaces/e/records/doc",
    { b: null, c: 3 },
    {
      "content-type": "application/merge-patch+json",
    },
  );
  expect([patched.status, patched.body.value]).toEqual([200, { a: 1, c: 3 }]);
  expect(patched.body.expiresAt).not.toBeNull();

  const inc = { ops: [{ op: "increment", namespace: "e", key: "n", path: "/x", by: 1 }] };
  const results = await Promise.all(Array.from({ length: 40 }, () => call("POST", "/v1/atomic", inc)));
  expect(results.every((r) => r.status === 200)).toBe(true);
  expect((await call("GET", "/v1/namespaces/e/records/n")).body.value).toEqual({ x: 40 });

  const first = await call("POST", "/v1/atomic", inc, { "idempotency-key": "emb-1" });
  const again = await call("POST", "/v1/atomic", inc, { "idempotency-key": "emb-1" });
  expect([again.status, again.headers.get("idempotent-replayed"), again.body]).toEqual([200, "true", first.body]);
  expect((await call("GET", "/v1/namespaces/e/records/n")).body.value).toEqual({ x: 41 });
  const reused = await call(
    "POST",
    "/v1/atomic",
    { ops: [{ op: "delete", namespace: "e", key: "n" }] },
    {
      "idempotency-key": "emb-1",
    },
  );
  expect([reused.status, reused.body.error.details.reason]).toEqual([409, "idempotency_key_reused"]);
}, 60_000);
