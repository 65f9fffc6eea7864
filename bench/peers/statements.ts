// The database's side of bench:peers: each read and write statement of sql/records/, as the
// service sends it (fragments included), against the plain SQL that does the same reading or
// writing with nothing else (no cleanup, no byte cut, no usage), under pgbench -M prepared.
// Database CPU per call is the CPU time of the PostgreSQL backends that served the run (the
// postmaster's reaped children, read from /proc, so the database must run on this machine):
// pgbench's own CPU and the machine's other processes do not count.
// Runs are interleaved (every pair once per round) and each figure is the median of the rounds.
import { readFileSync } from "node:fs";
import type postgres from "postgres";
import { SQL_DIR, statementText } from "../../src/db/sql.ts";

export const PGBENCH = process.env.PGBENCH ?? "/usr/lib/postgresql/15/bin/pgbench";

export const SEED = { installs: 50, keys: 200, tenant: "peers-tenant", namespace: "bench" };
export const installId = (i: number) => `peers-install-${i}`;
export const keyOf = (k: number) => `k${String(k).padStart(3, "0")}`;
/** ~256 bytes of JSON, the same for every row */
export const VALUE = JSON.stringify({ theme: "dark", note: "x".repeat(200), n: 42, tags: ["a", "b"] });

/** The median of the rounds' figures: the middle one, or the mean of the two middle ones. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

type Sql = Pick<postgres.Sql, "unsafe" | "begin">;

/** Removes the seeded installs' rows (the peers' PUTs write records without usage, so they
 * must not stay behind for db:reconcile to find), change-feed rows included: a later run
 * seeds last_revision again, and the service's PUTs would meet the revisions an earlier
 * run logged (409 already_exists). One transaction that first takes the installs' usage
 * rows, as every write does: a write still under way (a run stopped by Ctrl-C) ends before
 * the rows are read for deleting, and none of its rows stays behind. */
export async function unseed(sql: Sql): Promise<void> {
  const installs = Array.from({ length: SEED.installs }, (_, i) => installId(i));
  await sql.begin(async (tx) => {
    await tx.unsafe(
      "select 1 from ext_storage_usage where install_id = any($1::text[]) order by install_id for update",
      [installs],
    );
    await tx.unsafe("delete from ext_storage_records where install_id = any($1::text[])", [installs]);
    await tx.unsafe("delete from ext_storage_changes where install_id = any($1::text[])", [installs]);
    await tx.unsafe("delete from ext_storage_usage where install_id = any($1::text[])", [installs]);
  });
}

/** Seeds SEED's rows (every fourth with a TTL a day away, none expired), replacing earlier ones. */
export async function seed(sql: Sql): Promise<void> {
  const installs = Array.from({ length: SEED.installs }, (_, i) => installId(i));
  await unseed(sql);
  await sql.unsafe(
    `insert into ext_storage_usage (tenant_id, extension_id, install_id, bytes_used, record_count, last_revision)
     select $1, 'peers-ext', i, $2::bigint * $3, $2, $2 from unnest($4::text[]) i`,
    [SEED.tenant, String(SEED.keys), String(Buffer.byteLength(VALUE)), installs],
  );
  await sql.unsafe(
    `insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, value_json,
       value_json_revision, revision, size_bytes, expires_at)
     select $1, 'peers-ext', i, $2, 'k' || lpad(k::text, 3, '0'), $3::text::jsonb, $3::text::json, k + 1, k + 1, $4::integer,
            case when k % 4 = 0 then now() + interval '1 day' end
     from unnest($5::text[]) i cross join generate_series(0, $6::integer - 1) k`,
    [SEED.tenant, SEED.namespace, VALUE, String(Buffer.byteLength(VALUE)), installs, String(SEED.keys)],
  );
  await sql.unsafe("analyze ext_storage_records");
  await sql.unsafe("analyze ext_storage_usage");
}

const INSTALL = `('peers-install-' || (:i)::text)`;
const KEY = `('k' || lpad((:k)::text, 3, '0'))`;
const KEYS20 = `array(select 'k' || lpad(g::text, 3, '0') from generate_series(:k, :k + 19) g)`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const COLUMNS = "key, value_json::text as value, revision, expires_at, created_at, updated_at";
const LIVE = "(expires_at is null or expires_at > now())";
const SCOPE = `install_id = ${INSTALL} and tenant_id = ${lit(SEED.tenant)} and namespace = ${lit(SEED.namespace)}`;

/** A statement's text with $n replaced (highest first, so $10 goes before $1). */
function bind(text: string, params: Record<number, string>): string {
  // comment lines go: pgbench would read a :variable there as a parameter no SQL uses
  let body = text
    .split("\n")
    .filter((line) => !/^\s*--/.test(line))
    .join("\n");
  for (const n of Object.keys(params)
    .map(Number)
    .sort((a, b) => b - a)) {
    body = body.replaceAll(`$${n}::text[]`, params[n] as string).replaceAll(`$${n}`, params[n] as string);
  }
  return body;
}
const script = (vars: string, body: string) => `${vars}\n${body.trimEnd()};\n`;
const READ_VARS = `\\set i random(0, ${SEED.installs - 1})\n\\set k random(0, ${SEED.keys - 21})`;
const WRITE_VARS = `\\set i random(0, ${SEED.installs - 1})\n\\set k random(0, ${SEED.keys - 1})\n\\set rev random(1000, 1000000000)`;

