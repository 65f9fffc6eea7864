// The database's schema rolled back under a running service (a DBA undoing a release's
// migrations before the service): the statements that name what is gone answer 503
// UNAVAILABLE with Retry-After, never 500, /readyz says migrations are pending, and the
// service serves again once the schema is current.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dbmate } from "../../src/db/migrate.ts";
import { type FreshDatabase, freshDatabase } from "../helpers/databases.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService, until } from "../helpers/service.ts";

let db: FreshDatabase;
let service: Service;
beforeAll(async () => {
  db = await freshDatabase("schema_behind");
  const migrated = await dbmate(db.url, ["up"]);
  if (migrated.code !== 0) throw new Error(migrated.output);
  service = await startService(db.url);
}, 60_000);
afterAll(async () => {
  await service?.kill();
  await db?.drop();
});

test("records read and written against a rolled-back schema: 503, then served again after migrating", async () => {
  const auth = { authorization: `Bearer ${await tokenFor(newInstall("behind"))}` };
  const path = `${service.url}/v1/namespaces/ns/records/k`;
  const put = () =>
    fetch(path, { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: '{"value":1}' });
  expect((await put()).status).toBe(201);

  // undo every migration since the first two (the canonical value text is among them)
  const applied = await db.sql<{ version: string }[]>`select version from schema_migrations order by version`;
  for (const _ of applied.slice(2)) {
    const rolled = await dbmate(db.url, ["rollback"]);
    expect(rolled.code).toBe(0);
  }
  for (const res of [await fetch(path, { headers: auth }), await put()]) {
    const body = await res.json();
    expect([res.status, res.headers.get("retry-after"), body.error.code]).toEqual([503, "1", "UNAVAILABLE"]);
    expect(body.error.message).toContain("migrations pending");
  }
  const ready = await fetch(`${service.url}/readyz`);
  expect(ready.status).toBe(503);

  expect((await dbmate(db.url, ["up"])).code).toBe(0);
  await until("the service serving again", async () => (await fetch(path, { headers: auth })).status === 200, 5000);
}, 60_000);
