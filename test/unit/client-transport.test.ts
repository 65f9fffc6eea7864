// The client's transport rules that need no server: Retry-After in both forms, the backoff's
// bounds, one token refresh shared by concurrent 401s, and answers that are not the contract's.
import { expect, test } from "bun:test";
import { StorageClient } from "../../packages/client/src/index.ts";
import { retryAfterMs, Transport } from "../../packages/client/src/transport.ts";

test("Retry-After: delta-seconds or an HTTP date; anything else is ignored", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  expect(retryAfterMs("3", now)).toBe(3000);
  expect(retryAfterMs(" 0 ", now)).toBe(0);
  expect(retryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
  expect(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  expect(retryAfterMs("soon", now)).toBeUndefined();
  expect(retryAfterMs("", now)).toBeUndefined();
  expect(retryAfterMs(null, now)).toBeUndefined();
});

test("backoff: full jitter under base × 2^n, capped; never below Retry-After", () => {
  const t = new Transport({ baseUrl: "http://x", token: "t", retry: { baseDelayMs: 100, maxDelayMs: 1000 } });
  for (let i = 0; i < 200; i++) {
    const n = i % 8;
    const d = t.backoff(n);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** n));
    expect(t.backoff(n, 2500)).toBeGreaterThanOrEqual(2500);
  }
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

test("concurrent 401s share one fresh token; a failing provider is asked again by the next call", async () => {
  let asked = 0;
  const fetch = async (_url: string, init: RequestInit) => {
    const auth = (init.headers as Record<string, string>).authorization;
    return auth === "Bearer fresh"
      ? json(200, { bytesUsed: 0, recordCount: 0, limits: { maxBytes: 1, maxRecords: 1, maxValueBytes: 1 } })
      : json(401, { error: { code: "UNAUTHENTICATED", message: "expired" } });
  };
  const client = new StorageClient({
    baseUrl: "http://x/",
    fetch,
    token: async () => (asked++ === 0 ? "old" : "fresh"),
  });
  await Promise.all([client.usage(), client.usage(), client.usage()]);
  expect(asked).toBe(2);

  let calls = 0;
  const flaky = new StorageClient({
    baseUrl: "http://x",
    fetch,
    token: async () => {
      if (calls++ === 0) throw new Error("not signed in");
      return "fresh";
    },
  });
  expect(await flaky.usage().catch((e) => e.message)).toBe("not signed in");
  expect((await flaky.usage()).recordCount).toBe(0);
});

test("an answer that is not the contract's is BAD_RESPONSE with its status; 5xx other than 503 are not retried", async () => {
  let calls = 0;
  const client = new StorageClient({
    baseUrl: "http://x",
    token: "t",
    fetch: async () => {
      calls++;
      return new Response("<html>bad gateway</html>", { status: 502, headers: { "x-request-id": "r1" } });
    },
  });
  const error = await client.usage().catch((e) => e);
  expect([error.status, error.code, error.requestId, calls]).toEqual([502, "BAD_RESPONSE", "r1", 1]);
});

test("the base URL may carry a path prefix; keys and namespaces are one encoded segment", async () => {
  const urls: string[] = [];
  const client = new StorageClient({
    baseUrl: "https://gw.example/storage/",
    token: "t",
    fetch: async (url) => {
      urls.push(url);
      return json(404, { error: { code: "NOT_FOUND", message: "no such record" } });
    },
  });
  expect(await client.ns("a.b").get("x/y?z#%")).toBeNull();
  await client
    .ns("n")
    .list({ prefix: "a b&c", pageSize: 5, values: false })
    [Symbol.asyncIterator]()
    .next()
    .catch(() => {});
  expect(urls).toEqual([
    "https://gw.example/storage/v1/namespaces/a.b/records/x%2Fy%3Fz%23%25",
    "https://gw.example/storage/v1/namespaces/n/records?prefix=a%20b%26c&limit=5&values=false",
  ]);
});

test("PATCH, atomic and changes send what the contract's schemas accept", async () => {
  const { Value } = await import("@sinclair/typebox/value");
  const { S } = await import("../../src/contract/index.ts");
  const sent: { method: string; url: string; headers: Record<string, string>; body?: unknown }[] = [];
  const answers: Record<string, unknown> = {
    PATCH: {
      key: "k",
      value: { a: 1 },
      revision: 3,
      expiresAt: null,
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:00:00Z",
    },
    POST: { items: [] },
    GET: { items: [{ type: "delete", namespace: "n", key: "k", revision: 4, reason: "expired" }], cursor: "c9" },
  };
  const client = new StorageClient({
    baseUrl: "http://x",
    token: "t",
    fetch: async (url, init) => {
      const method = init.method ?? "GET";
      const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
      sent.push({ method, url, headers: init.headers as Record<string, string>, body });
      return json(200, answers[method]);
    },
  });
  const patched = await client.ns("n").patch("k", { b: null }, { ifRevision: 2 });
  expect(patched.updatedAt).toEqual(new Date("2026-01-01T00:00:00Z"));
  await client
    .atomic()
    .check("n", "k", 3)
    .check("n", "absent", null)
    .set("n", "s", { v: 1 }, { expiresAt: new Date("2030-01-01T00:00:00Z") })
    .delete("m", "d")
    .increment("c", "hits")
    .increment("c", "daily", 2.5, { path: "/mon" })
    .merge("n", "k", { done: true })
    .commit();
  const page = await client.changes({ since: "c1", namespace: "n", prefix: "k", limit: 10, values: true });
  expect(page).toEqual({
    items: [{ type: "delete", namespace: "n", key: "k", revision: 4, reason: "expired" }],
    cursor: "c9",
  });

  const [patch, atomic, changes] = sent;
  expect([patch?.method, patch?.headers["content-type"], patch?.headers["if-match"], patch?.body]).toEqual([
    "PATCH",
    "application/merge-patch+json",
    '"2"',
    { b: null },
  ]);
  expect(patch?.headers["idempotency-key"]).toBeTruthy();
  expect(atomic?.url).toBe("http://x/v1/atomic");
  expect(Value.Errors(S.AtomicBody, atomic?.body).First()).toBeUndefined();
  expect(atomic?.body).toEqual({
    checks: [
      { namespace: "n", key: "k", revision: 3 },
      { namespace: "n", key: "absent", revision: null },
    ],
    ops: [
      { op: "set", namespace: "n", key: "s", value: { v: 1 }, expiresAt: "2030-01-01T00:00:00.000Z" },
      { op: "delete", namespace: "m", key: "d" },
      { op: "increment", namespace: "c", key: "hits", by: 1 },
      { op: "increment", namespace: "c", key: "daily", by: 2.5, path: "/mon" },
      { op: "merge", namespace: "n", key: "k", patch: { done: true } },
    ],
  });
  expect(atomic?.headers["idempotency-key"]).toBeTruthy();
  expect(changes?.url).toBe("http://x/v1/changes?since=c1&namespace=n&prefix=k&limit=10&values=true");
  const query = Object.fromEntries(new URL(changes?.url as string).searchParams);
  expect(Value.Errors(S.ChangesQuery, query).First()).toBeUndefined();
  expect(changes?.headers["idempotency-key"]).toBeUndefined();
});
