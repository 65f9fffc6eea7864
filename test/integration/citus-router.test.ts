// The per-install statements of atomic requests and PATCH (records.state, records.upsert,
// records.delete, the install's lock and accounting), of exactly-once writes
// (sql/idempotency/) and of the change feed (sql/changes/) each run on the install's shard
// only: EXPLAIN on the coordinator shows every step of their plans as one task. Most are one
// router query; the writes that record a change put an INSERT in a CTE, which Citus plans as
// a step of its own (still one task on the same shard). Runs only when CITUS_URL names a
// coordinator (the whole run then uses it), and says so when it is skipped.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect } from "bun:test";
import type { QueryName } from "../../src/db/sql.ts";
import { CITUS_URL, citusTest, noteCitusSkipped, planTasks } from "../helpers/citus.ts";
import { sql } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";

noteCitusSkipped("citus-router.test.ts");

let server: TestServer | undefined;
beforeAll(async () => {
  if (CITUS_URL !== undefined) server = await startServer();
});
afterAll(() => server?.close());

const plan = (name: QueryName, params: unknown[]) => planTasks(sql, name, params);

describe("per-install statements on Citus", () => {
  citusTest("each step of every statement runs on one shard", async () => {
    const install = newInstall("citus-router");
    const c = client(server?.url as string, await tokenFor(install));
    expect((await c.put("n", "k", { value: 1 })).status).toBe(201);
    const { installId: i, tenantId: t, extensionId: e } = install;
    const shapes: Record<string, number[]> = {
      "installs.lock": await plan("installs.lock", [i, t, e]),
      "installs.account": await plan("installs.account", [i, t, 10, 1, 5]),
      "records.state": await plan("records.state", [i, t, ["n"], ["k"]]),
      "records.state_values": await plan("records.state_values", [i, t, ["n"], ["k"]]),
      "records.get": await plan("records.get", [i, t, "n", "k"]),
      "records.upsert": await plan("records.upsert", [i, t, e, ["n"], ["k"], ["1"], [99], [1], [null], [null]]),
      "records.delete": await plan("records.delete", [i, t, ["n"], ["k"], [99], [false], 0]),
      "namespaces.delete": await plan("namespaces.delete", [i, t, "n"]),
      "idempotency.get": await plan("idempotency.get", [i, t, "key-1"]),
      "idempotency.put": await plan("idempotency.put", [i, t, "key-1", "ab", 200, "{}", null, 60]),
      "changes.list": await plan("changes.list", [i, t, 0, "", "", null, "", 100, true]),
      "changes.heads": await plan("changes.heads", [[i], [t]]),
    };
    // one router query each, but the writes that record changes: their INSERT CTEs are steps
    // of their own (records.upsert: the change rows, the records, the SELECT of what was
    // written; records.delete: the DELETE, the change rows with its check, the SELECT of what
    // was deleted; namespaces.delete: the DELETE,
    // its count, the change row, the SELECT of the count), each one task on the same shard
    expect(shapes).toEqual({
      "installs.lock": [1],
      "installs.account": [1],
      "records.state": [1],
      "records.state_values": [1],
      "records.get": [1],
      "records.upsert": [1, 1, 1],
      "records.delete": [1, 1, 1],
      "namespaces.delete": [1, 1, 1, 1],
      "idempotency.get": [1],
      "idempotency.put": [1],
      "changes.list": [1],
      "changes.heads": [1],
    });
  });
});
