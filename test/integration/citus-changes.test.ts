// The change feed on Citus: the statements that record changes and the one that reads them
// each run on the install's shard alone, and the feed is exactly what was written, watch
// included (on Citus a stream may be woken by the poll rather than a notification). Runs
// only when CITUS_URL names a coordinator (the whole run then uses it), and says so when it
// is skipped.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect } from "bun:test";
import type { QueryName } from "../../src/db/sql.ts";
import { CITUS_URL, citusTest, noteCitusSkipped, planTasks } from "../helpers/citus.ts";
import { sql } from "../helpers/db.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";
import { openSse } from "../helpers/sse.ts";

noteCitusSkipped("citus-changes.test.ts");

let server: TestServer | undefined;
beforeAll(async () => {
  if (CITUS_URL !== undefined) server = await startServer({ STORAGE_WATCH_POLL_MS: "100" });
});
afterAll(() => server?.close());

// every step of the plan is one task (an INSERT in a CTE is a step of its own on Citus)
const tasks = async (name: QueryName, params: unknown[]) => {
  const steps = await planTasks(sql, name, params);
  return steps.length > 0 && steps.every((n) => n === 1) ? 1 : steps.reduce((sum, n) => sum + n, 0);
};

describe("the change feed on Citus", () => {
  citusTest("every statement that records or reads changes runs on the install's shard alone", async () => {
    const install = newInstall("citus-feed");
    const c = client(server?.url as string, await tokenFor(install));
    await c.put("n", "k", { value: 1 });
    const { installId: i, tenantId: t } = install;
    expect(await tasks("records.upsert", [i, t, "e", ["n"], ["k"], ["1"], [99], [1], [null], [null]])).toBe(1);
    expect(await tasks("records.delete", [i, t, ["n"], ["k"], [99], [false], 0])).toBe(1);
    expect(await tasks("namespaces.delete", [i, t, "n"])).toBe(1);
    expect(await tasks("records.get", [i, t, "n", "k"])).toBe(1);
    expect(await tasks("changes.list", [i, t, 0, "", "", null, "", 100, true])).toBe(1);
  });

  citusTest("the feed and a watch see every change once, in order", async () => {
    const install = newInstall("citus-feed");
    const token = await tokenFor(install);
    const c = client(server?.url as string, token);
    const stream = await openSse(`${server?.url}/v1/watch`, token);
    await c.put("n", "a", { value: 1 });
    await c.put("n", "b", { value: 1, ttlSeconds: 1 });
    await c.del("n", "a");
    await Bun.sleep(1100);
    await c.get("n", "b"); // cleans b up
    await c.put("m", "x", { value: 1 });
    await c.call("DELETE", "/v1/namespaces/m");
    const page = await c.call("GET", "/v1/changes");
    const brief = (x: { type: string; key?: string; reason?: string }) => [x.type, x.key ?? null, x.reason ?? null];
    expect(page.body.items.map(brief)).toEqual([
      ["put", "a", null],
      ["put", "b", null],
      ["delete", "a", null],
      ["delete", "b", "expired"],
      ["put", "x", null],
      ["namespace_deleted", null, null],
    ]);
    const events = await stream.waitFor(6, 5000);
    expect(events.map((e) => brief(JSON.parse(e.data ?? "{}")))).toEqual(page.body.items.map(brief));
    stream.close();
  });
});
