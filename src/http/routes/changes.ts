// The change feed's routes (spec section 16): GET /v1/changes and /v1/namespaces/{ns}/changes
// (pages), GET /v1/watch and /v1/namespaces/{ns}/watch (Server-Sent Events).
import { Elysia } from "elysia";
import type { Config } from "../../config.ts";
import { AppError, S } from "../../contract/index.ts";
import type { Database } from "../../db/client.ts";
import { errors, fail } from "../../errors.ts";
import {
  type ChangeFilter,
  decodePosition,
  encodePosition,
  type FeedItem,
  MAX_CHANGES_LIMIT,
  type Position,
  readChanges,
} from "../../records/changes.ts";
import type { Install } from "../../records/install.ts";
import { checkNamespace, keyProblem } from "../../records/keys.ts";
import type { Watchers, WatchRefusal } from "../../records/watch.ts";
import { documented, INSTALL, NAMESPACE, passedQuery } from "../answers.ts";
import { type Admission, admission as admissionMacro } from "../gate.ts";
import { holdIdleTimerForStream, releaseIdleTimerAfterStream, type TimedServer } from "../idle-timer.ts";
import { changeJson, changesPageJson } from "../json.ts";
import { jsonText, send } from "../reply.ts";
import { strictQuery } from "../request.ts";

export type ChangeRouteDeps = { db: Database; config: Config; admission: Admission; watchers: Watchers };

type Scope = Pick<Install, "tenantId" | "installId">;
type FeedQuery = ChangeFilter & { since: Position | "now" | undefined; limit: number; values: boolean };

const CHANGES_PARAMETERS = Object.keys(S.ChangesQuery.properties);
const WATCH_PARAMETERS = Object.keys(S.WatchQuery.properties);

/** The query of a changes or watch request, strictly; the path's namespace, if any, is the
 * filter (and the namespace parameter is then unknown). */
function feedQuery(request: Request, install: Scope, pathNamespace: string | undefined, watch: boolean): FeedQuery {
  const known = (watch ? WATCH_PARAMETERS : CHANGES_PARAMETERS).filter(
    (name) => pathNamespace === undefined || name !== "namespace",
  );
  const q = strictQuery(request, known);
  const namespace = pathNamespace ?? (q.has("namespace") ? checkNamespace(q.get("namespace") as string) : null);
  const prefix = q.get("prefix") ?? "";
  if (prefix !== "" && keyProblem(prefix) !== undefined) throw fail("INVALID_REQUEST", `prefix: ${keyProblem(prefix)}`);
  const rawLimit = q.get("limit");
  const limit = rawLimit === undefined ? 100 : Number(rawLimit);
  if (!/^\d{1,6}$/.test(rawLimit ?? "1") || limit < 1 || limit > MAX_CHANGES_LIMIT) {
    throw fail("INVALID_REQUEST", `limit must be an integer from 1 to ${MAX_CHANGES_LIMIT}`);
  }
  const values = q.get("values") ?? "false";
  if (values !== "true" && values !== "false") throw fail("INVALID_REQUEST", "values must be true or false");
  // watch: Last-Event-ID (a reconnecting EventSource) wins over since; both absent: now
  const lastEventId = watch ? request.headers.get("last-event-id") : null;
  const raw = lastEventId !== null && lastEventId !== "" ? lastEventId : q.get("since");
  const since =
    raw === undefined || raw === ""
      ? watch
        ? "now"
        : undefined
      : raw === "now"
        ? "now"
        : decodePosition(install, raw);
  return { namespace, prefix, limit, values: values === "true", since };
}

const cursorExpired = () =>
  new AppError(
    "CURSOR_EXPIRED",
    "this cursor is older than the changes kept: read the records again (list) and start again from since=now",
  );

// Server-Sent Events, one frame each: id is the cursor after the event, so that a client
// resuming from Last-Event-ID gets every later change exactly once.
const frame = (item: FeedItem) =>
  `id: ${item.cursor}\nevent: ${item.change.type}\ndata: ${changeJson(item.change)}\n\n`;
const encoder = new TextEncoder();

