// A write answered 503 did not commit and never will; a write whose COMMIT was sent before
// the bound fired is answered by what the database did. Driven through the real write
// pipeline (putRecord) on a real database, with the transaction bound lowered to 300 ms
// and the delays made by PostgreSQL itself: a row lock held by another session, and a
// deferred constraint trigger that makes COMMIT slow.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Database } from "../../src/db/client.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { putRecord } from "../../src/records/records.ts";
import { type FreshDatabase, freshDatabase } from "../helpers/databases.ts";
import { newInstall } from "../helpers/server.ts";

const LIMIT_MS = 300;
const defaults = { quotaBytes: 1 << 20, quotaRecords: 1000, maxValueBytes: 65_536, maxSchemaBytes: 65_536 };

let fresh: FreshDatabase;
let db: Database;
beforeAll(async () => {
  fresh = await freshDatabase("txn_outcome");
  const migrated = await dbmate(fresh.url, ["up"]);
  if (migrated.code !== 0) throw new Error(migrated.output);
  // COMMIT of a record whose value is {"slowCommit": ms} waits that long (at commit time)
  await fresh.sql.unsafe(`
    create function slow_commit() returns trigger language plpgsql as $$
    begin
      if new.value ? 'slowCommit' then perform pg_sleep((new.value->>'slowCommit')::float / 1000); end if;
      return null;
    end $$;
    create constraint trigger slow_commit after insert or update on ext_storage_records
      deferrable initially deferred for each row execute function slow_commit();`);
  db = connect(fresh.url, { poolMax: 4, prepare: true, transactionLimitMs: LIMIT_MS });
});
afterAll(async () => {
  await db?.close(1);
  await fresh?.drop();
});

const stored = async (installId: string, key: string) =>
  (await fresh.sql`select value from ext_storage_records where install_id = ${installId} and key = ${key}`)[0]?.value;

const put = (install: ReturnType<typeof newInstall>, key: string, value: unknown) =>
  putRecord(db, defaults, install, "outcome", key, { value }, {}).then(
    (r) => ({ ok: true as const, revision: r.record.revision }),
    (e: { code?: string; status?: number }) => ({ ok: false as const, code: e.code }),
  );

test("past the bound before COMMIT: 503, and the write never commits, even once it could", async () => {
  const install = newInstall("outcome-blocked");
  expect((await put(install, "first", 1)).ok).toBe(true);
  // another session holds the install's lock row, so the write waits inside its transaction
  let release = () => {};
  const held = fresh.sql.begin(async (tx) => {
    await tx`select 1 from ext_storage_usage where install_id = ${install.installId} for update`;
    await new Promise<void>((resolve) => (release = resolve));
  });
  await Bun.sleep(50);
  const answer = await put(install, "blocked", 2);
  expect(answer).toEqual({ ok: false, code: "TRANSACTION_TIMEOUT" });
  release();
  await held;
  await Bun.sleep(LIMIT_MS * 2); // time enough for a transaction left running to commit
  expect(await stored(install.installId, "blocked")).toBeUndefined();
});

test("COMMIT sent, answered after the bound: the write committed and is answered as such", async () => {
  const install = newInstall("outcome-slow-commit");
  const answer = await put(install, "slow", { slowCommit: 600 });
  const value = await stored(install.installId, "slow");
  expect({ answer: answer.ok, value }).toEqual({ answer: true, value: { slowCommit: 600 } });
});

test("COMMIT that does not finish: its backend is ended, 503, and nothing committed", async () => {
  const install = newInstall("outcome-stuck-commit");
  const started = Date.now();
  const answer = await put(install, "stuck", { slowCommit: 2500 });
  expect(answer).toEqual({ ok: false, code: "TRANSACTION_TIMEOUT" });
  await Bun.sleep(Math.max(0, started + 3000 - Date.now())); // past the time it would have committed
  expect(await stored(install.installId, "stuck")).toBeUndefined();
});
