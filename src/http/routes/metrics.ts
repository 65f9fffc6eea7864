// GET /metrics: Prometheus text. With METRICS_TOKEN set, it needs `Authorization: Bearer <it>`.
import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { Config } from "../../config.ts";
import { fail } from "../../errors.ts";
import type { Metrics } from "../../metrics.ts";
import { bearerToken } from "../auth.ts";

export function metricsRoutes(config: Config, metrics: Metrics) {
  const expected = config.metricsToken === undefined ? undefined : Buffer.from(config.metricsToken);
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async ({ request, set }) => {
      if (expected !== undefined) {
        const given = Buffer.from(bearerToken(request.headers.get("authorization")) ?? "");
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw fail("UNAUTHENTICATED", "/metrics needs the metrics bearer token");
        }
      }
      set.headers["content-type"] = metrics.registry.contentType;
      return metrics.text();
    },
    { detail: { tags: ["health"], summary: "Prometheus metrics" } },
  );
}
