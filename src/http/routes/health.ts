// Liveness and readiness. Readiness means the database answers and has applied every
// migration this build ships.
import { Elysia } from "elysia";
import type { Database } from "../../db/client.ts";
import { migrationVersions } from "../../db/migrate.ts";
import { fail } from "../../errors.ts";

export function healthRoutes(db: Database) {
  const expected = migrationVersions();
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }), { detail: { tags: ["health"], summary: "Liveness" } })
    .get(
      "/readyz",
      async () => {
        let applied: Set<string>;
        try {
          applied = new Set((await db.run<{ version: string }>("health.migrations", [])).map((r) => r.version));
        } catch {
          throw fail("UNAVAILABLE", "the database is unreachable or not migrated");
        }
        const pending = expected.filter((v) => !applied.has(v));
        if (pending.length > 0) throw fail("UNAVAILABLE", "migrations are pending", { pending });
        return { status: "ready" };
      },
      { detail: { tags: ["health"], summary: "Database reachable and migrations current" } },
    );
}
