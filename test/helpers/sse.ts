// A Server-Sent Events reader over real HTTP, for the watch tests and the watch benchmark.
export type SseEvent = { id?: string; event?: string; data?: string; at: number };

export type SseStream = {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: string[];
  retry?: number;
  /** resolves when the server ends the stream */
  ended: Promise<void>;
  /** waits until n events have arrived (or throws after timeoutMs) */
  waitFor(n: number, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
};

export async function openSse(url: string, token: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    events: [],
    comments: [],
    ended: Promise.resolve(),
    async waitFor(n, timeoutMs = 5000) {
      const start = Date.now();
      while (stream.events.length < n) {
        if (Date.now() - start > timeoutMs) {
          throw new Error(`waited ${timeoutMs} ms for ${n} events, got ${stream.events.length}`);
        }
        await Bun.sleep(5);
      }
      return stream.events.slice(0, n);
    },
    close: () => abort.abort(),
  };
  if (res.status !== 200 || res.body === null) {
    await res.text().catch(() => "");
    return stream;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  stream.ended = (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { at: performance.now() };
          let isEvent = false;
          for (const line of block.split("\n")) {
            const field = /^(id|event|data): (.*)$/.exec(line);
            if (line.startsWith(":")) stream.comments.push(line.slice(1).trim());
            else if (line.startsWith("retry: ")) stream.retry = Number(line.slice(7));
            else if (field !== null) {
              event[field[1] as "id" | "event" | "data"] = field[2];
              isEvent = true;
            }
          }
          if (isEvent) stream.events.push(event);
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return stream;
}
