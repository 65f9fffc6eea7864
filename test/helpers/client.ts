// For the tests of the client package (packages/client): a client on a test server for a
// fresh install, a fetch that records what the client sends, and whether a route of the
// contract has landed on the server yet (PATCH, atomic and the change feed are built in
// parallel: their tests run once the server answers them).
import { type ClientOptions, StorageClient } from "../../packages/client/src/index.ts";
import { newInstall, tokenFor } from "./server.ts";

export const ALL_SCOPES = "storage:read storage:write storage:schema";

/** A client of `base` for a fresh install, and that install. */
export async function clientFor(base: string, options: Partial<ClientOptions> = {}, label = "client") {
  const install = newInstall(label);
  const token = await tokenFor(install, ALL_SCOPES);
  return { install, token, client: new StorageClient({ baseUrl: base, token, ...options }) };
}

export type Sent = { method: string; url: string; headers: Record<string, string>; body?: string };

/** A fetch that records each request and hands it to the real fetch. */
export function recordingFetch(sent: Sent[]) {
  return (url: string, init: RequestInit) => {
    sent.push({
      method: init.method ?? "GET",
      url,
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === "string" ? init.body : undefined,
    });
    return fetch(url, init);
  };
}

/**
 * Whether the server has a route for this method and path: without a token, a route answers
 * 401 and anything else (an unknown route) 404, whatever the token (spec section 6).
 */
export async function hasRoute(base: string, method: string, path: string): Promise<boolean> {
  const res = await fetch(base + path, { method, signal: AbortSignal.timeout(5000) });
  await res.body?.cancel();
  return res.status !== 404 && res.status !== 405;
}

/** Skips with a line saying why when the route has not landed yet. */
export async function whenRoute(base: string, method: string, path: string, file: string): Promise<boolean> {
  const present = await hasRoute(base, method, path);
  if (!present) {
    process.stderr.write(`${file}: the server has no ${method} ${path} yet (404), so what needs it is skipped\n`);
  }
  return present;
}
