// buildApp(deps): the whole HTTP service as an Elysia app, with no listen. main.ts (Bun),
// deno.ts (Deno) and the tests all serve this same app.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { createAuthenticator } from "./http/auth.ts";
import { renderError } from "./http/errors.ts";
import { createRateLimiter } from "./http/rate-limit.ts";
import { beginRequest, requestFacts } from "./http/request-context.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { healthRoutes } from "./http/routes/health.ts";
import { metricsRoutes } from "./http/routes/metrics.ts";
import { settingsRoutes } from "./http/routes/namespace-settings.ts";
import { recordRoutes } from "./http/routes/records.ts";
import { installHash, type Logger } from "./log.ts";
import { createMetrics, type Metrics } from "./metrics.ts";

/** Routes logged at debug, not info. */
const PROBES: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

export type AppDeps = { config: Config; db: Database; log: Logger; jwtSecret: string; metrics?: Metrics };

export function buildApp({ config, db, log, jwtSecret, metrics = createMetrics() }: AppDeps) {
  const authenticate = createAuthenticator({
    secret: jwtSecret,
    audience: config.jwt.audience,
    issuer: config.jwt.issuer,
  });
  metrics.watchDatabase(db);
  const admission = { authenticate, rateLimit: createRateLimiter(config.limits.rateLimit) };
  const deps = { db, config, admission, metrics };
  return new Elysia({ name: "ext-storage", normalize: false })
    .onRequest(({ request, set }) => {
      set.headers["x-request-id"] = beginRequest(request).id;
    })
    .onTransform({ as: "global" }, ({ request, route }) => {
      requestFacts(request).route = route;
    })
    .onAfterResponse({ as: "global" }, ({ request, set }) => {
      // one log line and one latency sample per request: never keys, values or tokens
      const facts = requestFacts(request);
      const status = facts.status ?? (typeof set.status === "number" ? set.status : 200);
      const seconds = (performance.now() - facts.start) / 1000;
      const route = facts.route ?? "unmatched";
      metrics.observeRequest(route, request.method, status, seconds);
      // probes (an orchestrator's, the image's HEALTHCHECK) come every few seconds: at info
      // they would drown the requests; at debug they are there when wanted
      (PROBES.has(route) ? log.debug : log.info)("request", {
        requestId: facts.id,
        method: request.method,
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        ...(facts.principal?.installId ? { install: installHash(facts.principal.installId) } : {}),
      });
    })
    .onError(renderError(log, metrics))
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
    .use(settingsRoutes(deps))
    .use(adminRoutes(deps));
}

export type App = ReturnType<typeof buildApp>;

/** The server's own limits, set above the contract's so that the app, not Bun's bare
 * responses, answers oversize bodies; an idle or stalled connection is closed. */
export const serveOptions = (config: Config) => ({
  maxRequestBodySize: config.limits.maxBodyBytes * 2,
  idleTimeout: config.idleTimeoutSeconds,
});
