// buildApp(deps): the whole HTTP service as an Elysia app, with no listen. main.ts (Bun),
// deno.ts (Deno) and the tests all serve this same app.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { createAuthenticator } from "./http/auth.ts";
import { renderError } from "./http/errors.ts";
import { beginRequest } from "./http/request-context.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { healthRoutes } from "./http/routes/health.ts";
import { settingsRoutes } from "./http/routes/namespace-settings.ts";
import { recordRoutes } from "./http/routes/records.ts";
import type { Logger } from "./log.ts";

export type AppDeps = { config: Config; db: Database; log: Logger; jwtSecret: string };

export function buildApp({ config, db, log, jwtSecret }: AppDeps) {
  const authenticate = createAuthenticator({
    secret: jwtSecret,
    audience: config.jwt.audience,
    issuer: config.jwt.issuer,
  });
  return new Elysia({ name: "ext-storage", normalize: false })
    .onRequest(({ request, set }) => {
      set.headers["x-request-id"] = beginRequest(request).id;
    })
    .onError(renderError(log))
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
    .use(recordRoutes({ db, config, authenticate }))
    .use(settingsRoutes({ db, config, authenticate }))
    .use(adminRoutes({ db, config, authenticate }));
}

export type App = ReturnType<typeof buildApp>;
