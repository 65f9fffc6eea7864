// One HTTP exchange with the service, and everything around it that every call shares: the
// token (asked again once after a 401), the Idempotency-Key of a write (one per call, the same
// on each retry), the retries of 429 and 503 (and of answers that never came) with jittered
// exponential backoff that honours Retry-After, the caller's AbortSignal and the timeout.
import { StorageError } from "./errors.ts";

/** A token, or a function that returns one (it is called again once after a 401). */
export type TokenSource = string | (() => string | Promise<string>);

/** The part of `fetch` the client uses. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** How failed requests are retried; `false` turns retries off. */
export type RetryOptions = {
  /** retries after the first attempt (default 4) */
  retries?: number;
  /** no retry starts once this long has passed since the call began (default 30,000 ms) */
  maxElapsedMs?: number;
  /** the first backoff's upper bound; each retry doubles it (default 250 ms) */
  baseDelayMs?: number;
  /** the largest backoff, Retry-After aside (default 10,000 ms) */
  maxDelayMs?: number;
};

/** What a StorageClient is made with. */
export type ClientOptions = {
  /** the service's origin, optionally with a path prefix: `https://storage.example` */
  baseUrl: string;
  token: TokenSource;
  /** each HTTP request's timeout, in ms (default 30,000; 0: none) */
  timeoutMs?: number;
  retry?: RetryOptions | false;
  /** the fetch to use (default: the global one) */
  fetch?: FetchLike;
};

/** Options every call takes. */
export type CallOptions = {
  /** aborts the call, retries and backoff included; the call rejects with the signal's reason */
  signal?: AbortSignal;
  /** this call's timeout per HTTP request, in ms (0: none) */
  timeoutMs?: number;
};

/** Options every write takes. */
export type WriteOptions = CallOptions & {
  /** the Idempotency-Key to send (default: a fresh random UUID per call, the same on its retries) */
  idempotencyKey?: string;
};

export type Call = {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** send an Idempotency-Key */
  write?: boolean;
  options?: WriteOptions;
};

export type Answer = { status: number; headers: Headers; body: unknown };

export const enc = encodeURIComponent;

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => {
      done();
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });

/** A random UUID; a fallback for runtimes without crypto.randomUUID (insecure origins). */
function uuid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value.trim());
  if (value.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error an answer that is not 2xx stands for. */
export async function errorOf(response: Response): Promise<StorageError> {
  const requestId = response.headers.get("x-request-id") ?? undefined;
  const text = await response.text().catch(() => "");
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = JSON.parse(text)?.error;
  } catch {}
  return typeof error?.code === "string"
    ? new StorageError(
        response.status,
        error.code as StorageError["code"],
        String(error.message ?? error.code),
        error.details as Record<string, unknown> | undefined,
        requestId,
      )
    : new StorageError(response.status, "BAD_RESPONSE", `HTTP ${response.status}`, undefined, requestId);
}

export class Transport {
  readonly #base: string;
  readonly #token: TokenSource;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly retry: Required<RetryOptions>;
  #current?: Promise<string>;

  constructor(options: ClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = {
      retries: 4,
      maxElapsedMs: 30_000,
      baseDelayMs: 250,
      maxDelayMs: 10_000,
      ...(options.retry === false ? { retries: 0 } : options.retry),
    };
  }

  /** The token to send; a fresh one from the provider when `stale` is the one that got a 401. */
  #tokenFor(stale?: Promise<string>): Promise<string> {
    const source = this.#token;
    if (typeof source === "string") return Promise.resolve(source);
    if (this.#current === undefined || this.#current === stale) {
      const asked = Promise.resolve().then(source);
      // a provider that failed is asked again by the next call
      asked.catch(() => {
        if (this.#current === asked) this.#current = undefined;
      });
      this.#current = asked;
    }
    return this.#current;
  }

  /** The backoff before retry number `n` (0-based): full jitter, at least Retry-After. */
  backoff(n: number, after?: number): number {
    const { baseDelayMs, maxDelayMs } = this.retry;
    const jittered = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** n);
    return after === undefined ? jittered : Math.max(after, jittered);
  }

  /** Sends the call and returns its 2xx answer with the body parsed. */
  send(call: Call): Promise<Answer> {
    return this.#exchange(call, async (response) => {
      const text = await response.text();
      try {
        return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) };
      } catch (cause) {
        throw new StorageError(response.status, "BAD_RESPONSE", "the answer is not JSON", undefined, undefined, {
          cause,
        });
      }
    });
  }

  /** Sends the call and returns its 2xx response unread: the timeout covers only its headers. */
  open(call: Call): Promise<Response> {
    return this.#exchange(call, async (response) => response, true);
  }

  /** The call, with its retries; `read` turns a 2xx response into the result within the timeout. */
  async #exchange<T>(call: Call, read: (response: Response) => Promise<T>, stream = false): Promise<T> {
    const options = call.options ?? {};
    const { signal } = options;
    const started = Date.now();
    const key = call.write ? (options.idempotencyKey ?? uuid()) : undefined;
    let url = `${this.#base}${call.path}`;
    const query = Object.entries(call.query ?? {}).filter(([, v]) => v !== undefined);
    if (query.length > 0) url += `?${query.map(([k, v]) => `${k}=${enc(String(v))}`).join("&")}`;
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    let refreshed = false;
    let stale: Promise<string> | undefined;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const tokenPromise = this.#tokenFor(stale);
      const token = await tokenPromise;
      const headers: Record<string, string> = { ...call.headers, authorization: `Bearer ${token}` };
      if (body !== undefined) headers["content-type"] = call.contentType ?? "application/json";
      if (key !== undefined) headers["idempotency-key"] = key;

      let failure: StorageError;
      let wait: number | undefined;
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      const controller = new AbortController();
      let timedOut = false;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              controller.abort();
            }, timeoutMs)
          : undefined;
      const forward = () => controller.abort(signal?.reason);
      signal?.addEventListener("abort", forward, { once: true });
      try {
        const response = await this.#fetch(url, { method: call.method, headers, body, signal: controller.signal });
        if (response.ok) {
          if (stream) clearTimeout(timer);
          return await read(response);
        }
        failure = await errorOf(response);
        if (response.status === 401 && !refreshed && typeof this.#token !== "string") {
          refreshed = true;
          stale = tokenPromise;
          attempt--; // asking for a fresh token is not a retry
          continue;
        }
        if (response.status !== 429 && response.status !== 503) throw failure;
        wait = retryAfterMs(response.headers.get("retry-after"));
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof StorageError) throw error;
        failure = timedOut
          ? new StorageError(0, "TIMEOUT", `no answer within ${timeoutMs} ms`, undefined, undefined, { cause: error })
          : new StorageError(0, "NETWORK", `the request failed: ${error}`, undefined, undefined, { cause: error });
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", forward);
      }
      const delay = this.backoff(attempt, wait);
      if (attempt >= this.retry.retries || Date.now() - started + delay > this.retry.maxElapsedMs) throw failure;
      await sleep(delay, signal);
    }
  }
}
