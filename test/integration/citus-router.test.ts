// The per-install statements of atomic requests and PATCH (records.state, records.upsert,
// records.delete, the install's lock and accounting), of exactly-once writes
// (sql/idempotency/) and of the change feed (sql/changes/) each run on the install's shard
// only: EXPLAIN on the coordinator shows every step of their plans as one task. Most are one
// router query; the writes that record a change put an INSERT in a CTE, which Citus plans as
// a step of its own (still one task on the same shard). Runs only when CITUS_URL names a
// coordinator (the whole run then uses it), and says so when it is skipped.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { loadQueries, type QueryName } from "../../src/db/sql.ts";
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

/** A new install with one record written through the service (so its rows exist): its ids. */
async function writtenInstall(name: string) {
  const install = newInstall(name);
  const c = client(server?.url as string, await tokenFor(install));
  expect((await c.put("n", "k", { value: 1 })).status).toBe(201);
  return { i: install.installId, t: install.tenantId, e: install.extensionId };
}

describe("per-install statements on Citus", () => {
  citusTest("each step of every statement runs on one shard", async () => {
    const { i, t, e } = await writtenInstall("citus-router");
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

// A parameter can take the install away from Citus: a join condition gated on a flag
// (`on $9 and r.install_id = $1 …`) is planned away when the flag is false, and the table
// is then read on every shard (changes.list without values read all the cluster's records).
// So every per-install statement (its $1 the install, its $2 the tenant) is planned with each
// of its flags both ways and each optional parameter absent and given; every step must be
// one task. A new per-install statement must be added here (the last assertion).
const variants = (i: string, t: string, e: string): Record<string, unknown[][]> => {
  const at = new Date(Date.now() + 60_000).toISOString();
  return {
    "changes.list": [true, false].flatMap((values) =>
      [null, "n"].flatMap((ns) => ["", "k"].map((prefix) => [i, t, 0, "", "", ns, prefix, 100, values])),
    ),
    "idempotency.get": [[i, t, "key-1"]],
    "idempotency.put": [
      [i, t, "key-1", "ab", 200, "{}", null, 60],
      [i, t, "key-1", "ab", 200, "{}", "{}", 60],
    ],
    "installs.account": [[i, t, 10, 1, 5]],
    "installs.bump_schema_version": [[i, t, 2]],
    "installs.export_head": [[i, t]],
    "installs.import_check": [[i, t]],
    "installs.lock_existing": [[i, t]],
    "installs.lock": [[i, t, e]],
    "installs.purge": [[i, t]],
    "installs.set_limits": [
      [i, t, 100, null, true, false],
      [i, t, null, 10, false, true],
      [i, t, null, null, true, true],
      [i, t, null, null, false, false],
    ],
    "installs.sweep_expired": [[i, t]],
    "installs.usage": [[i, t]],
    "namespaces.delete": [[i, t, "n"]],
    "namespaces.list": [[i, t]],
    "ratelimit.give_back": [[i, t, 10, 20, 1]],
    "ratelimit.lease": [[i, t, 10, 20, 1]],
    "records.bulk_get": [[i, t, "n", ["k"], 1000]],
    "records.canonical_batch": [
      [i, t, "", "", 100],
      [i, t, "n", "k", 100],
    ],
    "records.canonical_fill": [[i, t, ["n"], ["k"], [1], ["1"]]],
    "records.delete": [
      [i, t, ["n"], ["k"], [99], [false], 0],
      [i, t, ["n"], ["k"], [99], [true], 0],
    ],
    "records.export": [
      [i, t, "", "", 100, 1000],
      [i, t, "n", "k", 100, 1000],
    ],
    "records.get_cleaning": [[i, t, "n", ["k"], 1000]],
    "records.get": [[i, t, "n", "k"]],
    "records.import": [
      [i, t, 5, ["n"], ["k"], ["1"], [1], [at]],
      [i, t, 5, ["n"], ["k"], ["1"], [1], [null]],
    ],
    ...Object.fromEntries(
      (["records.list", "records.list_cleaning"] as const).map((name) => [
        name,
        [true, false].flatMap((values) => [
          [i, t, "n", "", "", "", 100, values, 1000],
          [i, t, "n", "k1", "k", "l", 100, values, 1000],
        ]),
      ]),
    ),
    "records.state_values": [[i, t, ["n"], ["k"]]],
    "records.state": [[i, t, ["n"], ["k"]]],
    "records.upsert": [
      [i, t, e, ["n"], ["k"], ["1"], [99], [1], [null], [null]],
      [i, t, e, ["n"], ["k"], ["1"], [99], [1], [60], [at]],
    ],
    "schemas.delete": [[i, t, "n"]],
    "schemas.export": [[i, t]],
    "schemas.get": [[i, t, "n"]],
    "schemas.put": [
      [i, t, e, "n", "{}", 1, null, null],
      [i, t, e, "n", "{}", 1, 60, 1000],
    ],
  };
};

describe("per-install statements on Citus, every flag and optional parameter", () => {
  citusTest("each step of every variant runs on one shard", async () => {
    const { i, t, e } = await writtenInstall("citus-variants");
    const all = variants(i, t, e);
    const spread: string[] = [];
    for (const [name, list] of Object.entries(all)) {
      for (const params of list) {
        const steps = await plan(name as QueryName, params);
        if (steps.length === 0 || steps.some((n) => n !== 1)) {
          spread.push(`${name} ${JSON.stringify(params.slice(2))}: tasks ${JSON.stringify(steps)}`);
        }
      }
    }
    expect(spread).toEqual([]);
    // every statement whose first two parameters are the install and its tenant is listed
    const perInstall = Object.entries(loadQueries())
      .filter(([, text]) => /^-- \$1 install_id, \$2 tenant_id\b/m.test(text))
      .map(([name]) => name)
      .sort();
    expect(Object.keys(all).sort()).toEqual(perInstall);
  });
});
