// The service's sessions plan its statements per call (plan_cache_mode = auto) even where a
// DBA made generic plans the default: on Citus a generic plan of a per-install statement
// fails ("could not create distributed plan"), see docs/citus.md.
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import postgres from "postgres";
import { connect, SESSION_SETTINGS } from "../../src/db/client.ts";
import { freshDatabase } from "../helpers/databases.ts";

const db = await freshDatabase("session_settings");
afterAll(() => db.drop());

test("a database default of force_generic_plan does not reach the service's sessions", async () => {
  await db.sql.unsafe(`alter database ${db.name} set plan_cache_mode = force_generic_plan`);
  const plain = postgres(db.url, { max: 1, onnotice: () => {} });
  const service = postgres(db.url, { max: 1, onnotice: () => {}, connection: { ...SESSION_SETTINGS } });
  try {
    expect((await plain`show plan_cache_mode`)[0]?.plan_cache_mode).toBe("force_generic_plan");
    expect((await service`show plan_cache_mode`)[0]?.plan_cache_mode).toBe("auto");
  } finally {
    await plain.end();
    await service.end();
  }
  // and the service's client opens its sessions with those settings
  const client = connect(db.url, { poolMax: 1, prepare: true });
  try {
    await client.run("health.migrations", []).catch(() => []);
    const [row] = await db.sql`select count(*)::int as n from pg_stat_activity
      where datname = ${db.name} and application_name = ${SESSION_SETTINGS.application_name}`;
    expect(row?.n).toBe(1);
  } finally {
    await client.close();
  }
});