export function changeRoutes({ db, config, admission, watchers }: ChangeRouteDeps) {
  const tags = ["changes"];

  // A stream not opened: the install's own limit is the install's to mind (429); a full or
  // draining process is no fault of the install's, and another instance (or this one a
  // little later) may have room (503, as any capacity refusal). See docs/decisions.md.
  const refusal = (why: WatchRefusal): AppError => {
    if (why === "install") {
      return errors.rateLimited(
        `this install has ${config.watch.maxPerInstall} watch streams open, the most it may`,
        5,
      );
    }
    if (why === "process") {
      return errors.unavailable(
        `this server has ${config.watch.maxStreams} watch streams open, the most it serves; retry (another instance may have room)`,
        5,
      );
    }
    return errors.unavailable("this server is shutting down; retry (another instance will serve the stream)");
  };

  const changes = async (request: Request, install: Scope, namespace: string | undefined) => {
    const query = feedQuery(request, install, namespace, false);
    const result = await readChanges(db, install, query);
    if (!result.ok) throw cursorExpired();
    return jsonText(200, changesPageJson(result.page), { vary: "authorization" });
  };

  const watch = async (
    request: Request,
    headers: Record<string, unknown>,
    server: TimedServer,
    install: Scope,
    namespace: string | undefined,
  ): Promise<Response> => {
    const query = feedQuery(request, install, namespace, true);
    // a full or draining process refuses before the head read, so refusals cost no statement
    const refused = watchers.refusal(install);
    if (refused !== undefined) throw refusal(refused);
    // where the stream starts: the cursor given, or the install's head (since=now)
    let at: { cursor: string; position: Position };
    if (query.since === "now" || query.since === undefined) {
      const head = await readChanges(db, install, { ...query, since: "now" });
      if (!head.ok) throw new Error("a head read cannot be expired");
      at = { cursor: head.page.cursor, position: decodePosition(install, head.page.cursor) };
    } else {
      at = { cursor: encodePosition(install, query.since), position: query.since };
    }

    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let stop = () => {};
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      stop();
      // the connection may stay open for more requests: idle again from here
      releaseIdleTimerAfterStream(request, server, config.idleTimeoutSeconds);
      try {
        controller.close();
      } catch {
        // already closed or cancelled by the client
      }
    };
    // full: the client has not read `buffer` frames; it is closed after those it holds
    const room = () => (controller.desiredSize ?? 0) > 0;
    const push = (text: string) => {
      if (ended) return false;
      if (!room()) return false;
      controller.enqueue(encoder.encode(text));
      return true;
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
          c.enqueue(encoder.encode(`retry: ${config.watch.retryMs}\n: watching from ${at.cursor}\n\n`));
        },
        cancel() {
          ended = true;
          clearInterval(heartbeat);
          stop();
        },
      },
      // one chunk per frame, so the buffer counts events; the retry frame takes one
      new CountQueuingStrategy({ highWaterMark: config.watch.buffer + 1 }),
    );
    const opened = watchers.open(install, query, query.values, at, {
      put: (item) => push(frame(item)),
      reset: () => {
        if (!ended) {
          controller.enqueue(
            encoder.encode(
              `event: reset\ndata: ${JSON.stringify({ code: "CURSOR_EXPIRED", message: cursorExpired().message })}\n\n`,
            ),
          );
        }
        end();
      },
      close: (why) => {
        if (!ended && why !== "slow") controller.enqueue(encoder.encode(`: closing (${why})\n\n`));
        end();
      },
    });
    if (!opened.ok) throw refusal(opened.why);
    stop = opened.stop;
    // a comment at least every heartbeat: proxies keep the stream, and a gone client is seen
    heartbeat = setInterval(() => {
      if (!push(": keep-alive\n\n")) end();
    }, config.watch.heartbeatMs);
    heartbeat.unref?.();
    request.signal.addEventListener("abort", end, { once: true });
    // the server's idle timeout would cut a quiet stream: the heartbeat keeps it alive instead
    holdIdleTimerForStream(request, server);

    const out = new Headers();
    for (const [name, value] of Object.entries(headers)) if (typeof value === "string") out.set(name, value);
    out.set("content-type", "text/event-stream; charset=utf-8");
    out.set("cache-control", "no-store");
    out.set("x-accel-buffering", "no");
    out.set("vary", "authorization");
    return new Response(stream, { status: 200, headers: out });
  };

  const sse = {
    200: { description: "text/event-stream: id (cursor), event (the change's type or reset), data (the change)" },
  };

  return new Elysia({ name: "changes" })
    .use(admissionMacro(admission))
    .get("/v1/changes", async ({ request, set, install }) => send(set, await changes(request, install, undefined)), {
      install: "storage:read",
      query: passedQuery(S.ChangesQuery),
      detail: {
        tags,
        summary: "The install's changes after a cursor, oldest first (since=now: the current cursor)",
        ...documented({ 200: S.ChangesPage }, [...INSTALL, "INVALID_NAMESPACE", "CURSOR_EXPIRED"]),
      },
    })
    .get(
      "/v1/namespaces/:ns/changes",
      async ({ request, set, install, namespace }) => send(set, await changes(request, install, namespace)),
      {
        namespace: "storage:read",
        query: passedQuery(S.ChangesQuery),
        detail: {
          tags,
          summary: "A namespace's changes after a cursor, oldest first",
          ...documented({ 200: S.ChangesPage }, [...NAMESPACE, "CURSOR_EXPIRED"]),
        },
      },
    )
    .get("/v1/watch", ({ request, set, server, install }) => watch(request, set.headers, server, install, undefined), {
      install: "storage:read",
      query: passedQuery(S.WatchQuery),
      detail: {
        tags,
        summary: "The install's changes as Server-Sent Events; resumes from Last-Event-ID",
        responses: { ...sse, ...documented({}, [...INSTALL, "INVALID_NAMESPACE"]).responses },
      },
    })
    .get(
      "/v1/namespaces/:ns/watch",
      ({ request, set, server, install, namespace }) => watch(request, set.headers, server, install, namespace),
      {
        namespace: "storage:read",
        query: passedQuery(S.WatchQuery),
        detail: {
          tags,
          summary: "A namespace's changes as Server-Sent Events; resumes from Last-Event-ID",
          responses: { ...sse, ...documented({}, NAMESPACE).responses },
        },
      },
    );
}
