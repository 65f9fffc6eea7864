// STORAGE_IDLE_TIMEOUT_SECONDS bounds the client's turns: sending its request, taking its
// answer, and a kept-alive connection waiting for the next request. Bun's idle timer
// (`idleTimeout`) counts silence on the socket, and for a request without a body (GET,
// DELETE, HEAD) it went on counting while the service worked: a request the service took
// longer than that over (a write waiting on its install's lock, a slow database) had its
// connection closed with no answer while the work went on, a DELETE applied and the client
// never told, a GET resent by the client's transport and so served (and rate-limited)
// twice. Bun checks its idle connections every 4 s, so a setting of 4 or less cut such a
// request at the next check, however short the work. A request with a body was not cut
// once its body was read (Bun 1.4.5; test/integration/idle-timer.test.ts holds both).
//
// So a request without a body holds the timer from the start (it is whole as it arrives)
// and every answer hands it back, before Bun writes it, with `Server.timeout(request,
// seconds)` (0: none). A streamed answer that reads the database as it goes (the export)
// holds it again while each piece is produced; a watch stream holds it until it ends (its
// heartbeats keep the connection). In-process calls (`app.handle`) and Deno have no such
// server: there all of these are no-ops.

/** What this needs of the server that received the request: Bun's `Server.timeout`. */
export type TimedServer = { timeout?(request: Request, seconds: number): void } | null | undefined;

/** Answers that keep themselves alive (a watch stream's heartbeats): held to the end. */
const kept = new WeakSet<Request>();

/** Stops the idle timer of the request's connection: the service's turn. */
export function holdIdleTimer(request: Request, server: TimedServer): void {
  server?.timeout?.(request, 0);
}

/** Stops the idle timer of the request's connection for good: its answer is a stream that
 * keeps the connection alive itself, and resumeIdleTimer leaves it alone. */
export function holdIdleTimerForStream(request: Request, server: TimedServer): void {
  kept.add(request);
  holdIdleTimer(request, server);
}

/** Restarts the idle timer of the request's connection at `seconds`: the client's turn. */
export function resumeIdleTimer(request: Request, server: TimedServer, seconds: number): void {
  if (!kept.has(request)) server?.timeout?.(request, seconds);
}

/** Restarts the idle timer at `seconds` once a stream held by holdIdleTimerForStream has
 * ended (the server ended it; the client may keep the connection for more requests). */
export function releaseIdleTimerAfterStream(request: Request, server: TimedServer, seconds: number): void {
  kept.delete(request);
  resumeIdleTimer(request, server, seconds);
}

/**
 * A streamed answer whose pieces the service works to produce (an export's pages, each read
 * from the database): the timer is held while a piece is produced and handed back once it is
 * queued, so that only the client's reading is timed. A piece is asked for only when the
 * response has room for it (no high-water mark): a client that stops reading stops the
 * pieces, and the timer then runs.
 */
export function timedStream(
  body: ReadableStream<Uint8Array>,
  request: Request,
  server: TimedServer,
  seconds: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        holdIdleTimer(request, server);
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } finally {
          resumeIdleTimer(request, server, seconds);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
