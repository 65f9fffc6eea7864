// The HTTP edge: exact paths, the path acted on is the path sent, the error order on every
// route with or without a body, the Bearer scheme, and refusals in the contract's shape
// rather than the runtime's. Raw sockets where fetch would normalise what is sent.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exchange as exchangeWith, request } from "../helpers/raw.ts";
import { adminClient, client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

const METRICS_TOKEN = "metrics-token-0123456789";
let server: TestServer;
let port: number;
const exchange = (head: string, body?: Uint8Array) => exchangeWith(port, head, body);
beforeAll(async () => {
  server = await startServer({ METRICS_TOKEN, STORAGE_MAX_BODY_BYTES: "65536" });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

function expectError(answer: { status: number; headers: Map<string, string> | Headers; body: string }, status: number) {
  const get = (name: string) =>
    answer.headers instanceof Map ? answer.headers.get(name) : (answer.headers as Headers).get(name);
  expect(answer.status).toBe(status);
  expect(get("content-type")).toStartWith("application/json");
  expect(get("x-request-id")).toBeTruthy();
  const parsed = JSON.parse(answer.body);
  expect(typeof parsed.error.code).toBe("string");
  expect(typeof parsed.error.message).toBe("string");
  return parsed.error.code as string;
}

// every route of the contract, with a valid example path
const ROUTES: Array<[string, string]> = [
  ["GET", "/v1/namespaces/ns/records/k"],
  ["PUT", "/v1/namespaces/ns/records/k"],
  ["DELETE", "/v1/namespaces/ns/records/k"],
  ["GET", "/v1/namespaces/ns/records"],
  ["POST", "/v1/namespaces/ns/bulk-get"],
  ["POST", "/v1/namespaces/ns/bulk-put"],
  ["POST", "/v1/namespaces/ns/bulk-delete"],
  ["GET", "/v1/namespaces"],
  ["DELETE", "/v1/namespaces/ns"],
  ["GET", "/v1/usage"],
  ["PUT", "/v1/namespaces/ns/schema"],
  ["GET", "/v1/namespaces/ns/schema"],
  ["DELETE", "/v1/namespaces/ns/schema"],
  ["GET", "/admin/v1/tenants/t/installs/i/usage"],
  ["PUT", "/admin/v1/tenants/t/installs/i/limits"],
  ["DELETE", "/admin/v1/tenants/t/installs/i"],
  ["GET", "/admin/v1/tenants/t/installs/i/export"],
  ["POST", "/admin/v1/tenants/t/installs/i/import"],
  ["GET", "/healthz"],
  ["GET", "/readyz"],
  ["GET", "/metrics"],
  ["GET", "/openapi.json"],
];
const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"];

/** The path with one of its segments emptied, or an empty one added: never a route. */
function emptySegmentVariants(path: string): string[] {
  const parts = path.split("/");
  const out = [`${path}/`, `${path}//`];
  for (let i = 1; i < parts.length; i++) {
    out.push([...parts.slice(0, i), "", ...parts.slice(i + 1)].join("/"));
    out.push([...parts.slice(0, i), "", ...parts.slice(i)].join("/"));
  }
  return out;
}

describe("paths match exactly", () => {
  test("a trailing slash or an empty segment is an unknown route (404) for every route and method", async () => {
    const token = await tokenFor(newInstall("edge"), "storage:read storage:write storage:schema");
    const wrong: string[] = [];
    for (const [, path] of ROUTES) {
      for (const variant of new Set(emptySegmentVariants(path))) {
        for (const method of METHODS) {
          // a raw socket: fetch would send `//v1/usage` as `/v1/usage`
          const res = await exchange(
            request(method, variant, {
              host: `127.0.0.1:${port}`,
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "content-length": "2",
              connection: "close",
            }),
            new TextEncoder().encode("{}"),
          );
          const code = res.status === 404 ? JSON.parse(res.body).error?.code : undefined;
          if (res.status !== 404 || code !== "NOT_FOUND" || !res.headers.get("x-request-id")) {
            wrong.push(`${method} ${variant} → ${res.status} ${res.body.slice(0, 80)}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  test('"/records/" + encodeURIComponent("") is not the list page', async () => {
    const api = client(server.url, await tokenFor(newInstall("edge")));
    expect((await api.put("ns", "k", { value: 1 })).status).toBe(201);
    const res = await api.call("GET", `/v1/namespaces/ns/records/${encodeURIComponent("")}`);
    expect([res.status, res.body.error.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("the path acted on is the path sent", () => {
  test("dot segments, encoded or not, are never resolved: nothing is read or written elsewhere", async () => {
    const install = newInstall("edge");
    const token = await tokenFor(install, "storage:read storage:write storage:schema");
    const api = client(server.url, token);
    expect((await api.put("ns", "k", { value: "kept" })).status).toBe(201);
    expect((await api.put("ns", "dir", { value: "kept" })).status).toBe(201);
    const json = '{"items":[{"key":"k","value":"moved"}]}';
    const cases: Array<[string, string, string?]> = [
      ["POST", "/v1/namespaces/%2e/bulk-put", json],
      ["POST", "/v1/namespaces/./bulk-put", json],
      ["POST", "/v1/namespaces/%2E/bulk-put", json],
      ["POST", "/v1/namespaces/x/%2e%2e/ns/bulk-put", json],
      ["POST", "/v1/namespaces/x/../ns/bulk-put", json],
      ["POST", "/v1/namespaces/x/.%2e/ns/bulk-put", json],
      ["PUT", "/v1/namespaces/ns/records/k/%2e", '{"value":"moved"}'],
      ["PUT", "/v1/namespaces/ns/records/x/../k", '{"value":"moved"}'],
      ["PUT", "/v1/namespaces/ns/records/x\\..\\k", '{"value":"moved"}'],
      ["PUT", "http://other.example/v1/namespaces/ns/records/x/%2E%2E/k", '{"value":"moved"}'],
      ["GET", "/v1/namespaces/ns/records/x/../k"],
      ["GET", "/v1/namespaces/ns/records/%2e%2e"],
      ["GET", "/v1/namespaces/ns/records/."],
      ["GET", "/v1/./usage"],
      ["GET", "/v1/namespaces/./records/k"],
      ["DELETE", "/v1/namespaces/ns/records/dir/"],
      ["DELETE", "/v1/namespaces/ns/records/dir/."],
      ["DELETE", "/v1/namespaces/ns/records/dir/%2e"],
      ["DELETE", "/v1/namespaces/ns/records/x/../dir"],
      ["DELETE", "/v1/namespaces/ns/records/x/%2e%2e/dir"],
      ["DELETE", "/v1/namespaces/ns/x/.."],
      ["DELETE", "/v1/namespaces/ns/schema/.."],
      ["GET", "/admin/v1/tenants/t/installs/%2e/usage"],
      ["DELETE", "/admin/v1/tenants/t/installs/x/.."],
    ];
    const wrong: string[] = [];
    for (const [method, target, body] of cases) {
      const bytes = body === undefined ? undefined : new TextEncoder().encode(body);
      const headers: Record<string, string> = {
        host: `127.0.0.1:${port}`,
        authorization: `Bearer ${token}`,
        connection: "close",
      };
      if (bytes !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(bytes.byteLength);
      }
      const answer = await exchange(request(method, target, headers), bytes);
      if (![400, 404].includes(answer.status) || !answer.headers.get("x-request-id")) {
        wrong.push(`${method} ${target} → ${answer.status} ${answer.body.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
    const namespaces = await api.call("GET", "/v1/namespaces");
    expect(namespaces.body.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(["ns"]);
    expect((await api.get("ns", "k")).body.value).toBe("kept");
    expect((await api.get("ns", "dir")).body.value).toBe("kept");
  });

  test("a request without a usable Host acts on the path it names or is a 400", async () => {
    const install = newInstall("edge");
    const token = await tokenFor(install);
    const api = client(server.url, token);
    const body = new TextEncoder().encode('{"items":[{"key":"k","value":1}]}');
    const headers = {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "content-length": String(body.byteLength),
    };
    // HTTP/1.0 without Host, and HTTP/1.1 with an empty one: act on the path named
    const http10 = await exchange(request("POST", "/v1/namespaces/named/bulk-put", headers, "1.0"), body);
    expect(http10.status).toBe(200);
    const empty = await exchange(
      request("POST", "/v1/namespaces/empty/bulk-put", { ...headers, host: "", connection: "close" }),
      body,
    );
    expect(empty.status).toBe(200);
    // the same with a dot segment: still never resolved
    for (const target of ["/v1/namespaces/%2e/bulk-put", "/v1/namespaces/./bulk-put"]) {
      const answer = await exchange(request("POST", target, headers, "1.0"), body);
      expect([400, 404]).toContain(answer.status);
      expect(answer.headers.get("x-request-id")).toBeTruthy();
    }
    // a Host that is not a host name is refused
    for (const host of ["a/b", "a?b", "x@y", "a b"]) {
      const answer = await exchange(
        request("POST", "/v1/namespaces/hosted/bulk-put", { ...headers, host, connection: "close" }),
        body,
      );
      if (answer.status !== 400) throw new Error(`Host ${host} → ${answer.status}`);
      expect(expectError(answer, 400)).toBe("INVALID_REQUEST");
    }
    // an absolute-form target acts on its path
    const absolute = await exchange(
      request("POST", "http://elsewhere.example/v1/namespaces/absolute/bulk-put", {
        ...headers,
        host: `127.0.0.1:${port}`,
        connection: "close",
      }),
      body,
    );
    expect(absolute.status).toBe(200);
    const names = (await api.call("GET", "/v1/namespaces")).body.namespaces.map(
      (n: { namespace: string }) => n.namespace,
    );
    expect(names).toEqual(["absolute", "empty", "named"]);
  });
});

describe("error order on every route, with or without a body", () => {
  const malformed = "{not json";

  test("a malformed body never outranks 401 or 403", async () => {
    const install = newInstall("edge");
    const tokens: Record<string, string> = {
      none: "",
      garbage: "Bearer not.a.token",
      // a token of no use on the route: read-only on /v1, install-scoped on admin routes
      weak: `Bearer ${await tokenFor(install, "storage:read")}`,
    };
    const wrong: string[] = [];
    for (const [method, path] of ROUTES) {
      if (!path.startsWith("/v1/") && !path.startsWith("/admin/")) continue;
      // a read token is enough for the read routes: there the malformed body is a 400
      const readRoute = path.startsWith("/v1/") && (method === "GET" || path.endsWith("/bulk-get"));
      for (const [name, authorization] of Object.entries(tokens)) {
        // a GET with a read token is answered as usual: its body is not read
        if (name === "weak" && readRoute && method === "GET" && !path.endsWith("/schema")) continue;
        const expected = name !== "weak" ? 401 : readRoute && !path.endsWith("/schema") ? 400 : 403;
        const body = new TextEncoder().encode(malformed);
        const headers: Record<string, string> = {
          host: `127.0.0.1:${port}`,
          "content-type": "application/json",
          "content-length": String(body.byteLength),
          connection: "close",
        };
        if (authorization !== "") headers.authorization = authorization;
        const answer = await exchange(request(method, path, headers), body);
        if (answer.status !== expected || !answer.headers.get("x-request-id")) {
          wrong.push(`${method} ${path} (${name}) → ${answer.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("a body sent to a route that takes none is not read as JSON", async () => {
    const api = client(server.url, await tokenFor(newInstall("edge"), "storage:read storage:write storage:schema"));
    expect((await api.put("ns", "k", { value: 1 })).status).toBe(201);
    const headers = { "content-type": "application/json" };
    const del = await fetch(`${server.url}/v1/namespaces/ns/records/k`, {
      method: "DELETE",
      headers: { ...headers, authorization: `Bearer ${await tokenFor(newInstall("edge"))}` },
      body: malformed,
    });
    expect([del.status, (await del.json()).error.code]).toEqual([404, "NOT_FOUND"]);
    const schema = await api.call("DELETE", "/v1/namespaces/ns/schema", undefined, headers);
    expect(schema.status).toBe(404);
    const admin = await adminClient(server.url);
    const purge = await fetch(`${server.url}/admin/v1/tenants/t-edge/installs/i-edge`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${await tokenFor({}, "storage:admin")}`, ...headers },
      body: malformed,
    });
    expect(purge.status).toBe(204);
    expect((await admin.usage({ tenantId: "t-edge", installId: "i-edge" })).status).toBe(200);
  });
});

describe("the Bearer scheme", () => {
  test("is case-insensitive and takes one or more spaces, on /v1, admin routes and /metrics", async () => {
    const install = newInstall("edge");
    const token = await tokenFor(install);
    const admin = await tokenFor({}, "storage:admin");
    const forms = (t: string) => [`bearer ${t}`, `BEARER ${t}`, `Bearer  ${t}`, `bEaReR   ${t}`];
    for (const authorization of forms(token)) {
      const res = await fetch(`${server.url}/v1/usage`, { headers: { authorization } });
      expect(res.status).toBe(200);
    }
    for (const authorization of forms(admin)) {
      const res = await fetch(`${server.url}/admin/v1/tenants/t/installs/i/usage`, { headers: { authorization } });
      expect(res.status).toBe(200);
    }
    for (const authorization of forms(METRICS_TOKEN)) {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization } });
      expect(res.status).toBe(200);
      await res.text();
    }
    for (const authorization of [`Bearer${token}`, `Basic ${token}`, `Bearer ${token} x`, token]) {
      const res = await fetch(`${server.url}/v1/usage`, { headers: { authorization } });
      expect([res.status, (await res.json()).error.code]).toEqual([401, "UNAUTHENTICATED"]);
    }
    for (const authorization of [`Bearer${METRICS_TOKEN}`, `Basic ${METRICS_TOKEN}`, `Bearer ${METRICS_TOKEN}x`]) {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization } });
      expect(res.status).toBe(401);
      await res.text();
    }
  });
});

describe("refusals in the contract's shape, not the runtime's", () => {
  const MB = 1024 * 1024;

  test("a body over the limit is a 413 in shape whatever its size, and is not read on", async () => {
    const token = await tokenFor(newInstall("edge"), "storage:read storage:write storage:schema");
    const admin = await tokenFor({}, "storage:admin");
    const targets: Array<[string, string, string]> = [
      ["PUT", "/v1/namespaces/ns/records/k", token],
      ["POST", "/v1/namespaces/ns/bulk-put", token],
      ["PUT", "/v1/namespaces/ns/schema", token],
      ["PUT", "/admin/v1/tenants/t/installs/i/limits", admin],
      ["DELETE", "/v1/namespaces/ns/records/k", token],
      ["GET", "/v1/namespaces/ns/records", token],
    ];
    for (const size of [70_000, 20 * MB, 200 * MB]) {
      for (const [method, path, bearer] of targets) {
        // only the headers and a first slice of the body are sent: the answer must not wait for more
        const answer = await exchange(
          request(method, path, {
            host: `127.0.0.1:${port}`,
            authorization: `Bearer ${bearer}`,
            "content-type": "application/json",
            "content-length": String(size),
          }),
          new TextEncoder().encode('{"value":"'),
        );
        expect(`${method} ${path} ${size}: ${expectError(answer, 413)}`).toBe(
          `${method} ${path} ${size}: PAYLOAD_TOO_LARGE`,
        );
        expect(answer.closed).toBe(true);
      }
    }
  });

  test("a streamed (chunked) body over the limit is a 413 in shape, and is not read on", async () => {
    const token = await tokenFor(newInstall("edge"));
    const chunk = Buffer.from(`${(64 * 1024).toString(16)}\r\n${"x".repeat(64 * 1024)}\r\n`, "latin1");
    const answer = await exchange(
      request("PUT", "/v1/namespaces/ns/records/k", {
        host: `127.0.0.1:${port}`,
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "transfer-encoding": "chunked",
      }),
      Buffer.concat([chunk, chunk]),
    );
    expect(expectError(answer, 413)).toBe("PAYLOAD_TOO_LARGE");
    // the rest of the stream is not read: the connection closes after the answer
    expect(answer.closed).toBe(true);
  });

  test("Expect: 100-continue: a request refused on its token or scope is answered before any body is sent", async () => {
    const reader = await tokenFor(newInstall("edge"), "storage:read");
    const cases: Array<[string | undefined, number]> = [
      [undefined, 401],
      ["Bearer not.a.token", 401],
      [`Bearer ${reader}`, 403],
    ];
    for (const [authorization, status] of cases) {
      const headers: Record<string, string> = {
        host: `127.0.0.1:${port}`,
        "content-type": "application/json",
        "content-length": String(5 * MB),
        expect: "100-continue",
      };
      if (authorization !== undefined) headers.authorization = authorization;
      // no body byte is ever sent: the final answer must come from the headers alone
      const answer = await exchange(request("POST", "/v1/namespaces/ns/bulk-put", headers));
      expectError(answer, status);
      expect(answer.closed).toBe(true);
    }
    // refused before its body, the request is still counted under its route
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(await metrics.text()).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/v1\/namespaces\/:ns\/bulk-put",method="POST",status_class="4xx"/,
    );
  });
});
