// db:canonicalise gives rows that lack it (written before value_json existed, or since by the
// previous release) the canonical text of their value, in bounded batches, on a database of
// its own.
import "../helpers/test-database.ts";
import { afterEach, expect, test } from "bun:test";
import { type FreshDatabase, freshDatabase, json, runScript } from "../helpers/databases.ts";

const TINY = `[${Array(9362).fill("5e-324").join(",")}]`;

let db: FreshDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

/** Rows as the previous release writes them: jsonb only. */
async function writeAsBefore(d: FreshDatabase, install: string, rows: number) {
  await d.sql`insert into ext_storage_usage (install_id, tenant_id, extension_id) values (${install}, ${`t-${install}`}, 'e')`;
  await d.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
    select ${`t-${install}`}, 'e', ${install}, 'ns' || (g % 3), 'k' || g,
           jsonb_build_object('n', g, 'big', 1e300, 'tiny', 5e-324), g, 1
    from generate_series(1, ${rows}) g`;
}

const pending = async (d: FreshDatabase) =>
  Number(
    (
      await d.sql`select count(*)::int as n from ext_storage_records where value_json_revision is distinct from revision`
    )[0]?.n,
  );

test("db:canonicalise fills every row that lacks its canonical text, batch by batch, and stops at its bounds", async () => {
  db = await freshDatabase("values_backfill");
  expect((await runScript("db:migrate", [], db.url)).code).toBe(0);
  await writeAsBefore(db, "a", 250);
  await writeAsBefore(db, "b", 30);
  await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
    values ('t-b', 'e', 'b', 'old', 'tiny', ${TINY}::text::jsonb, 1, ${TINY.length + 4})`;
  // written by this release, then replaced by the previous one: its text is of an older revision
  await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, value_json, value_json_revision, revision, size_bytes)
    values ('t-b', 'e', 'b', 'old', 'replaced', '{"now":1}', '{"then":0}', 7, 8, 17)`;
  // written by this release: left alone
  await db.sql`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, value_json, value_json_revision, revision, size_bytes)
    values ('t-b', 'e', 'b', 'old', 'current', '{"a": 1, "b": 2}', '{"b":2,"a":1}', 9, 9, 20)`;
  expect(await pending(db)).toBe(282);

  // a bound stops it early, and says so
  const bounded = await runScript("db:canonicalise", ["--batch", "100", "--max-batches", "2"], db.url);
  expect(bounded.code).toBe(1);
  expect(json(bounded)).toMatchObject({ complete: false, batches: 2, rows: 200 });
  expect(await pending(db)).toBe(82);

  const rest = await runScript("db:canonicalise", ["--batch", "100", "--installs", "1"], db.url);
  expect(rest.code).toBe(0);
  expect(json(rest)).toMatchObject({ complete: true, installs: 2, rows: 82 });
  expect(await pending(db)).toBe(0);

  const rows = await db.sql`select key, value::text as jsonb_text, value_json::text as text from ext_storage_records`;
  for (const r of rows) {
    if (r.key === "current") expect(r.text).toBe('{"b":2,"a":1}');
    else expect(r.text).toBe(JSON.stringify(JSON.parse(r.jsonb_text)));
  }
  const byKey = new Map(rows.map((r) => [r.key, r.text]));
  expect(byKey.get("tiny")).toBe(TINY);
  expect(byKey.get("replaced")).toBe('{"now":1}');
  expect(byKey.get("k1")).toBe('{"n":1,"big":1e+300,"tiny":5e-324}');

  // nothing left: a further run visits nothing
  const again = await runScript("db:canonicalise", [], db.url);
  expect(again.code).toBe(0);
  expect(json(again)).toMatchObject({ complete: true, installs: 0, rows: 0 });
});