export type Pair = { name: string; statement: string; plain: string; note: string };

/** Each statement of the read and write path beside its plain equivalent, as pgbench scripts. */
export function pairs(dir = SQL_DIR): Pair[] {
  const text = (file: string) => statementText(dir, file);
  const scope = { 1: INSTALL, 2: lit(SEED.tenant), 3: lit(SEED.namespace) };
  const upsertItem = {
    ...scope,
    3: lit("peers-ext"),
    4: `array[${lit(SEED.namespace)}]`,
    5: `array[${KEY}]`,
    6: `array[${lit(VALUE)}]`,
    7: "array[(:rev)::bigint]",
    8: `array[${Buffer.byteLength(VALUE)}]`,
    9: "array[null]::integer[]",
    10: "array[null]::timestamptz[]",
  };
  // $5 the change's revision, $6 whether the row had expired (records.delete logs each item),
  // $7 the bytes the plan read (records.delete fails unless it deleted exactly those)
  const deleteItem = {
    ...scope,
    3: `array[${lit(SEED.namespace)}]`,
    4: `array[${KEY}]`,
    5: "array[(:rev)::bigint]",
    6: "array[false]",
    7: String(Buffer.byteLength(VALUE)),
  };
  const plainInsert = `insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, value_json, value_json_revision, revision, size_bytes)
values (${lit(SEED.tenant)}, 'peers-ext', ${INSTALL}, ${lit(SEED.namespace)}, ${KEY} || '-d', ${lit(VALUE)}::jsonb, ${lit(VALUE)}::json, :rev, :rev, ${Buffer.byteLength(VALUE)})`;
  const deleteKeyItem = { ...deleteItem, 4: `array[${KEY} || '-d']` };
  return [
    {
      name: "records.get (1 key)",
      note: "GET: the row by primary key, live only",
      statement: script(READ_VARS, bind(text("records/get.sql"), { ...scope, 4: KEY })),
      plain: script(
        READ_VARS,
        `select ${COLUMNS} from ext_storage_records where ${SCOPE} and key = ${KEY} and ${LIVE}`,
      ),
    },
    {
      name: "records.bulk_get (20 keys)",
      note: "bulk-get: 20 rows by primary key, live only",
      statement: script(READ_VARS, bind(text("records/bulk-get.sql"), { ...scope, 4: KEYS20, 5: "1048576" })),
      plain: script(
        READ_VARS,
        `select ${COLUMNS} from ext_storage_records where ${SCOPE} and key = any(${KEYS20}) and ${LIVE}`,
      ),
    },
    {
      name: "records.list (21 rows with values)",
      note: "list: a page of 21 in key order after a key, live only",
      statement: script(
        READ_VARS,
        bind(text("records/list.sql"), { ...scope, 4: KEY, 5: "'k'", 6: "'l'", 7: "21", 8: "true", 9: "1048576" }),
      ),
      plain: script(
        READ_VARS,
        `select ${COLUMNS} from ext_storage_records where ${SCOPE} and key > ${KEY} and ${LIVE} order by key limit 21`,
      ),
    },
    {
      name: "records.get_cleaning (1 key, nothing expired)",
      note: "the GET statement before this change, cleanup CTEs on every read: now sent only when a read saw expired rows",
      statement: script(READ_VARS, bind(text("records/get-cleaning.sql"), { ...scope, 4: `array[${KEY}]`, 5: "1" })),
      plain: script(
        READ_VARS,
        `select ${COLUMNS} from ext_storage_records where ${SCOPE} and key = ${KEY} and ${LIVE}`,
      ),
    },
    {
      name: "records.upsert (1 record)",
      note: "PUT's write: against a plain INSERT … ON CONFLICT DO UPDATE of the same columns",
      statement: script(WRITE_VARS, bind(text("records/upsert.sql"), upsertItem)),
      plain: script(
        WRITE_VARS,
        `insert into ext_storage_records as r (tenant_id, extension_id, install_id, namespace, key, value, value_json, value_json_revision, revision, size_bytes, expires_at)
values (${lit(SEED.tenant)}, 'peers-ext', ${INSTALL}, ${lit(SEED.namespace)}, ${KEY}, ${lit(VALUE)}::jsonb, ${lit(VALUE)}::json, :rev, :rev, ${Buffer.byteLength(VALUE)}, null)
on conflict (install_id, namespace, key) do update set value = excluded.value, value_json = excluded.value_json,
  value_json_revision = excluded.value_json_revision, revision = excluded.revision, size_bytes = excluded.size_bytes,
  expires_at = excluded.expires_at, updated_at = now()`,
      ),
    },
    {
      name: "records.delete (1 record)",
      note: "DELETE's write: each script inserts a row and deletes it in one rolled-back transaction, so both carry the same insert",
      statement: `${WRITE_VARS}\nbegin;\n${plainInsert};\n${bind(text("records/delete.sql"), deleteKeyItem).trimEnd()};\nrollback;\n`,
      plain: `${WRITE_VARS}\nbegin;\n${plainInsert};\ndelete from ext_storage_records where ${SCOPE} and key = ${KEY} || '-d';\nrollback;\n`,
    },
  ];
}

/** CPU seconds of the postmaster and its reaped children (the backends that have exited). */
export function postmasterCpu(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 after the name
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
  } catch {
    return undefined;
  }
}

export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}
