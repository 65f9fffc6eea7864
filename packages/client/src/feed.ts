// The change feed (spec section 16): one page of changes, and the watch stream as an async
// iterable that resumes from the last event's id after a dropped connection or a server's
// drain, so the caller sees every change once, in order, across reconnections.
import type * as C from "./contract.ts";
import { dated } from "./dates.ts";
import { StorageError } from "./errors.ts";
import { sleep, type Transport } from "./transport.ts";
import type { ChangesOptions, ChangesPage, WatchEvent, WatchOptions } from "./types.ts";

/** `base` is `/v1` or `/v1/namespaces/{ns}`. */
export async function changes(
  t: Transport,
  base: string,
  { since, prefix, limit, values, ...options }: ChangesOptions & { namespace?: string },
): Promise<ChangesPage> {
  const query = { since, namespace: options.namespace, prefix, limit, values };
  const { body } = await t.send({ method: "GET", path: `${base}/changes`, query, options });
  const page = body as C.ChangesPage;
  return { items: page.items.map(dated), cursor: page.cursor };
}

/** A stream that stayed open this long was not failing: its end starts the backoff afresh. */
const STEADY_MS = 5000;

export type SseEvent = { event: string; data: string; id?: string };

/**
 * The events of a text/event-stream body, read through `reader` (the WHATWG rules; comments
 * and `retry` ignored). Cancelling the reader ends them.
 */
export async function* sseEvents(reader: ReadableStreamDefaultReader<string>): AsyncGenerator<SseEvent> {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.search(/[\r\n]/); end >= 0; end = buffer.search(/[\r\n]/)) {
        // a CR at the end of the buffer may be the first half of a CRLF
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer.startsWith("\r\n", end) ? end + 2 : end + 1);
        if (line === "") {
          if (data.length > 0 || event !== "") yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
        if (field === "data") data.push(text);
        else if (field === "event") event = text;
        else if (field === "id" && !text.includes("\0")) id = text;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The watch stream; `base` is `/v1` or `/v1/namespaces/{ns}`. */
export async function* watch(
  t: Transport,
  base: string,
  { since, prefix, ...options }: WatchOptions & { namespace?: string },
): AsyncGenerator<WatchEvent> {
  const { signal } = options;
  // the start is pinned to a cursor before the first connection, so that a drop before the
  // first event resumes from there rather than from a later "now"
  let cursor =
    since ?? (await changes(t, base, { since: "now", limit: 1, namespace: options.namespace, signal })).cursor;
  let failures = 0;
  for (;;) {
    const response = await t.open({
      method: "GET",
      path: `${base}/watch`,
      query: { since: cursor, namespace: options.namespace, prefix },
      headers: { accept: "text/event-stream", "last-event-id": cursor },
      options,
    });
    const body = response.body;
    if (body === null) throw new StorageError(response.status, "BAD_RESPONSE", "the stream has no body");
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const events = sseEvents(reader);
    const stop = () => void reader.cancel().catch(() => {});
    signal?.addEventListener("abort", stop, { once: true });
    const opened = Date.now();
    try {
      for await (const sse of events) {
        if (sse.event === "reset") {
          throw new StorageError(410, "CURSOR_EXPIRED", "the cursor is older than the changes kept: read again");
        }
        if (sse.data === "") continue;
        const change = dated(JSON.parse(sse.data) as C.Change);
        if (sse.id !== undefined) cursor = sse.id;
        failures = 0;
        yield { ...change, cursor };
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof StorageError) throw error;
      // the connection broke mid-stream: resume below
    } finally {
      signal?.removeEventListener("abort", stop);
      await events.return(undefined);
    }
    signal?.throwIfAborted();
    // the stream ended (the server drained, or the connection dropped): resume from the last
    // id after a backoff; a stream that keeps ending at once without an event gives up
    if (Date.now() - opened > STEADY_MS) failures = 0;
    if (failures > t.retry.retries) {
      throw new StorageError(0, "NETWORK", "the watch stream keeps closing without delivering events");
    }
    await sleep(t.backoff(failures++), signal);
  }
}
