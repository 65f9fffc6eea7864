// The client's reading of Server-Sent Events and its resumption of a watch, against a small
// loopback server that speaks the contract's stream (spec section 16) and drops connections
// on purpose. No database: the real route's tests are in test/integration/client-feed.test.ts.
import { afterAll, expect, test } from "bun:test";
import { sseEvents } from "../../packages/client/src/feed.ts";
import { StorageClient } from "../../packages/client/src/index.ts";

async function parse(chunks: string[]) {
  const stream = new ReadableStream<string>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out = [];
  for await (const event of sseEvents(stream.getReader())) out.push(event);
  return out;
}

test("events split anywhere, CRLF / CR / LF, multi-line data, comments and ids", async () => {
  const text =
    ': hello\r\nid: 1\r\nevent: put\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 2\rdata:x\r\rdata: y\n\n: ping\n\n';
  const whole = await parse([text]);
  expect(whole).toEqual([
    { event: "put", data: '{"a":\n1}', id: "1" },
    { event: "message", data: "x", id: "2" },
    { event: "message", data: "y", id: "2" },
  ]);
  // every split point, including between a CR and its LF
  for (let i = 1; i < text.length; i++) expect(await parse([text.slice(0, i), text.slice(i)])).toEqual(whole);
  // an event without its blank line is not dispatched
  expect(await parse(["data: half"])).toEqual([]);
});

// The changes the fake feed holds: cursor "c<n>" is after change n.
const CHANGES = Array.from({ length: 6 }, (_, i) => ({
  type: "put",
  namespace: "ns",
  key: `k${i + 1}`,
  revision: 100 + i,
  expiresAt: i === 0 ? "2030-01-01T00:00:00.000Z" : null,
}));
const seen: { since: string | null; lastEventId: string | null; path: string }[] = [];
let dropAfter = 2; // events sent per connection before it is cut
let closedByClient = 0;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/changes")) {
      return Response.json({ items: [], cursor: "c0" });
    }
    seen.push({
      since: url.searchParams.get("since"),
      lastEventId: request.headers.get("last-event-id"),
      path: url.pathname,
    });
    if (url.searchParams.get("since") === "expired") {
      return new Response("event: reset\ndata: {}\n\n", { headers: { "content-type": "text/event-stream" } });
    }
    const from = Number((request.headers.get("last-event-id") ?? url.searchParams.get("since") ?? "c0").slice(1));
    const pending = CHANGES.slice(from, from + dropAfter);
    const last = from + pending.length >= CHANGES.length;
    request.signal.addEventListener("abort", () => closedByClient++);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<string>({
      start(controller) {
        controller.enqueue(": connected\n\n");
        pending.forEach((change, i) => {
          controller.enqueue(`id: c${from + i + 1}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`);
        });
        // end the stream in the middle of the next event, unless the feed is exhausted: then
        // stay open
        if (!last) {
          const next = CHANGES[from + pending.length];
          controller.enqueue(
            `id: c${from + pending.length + 1}\nevent: put\ndata: ${JSON.stringify(next).slice(0, 9)}`,
          );
        }
        timer = setTimeout(() => controller.close(), last ? 10_000 : 50);
      },
      cancel() {
        clearTimeout(timer);
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  },
});
afterAll(() => server.stop(true));

const client = new StorageClient({
  baseUrl: `http://127.0.0.1:${server.port}`,
  token: "t",
  retry: { baseDelayMs: 5 },
});

test("watch resumes after each dropped connection from the last id: every change once, in order", async () => {
  seen.length = 0;
  const got = [];
  const started = Date.now();
  for await (const change of client.ns("ns").watch()) {
    got.push(change);
    if (got.length === CHANGES.length || Date.now() - started > 10_000) break;
  }
  expect(got.map((c) => [c.key, c.revision, c.cursor])).toEqual(
    CHANGES.map((c, i) => [c.key, c.revision, `c${i + 1}`]),
  );
  expect(got[0]?.expiresAt).toEqual(new Date("2030-01-01T00:00:00.000Z"));
  expect(got[1]?.expiresAt).toBeNull();
  // pinned to the feed's end first (changes?since=now), then resumed from each last id
  expect(seen.map((s) => s.lastEventId)).toEqual(["c0", "c2", "c4"]);
  expect(seen.map((s) => s.since)).toEqual(["c0", "c2", "c4"]);
  expect(seen.every((s) => s.path === "/v1/namespaces/ns/watch")).toBe(true);
});

test("leaving the loop closes the stream; an aborted signal ends it with the signal's reason", async () => {
  dropAfter = CHANGES.length;
  closedByClient = 0;
  for await (const change of client.watch({ since: "c5" })) {
    expect(change.key).toBe("k6");
    break;
  }
  const deadline = Date.now() + 5000;
  while (closedByClient === 0 && Date.now() < deadline) await Bun.sleep(10);
  expect(closedByClient).toBe(1);

  const controller = new AbortController();
  const received: string[] = [];
  const ended = (async () => {
    for await (const change of client.watch({ since: "c5", signal: controller.signal })) received.push(change.cursor);
  })();
  await Bun.sleep(200);
  controller.abort(new Error("closed the popup"));
  expect(await ended.catch((e) => e.message)).toBe("closed the popup");
  expect(received).toEqual(["c6"]);
});

test("a reset event is a CURSOR_EXPIRED error (410): read again, then watch from now", async () => {
  const error = await (async () => {
    for await (const _ of client.watch({ since: "expired" })) {
    }
  })().catch((e) => e);
  expect([error.name, error.status, error.code]).toEqual(["StorageError", 410, "CURSOR_EXPIRED"]);
});
