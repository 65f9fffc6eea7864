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
// seconds)` (0: none). In-process calls (`app.handle`) and Deno have no such server: there
// both are no-ops.

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
  server?.timeout?.(request, 0);
}

/** Restarts the idle timer of the request's connection at `seconds`: the client's turn. */
export function resumeIdleTimer(request: Request, server: TimedServer, seconds: number): void {
  if (!kept.has(request)) server?.timeout?.(request, seconds);
}
