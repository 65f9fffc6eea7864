// The driver's HTTP calls: one function, a timeout on every request, and the outcome as an
// error code (the contract's `error.code`, else HTTP_<status>, TIMEOUT or NETWORK).
export type Reply = { status: number; code: string | undefined; body: unknown };

export const REQUEST_TIMEOUT_MS = 10_000;

export async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: string,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<Reply> {
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers:
        body === undefined
          ? { authorization: `Bearer ${token}` }
          : { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const name = (error as Error)?.name;
    return { status: 0, code: name === "TimeoutError" || name === "AbortError" ? "TIMEOUT" : "NETWORK", body: null };
  }
  const text = await res.text();
  let json: unknown = null;
  if (text !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
  }
  if (res.ok) return { status: res.status, code: undefined, body: json };
  const code = (json as { error?: { code?: unknown } } | null)?.error?.code;
  return { status: res.status, code: typeof code === "string" ? code : `HTTP_${res.status}`, body: json };
}

export const recordPath = (ns: string, key: string) =>
  `/v1/namespaces/${encodeURIComponent(ns)}/records/${encodeURIComponent(key)}`;

/** Runs fn over items with at most `limit` at once; resolves when all are done. */
export async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
