// A real server on a loopback port for integration tests, and per-test installs with tokens.
import { mintToken } from "../../src/tokens.ts";
import { type AppServer, startAppServer } from "../../tools/app-server.ts";

export const TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop";
export const AUDIENCE = "ext-storage";

export type TestServer = AppServer;

export function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  // no rate limit or work budget unless a test asks for one: the suite sends far more than
  // 100 requests/s, and more bytes than an install's budget
  return startAppServer(process.env.DATABASE_URL as string, {
    ...process.env,
    STORAGE_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: "silent",
    STORAGE_RATE_LIMIT: "0",
    STORAGE_WORK_LIMIT_BYTES: "0",
    ...env,
  });
}

let counter = 0;
/** A fresh install (and tenant) no other test touches. */
export function newInstall(label = "t") {
  const id = `${label}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  return { tenantId: `tenant-${id}`, extensionId: `ext-${id}`, installId: `inst-${id}` };
}

export type Install = ReturnType<typeof newInstall>;

export const tokenFor = (
  install: Partial<Install>,
  scope = "storage:read storage:write",
  options: { ttlSeconds?: number; audience?: string; secret?: string } = {},
) =>
  mintToken(
    { ...install, scope },
    { secret: options.secret ?? TEST_SECRET, audience: options.audience ?? AUDIENCE, ttlSeconds: options.ttlSeconds },
  );

/** A small client bound to one server and token. */
export function client(base: string, token: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const send = () =>
      fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    // Bun 1.4's server now and then resets a kept-alive connection reused at once after a small
    // answer (oven-sh/bun#42212): the request never reached the app. A read is sent again once;
    // a write is not, so a test never applies one twice
    const res = await send().catch((error) => {
      if ((method === "GET" || method === "HEAD") && (error as { code?: string })?.code === "ECONNRESET") return send();
      throw error;
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: test bodies are checked field by field
    const json: any = text === "" ? undefined : JSON.parse(text);
    return { status: res.status, headers: res.headers, body: json };
  };
  const rec = (ns: string, key: string) =>
    `/v1/namespaces/${encodeURIComponent(ns)}/records/${encodeURIComponent(key)}`;
  return {
    call,
    get: (ns: string, key: string) => call("GET", rec(ns, key)),
    put: (ns: string, key: string, body: unknown, headers?: Record<string, string>) =>
      call("PUT", rec(ns, key), body, headers),
    del: (ns: string, key: string, headers?: Record<string, string>) =>
      call("DELETE", rec(ns, key), undefined, headers),
    list: (ns: string, query = "") => call("GET", `/v1/namespaces/${ns}/records${query ? `?${query}` : ""}`),
    bulk: (ns: string, op: "bulk-get" | "bulk-put" | "bulk-delete", body: unknown, headers?: Record<string, string>) =>
      call("POST", `/v1/namespaces/${ns}/${op}`, body, headers),
    patch: (ns: string, key: string, body: unknown, headers?: Record<string, string>) =>
      call("PATCH", rec(ns, key), body, { "content-type": "application/merge-patch+json", ...headers }),
    atomic: (body: unknown, headers?: Record<string, string>) => call("POST", "/v1/atomic", body, headers),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An admin client (scope storage:admin, no install claims). */
export async function adminClient(base: string) {
  const token = await tokenFor({}, "storage:admin");
  const c = client(base, token);
  const path = (tenantId: string, installId: string) => `/admin/v1/tenants/${tenantId}/installs/${installId}`;
  return {
    ...c,
    usage: (i: { tenantId: string; installId: string }) => c.call("GET", `${path(i.tenantId, i.installId)}/usage`),
    limits: (i: { tenantId: string; installId: string }, body: unknown) =>
      c.call("PUT", `${path(i.tenantId, i.installId)}/limits`, body),
    purge: (i: { tenantId: string; installId: string }) => c.call("DELETE", path(i.tenantId, i.installId)),
  };
}
