// buildApp(deps): the whole HTTP service as an Elysia app, with no listen. main.ts (Bun),
// deno.ts (Deno) and the tests all serve this same app.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { createAuthenticator } from "./http/auth.ts";
import { createCors } from "./http/cors.ts";
import { renderError } from "./http/errors.ts";
import { holdIdleTimer, resumeIdleTimer } from "./http/idle-timer.ts";
import { createSharedRateLimiter } from "./http/rate-lease.ts";
import { createRateLimiter } from "./http/rate-limit.ts";
import { bodyLength } from "./http/reply.ts";
import { beginRequest, requestFacts } from "./http/request-context.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { changeRoutes } from "./http/routes/changes.ts";
import { healthRoutes } from "./http/routes/health.ts";
import { metricsRoutes } from "./http/routes/metrics.ts";
import { settingsRoutes } from "./http/routes/namespace-settings.ts";
import { recordRoutes } from "./http/routes/records.ts";
import { admitPath, checkHost, isRoutePath } from "./http/target.ts";
import { createWorkBudget } from "./http/work-budget.ts";
import { idHash, type Logger } from "./log.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { announceChange } from "./records/changes.ts";
import { type CleanupObserver, sweepSampler } from "./records/ttl.ts";
import { createWatchers, type Watchers } from "./records/watch.ts";

/** Routes logged at debug, not info. */
const PROBES: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

export type AppDeps = {
  config: Config;
  db: Database;
  log: Logger;
  jwtSecret: string;
  metrics?: Metrics;
  /** the open watch streams of this process (boot drains them on SIGTERM); made here when absent */
  watchers?: Watchers;
};

export function buildApp({
  config,
  db,
  log,
  jwtSecret,
  metrics = createMetrics(),
  watchers = createWatchers(db, config.watch, log, metrics.countStreamEnd),
}: AppDeps) {
  metrics.watchStreams(() => watchers.count());
  const authenticate = createAuthenticator({
    secret: jwtSecret,
    audience: config.jwt.audience,
    issuer: config.jwt.issuer,
  });
  metrics.watchDatabase(db);
  const admission = {
    authenticate,
    // the embedded database serves one process: its bucket in memory is the whole limit;
    // with DATABASE_URL, processes and instances share one bucket per install in the database
    rateLimit:
      config.databaseUrl === undefined
        ? createRateLimiter(config.limits.rateLimit)
        : createSharedRateLimiter({
            perSecond: config.limits.rateLimit,
            lease: config.limits.rateLimitLease,
            db,
            log,
          }),
    // a maximal request always fits in the burst; see work-budget.ts
    work: createWorkBudget(config.limits.workLimitBytes, 2 * config.limits.maxBodyBytes),
    maxBodyBytes: config.limits.maxBodyBytes,
  };
  // which lists also sweep their whole install: every TTL_LIST_SWEEP_EVERYth of this app
  // a read's cleanup of expired rows is a change too: it committed on its own, so its
  // watchers are woken after it (writes wake them from inside their transaction)
  const observeCleanup: CleanupObserver = (trigger, who, deleted) => {
    metrics.countCleanup(trigger, who, deleted);
    if (deleted > 0 && "installId" in who) announceChange(db, (who as { installId: string }).installId);
  };
  const deps = {
    db,
    config,
    admission,
    metrics,
    observeCleanup,
    watchers,
    sampleSweep: sweepSampler(config.ttl.listSweepEvery),
  };
  const cors = createCors(config.corsOrigins);
  const errorAnswer = renderError(log, metrics);
  // one log line and one latency sample per request: never keys, values or tokens
  const observe = (request: Request, setStatus: unknown) => {
    const facts = requestFacts(request);
    const status = facts.status ?? (typeof setStatus === "number" ? setStatus : 200);
    const seconds = (performance.now() - facts.start) / 1000;
    const route = facts.route ?? "unmatched";
    const who = facts.principal;
    metrics.observeRequest(route, request.method, status, seconds);
    // probes (an orchestrator's, the image's HEALTHCHECK) come every few seconds: at info
    // they would drown the requests; at debug they are there when wanted
    (PROBES.has(route) ? log.debug : log.info)("request", {
      requestId: facts.id,
      method: request.method,
      route,
      status,
      ms: Math.round(seconds * 10_000) / 10,
      // both: an install_id named under another tenant is another install
      ...(who?.installId && who.tenantId ? { tenant: idHash(who.tenantId), install: idHash(who.installId) } : {}),
    });
  };
  // the route patterns, for requests answered before routing (CORS preflights); read from the
  // app on the first such request, once every route is registered
  let patterns: string[] | undefined;
  const isRoute = (url: string) => {
    patterns ??= app.routes.map((r) => r.path);
    return isRoutePath(patterns, url);
  };
  const app = new Elysia({ name: "ext-storage", normalize: false })
    .onRequest(({ request, set, server }) => {
      const facts = beginRequest(request);
      set.headers["x-request-id"] = facts.id;
      const preflight = cors.preflight(request, facts.id, isRoute);
      if (preflight !== undefined) {
        // answered before routing, so no later hook sees it: observed here
        facts.route = "preflight";
        facts.status = preflight.status;
        observe(request, preflight.status);
        return preflight;
      }
      cors.decorate(request, set.headers);
      checkHost(request);
      // a request without a body is whole as it arrives: the service's turn
      if (request.body === null) holdIdleTimer(request, server);
    })
    .onTransform({ as: "global" }, ({ request, route, server }) => {
      // every route, gated or not (a route with a body did it already, before reading it)
      admitPath({ request, route, server });
    })
    .onAfterHandle({ as: "global" }, ({ request, response, server }) => {
      resumeIdleTimer(request, server, config.idleTimeoutSeconds);
      // an answer's bytes are its install's work (read routes answer JSON text, whole or streamed)
      const principal = requestFacts(request).principal;
      if (principal !== undefined) admission.work.charge(principal, bodyLength(response));
    })
    .onAfterResponse({ as: "global" }, ({ request, set }) => observe(request, set.status))
    // destructured, so that Elysia's inference sees what the hook uses (a whole context would
    // have it prepare every part of it for every request)
    .onError(({ code, error, request, server }) => {
      resumeIdleTimer(request, server, config.idleTimeoutSeconds);
      return errorAnswer({ code, error, request });
    })
    .use(
      openapi({
        path: "/openapi",
        specPath: "/openapi.json",
        provider: null,
        documentation: {
          info: {
            title: "ext-storage",
            version: "1",
            description: "JSON records with revisions, TTLs and quotas for third-party extensions",
          },
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
          security: [{ bearer: [] }],
        },
      }),
    )
    .use(healthRoutes(db))
    .use(metricsRoutes(config, metrics))
    .use(recordRoutes(deps))
    .use(changeRoutes(deps))
    .use(settingsRoutes(deps))
    .use(adminRoutes(deps));
  return app;
}

/** The server's own limits. Bun's body limit is out of reach, so that the app, not Bun's bare
 * 413, answers every oversize body (from Content-Length, or once the streamed bytes pass the
 * limit; never buffering more) and closes the connection; an idle or stalled connection is
 * closed. */
export const serveOptions = (config: Config) => ({
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  idleTimeout: config.idleTimeoutSeconds,
});
