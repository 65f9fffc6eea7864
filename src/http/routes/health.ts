// Liveness and readiness. Readiness means the database answers and has applied every
// migration this build ships.
import { Elysia } from "elysia";
import type { Database } from "../../db/client.ts";
import { migrationVersions } from "../../db/migrate.ts";
import { fail } from "../../errors.ts";

// The contract has /readyz answer within 2 s whatever the database does. A database that
// does not answer (a name lookup that times out after 5 s, a host that accepts and stays
// silent) is reported not ready after this long; a healthy check takes about a millisecond.
const READY_LIMIT_MS = 1_500;

export function healthRoutes(db: Database) {
  const expected = migrationVersions();

  // Single flight: probes that arrive while a check is under way share it, so a database
  // that hangs holds at most one readiness statement of this instance, not one per probe.
  // The statement itself is bounded by the request-path limit (db/client.ts).
  let checking: Promise<Set<string>> | undefined;
  const applied = () => {
    checking ??= db
      .run<{ version: string }>("health.migrations", [])
      .then((rows) => new Set(rows.map((r) => r.version)))
      .finally(() => {
        checking = undefined;
      });
    return checking;
  };
  const withinReadyLimit = <T>(work: Promise<T>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), READY_LIMIT_MS);
    });
    return Promise.race([work, limit]).finally(() => clearTimeout(timer));
  };

  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }), { detail: { tags: ["health"], summary: "Liveness" } })
    .get(
      "/readyz",
      async () => {
        let versions: Set<string> | "late";
        try {
          versions = await withinReadyLimit(applied());
        } catch {
          throw fail("UNAVAILABLE", "the database is unreachable or not migrated");
        }
        if (versions === "late") throw fail("UNAVAILABLE", `the database did not answer within ${READY_LIMIT_MS} ms`);
        const pending = expected.filter((v) => !versions.has(v));
        if (pending.length > 0) throw fail("UNAVAILABLE", "migrations are pending", { pending });
        return { status: "ready" };
      },
      { detail: { tags: ["health"], summary: "Database reachable and migrations current" } },
    );
}
