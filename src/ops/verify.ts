// The migration verification of the rollout plan: are the tables, columns and indexes the
// service needs there, are the migrations current, on Citus is every table distributed on
// install_id and colocated (and how are the shards spread), and does a CRUD round trip work.
// The round trip runs in a transaction that is rolled back, so verifying never leaves data.
//
// These are catalog and operator queries, not the service's statements, so they live here
// rather than in sql/.
import type postgres from "postgres";
import { adminConnection, describeUrl } from "./connection.ts";
import { migrationStatus } from "./status.ts";

export type Check = { name: string; status: "ok" | "fail" | "skip"; detail: string; data?: unknown };
export type Verification = { database: string; engine: "postgresql" | "citus"; ok: boolean; checks: Check[] };

type Column = [name: string, type: string, notNull: boolean, collation?: string];

const TS = "timestamp with time zone";
const COMMON: Column[] = [
  ["tenant_id", "text", true],
  ["extension_id", "text", true],
  ["install_id", "text", true],
];
const STAMPS: Column[] = [
  ["created_at", TS, true],
  ["updated_at", TS, true],
];

/** What the service reads and writes. More columns are fine (later migrations may add them). */
const EXPECTED_TABLES: Record<string, Column[]> = {
  ext_storage_records: [
    ...COMMON,
    ["namespace", "text", true],
    ["key", "text", true, "C"],
    ["value", "jsonb", true],
    ["value_json", "json", false],
    ["value_json_revision", "bigint", false],
    ["revision", "bigint", true],
    ["size_bytes", "integer", true],
    ["expires_at", TS, false],
    ...STAMPS,
  ],
  ext_storage_schemas: [
    ...COMMON,
    ["namespace", "text", true],
    ["json_schema", "jsonb", true],
    ["json_schema_json", "json", false],
    ["json_schema_json_version", "bigint", false],
    ["version", "bigint", true],
    ["default_ttl_seconds", "integer", false],
    ["max_value_bytes", "integer", false],
    ...STAMPS,
  ],
  ext_storage_usage: [
    ...COMMON,
    ["bytes_used", "bigint", true],
    ["record_count", "bigint", true],
    ["max_bytes", "bigint", false],
    ["max_records", "bigint", false],
    ["last_revision", "bigint", true],
    ["last_schema_version", "bigint", true],
    ...STAMPS,
  ],
  // the request rate limit's shared buckets (src/http/rate-lease.ts)
  ext_storage_rate_buckets: [
    ["install_id", "text", true],
    ["tenant_id", "text", true],
    ["tokens", "double precision", true],
    ["granted", "integer", true],
    ["refilled_at", TS, true],
  ],
  // the answers kept for Idempotency-Keys (src/records/idempotency.ts)
  ext_storage_idempotency: [
    ["install_id", "text", true],
    ["tenant_id", "text", true],
    ["idem_key", "text", true, "C"],
    ["request_hash", "text", true],
    ["status", "integer", true],
    ["headers", "jsonb", true],
    ["body", "text", false],
    ["created_at", TS, true],
    ["expires_at", TS, true],
  ],
};

/** Every index the statements rely on, as pg_get_indexdef prints it (schema prefix removed). */
const EXPECTED_INDEXES: Record<string, string> = {
  ext_storage_records_pkey:
    "CREATE UNIQUE INDEX ext_storage_records_pkey ON ext_storage_records USING btree (install_id, namespace, key)",
  ext_storage_schemas_pkey:
    "CREATE UNIQUE INDEX ext_storage_schemas_pkey ON ext_storage_schemas USING btree (install_id, namespace)",
  ext_storage_usage_pkey: "CREATE UNIQUE INDEX ext_storage_usage_pkey ON ext_storage_usage USING btree (install_id)",
  ext_storage_rate_buckets_pkey:
    "CREATE UNIQUE INDEX ext_storage_rate_buckets_pkey ON ext_storage_rate_buckets USING btree (install_id, tenant_id)",
  ext_storage_idempotency_pkey:
    "CREATE UNIQUE INDEX ext_storage_idempotency_pkey ON ext_storage_idempotency USING btree (install_id, idem_key)",
  ext_storage_idempotency_expires_idx:
    "CREATE INDEX ext_storage_idempotency_expires_idx ON ext_storage_idempotency USING btree (expires_at)",
  ext_storage_records_namespace_scan_idx:
    "CREATE INDEX ext_storage_records_namespace_scan_idx ON ext_storage_records USING btree (install_id, namespace) INCLUDE (tenant_id, size_bytes, expires_at)",
  ext_storage_records_ttl_idx:
    "CREATE INDEX ext_storage_records_ttl_idx ON ext_storage_records USING btree (install_id, namespace, expires_at) WHERE (expires_at IS NOT NULL)",
};

const TABLES = Object.keys(EXPECTED_TABLES);
const DISTRIBUTION_COLUMN = "install_id";

export async function verify(url: string): Promise<Verification> {
  const sql = adminConnection(url, "verify");
  const checks: Check[] = [];
  const attempt = async (name: string, fn: () => Promise<Check | Check[]>) => {
    try {
      const result = await fn();
      checks.push(...(Array.isArray(result) ? result : [result]));
    } catch (error) {
      checks.push({ name, status: "fail", detail: error instanceof Error ? error.message : String(error) });
    }
  };
  let citus = false;
  try {
    const [row] = await sql`select exists (select 1 from pg_extension where extname = 'citus') as citus`;
    citus = Boolean(row?.citus);
    await attempt("migrations", () => migrations(url));
    await attempt("tables", () => tables(sql));
    await attempt("indexes", () => indexes(sql));
    await attempt("ttl sweeper", () => sweeperFunction(sql));
    await attempt("idempotency sweeper", () => idempotencySweeper(sql));
    await attempt("citus placement", () => (citus ? placement(sql) : skipCitus()));
    await attempt("smoke CRUD", () => smokeCrud(sql));
  } finally {
    await sql.end({ timeout: 5 });
  }
  return {
    database: describeUrl(url),
    engine: citus ? "citus" : "postgresql",
    ok: checks.every((c) => c.status !== "fail"),
    checks,
  };
}

async function migrations(url: string): Promise<Check> {
  const s = await migrationStatus(url);
  const total = s.files.length;
  if (s.pending.length > 0) {
    return { name: "migrations", status: "fail", detail: `pending: ${s.pending.join(", ")}`, data: s };
  }
  const extra = s.unknown.length > 0 ? `; applied without a file here: ${s.unknown.join(", ")}` : "";
  return {
    name: "migrations",
    status: "ok",
    detail: `${s.applied.length - s.unknown.length} of ${total} applied${extra}`,
  };
}

async function tables(sql: postgres.Sql): Promise<Check[]> {
  const rows = await sql`
    select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
           a.attnotnull as not_null, coll.collname as collation
    from pg_class c
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join pg_collation coll on coll.oid = a.attcollation and a.attcollation <> 100 -- 100: the default
    where c.relname = any(${TABLES}) and c.relkind in ('r', 'p') and pg_table_is_visible(c.oid)`;
  return TABLES.map((table) => {
    const actual = new Map(rows.filter((r) => r.table === table).map((r) => [String(r.column), r]));
    if (actual.size === 0) return { name: `table ${table}`, status: "fail", detail: "missing" };
    const problems = (EXPECTED_TABLES[table] ?? []).flatMap(([column, type, notNull, collation]) => {
      const r = actual.get(column);
      if (r === undefined) return [`${column} missing`];
      const found = `${r.type}${r.not_null ? " not null" : ""}${r.collation ? ` collate "${r.collation}"` : ""}`;
      const want = `${type}${notNull ? " not null" : ""}${collation ? ` collate "${collation}"` : ""}`;
      return found === want ? [] : [`${column} is ${found}, expected ${want}`];
    });
    return problems.length === 0
      ? {
          name: `table ${table}`,
          status: "ok",
          detail: `${actual.size} columns; the ${EXPECTED_TABLES[table]?.length} the service uses have their expected types`,
        }
      : { name: `table ${table}`, status: "fail", detail: problems.join("; ") };
  });
}

async function indexes(sql: postgres.Sql): Promise<Check[]> {
  const rows = await sql`
    select i.relname as name, pg_get_indexdef(i.oid) as def, x.indisvalid as valid
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
    where t.relname = any(${TABLES}) and pg_table_is_visible(t.oid)`;
  const found = new Map(rows.map((r) => [String(r.name), r]));
  return Object.entries(EXPECTED_INDEXES).map(([name, want]) => {
    const r = found.get(name);
    if (r === undefined) return { name: `index ${name}`, status: "fail", detail: "missing" };
    const def = String(r.def).replaceAll("public.", "");
    if (def !== want) return { name: `index ${name}`, status: "fail", detail: `is "${def}", expected "${want}"` };
    if (!r.valid)
      return { name: `index ${name}`, status: "fail", detail: "present but not valid (a failed concurrent build?)" };
    return { name: `index ${name}`, status: "ok", detail: def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON /, "") };
  });
}

/** The idempotency sweeper's SQL function (IDEMPOTENCY_SWEEP_INTERVAL_MS calls it). */
async function idempotencySweeper(sql: postgres.Sql): Promise<Check> {
  const [row] =
    await sql`select to_regprocedure('ext_storage_sweep_idempotency(integer, integer)') is not null as present`;
  return row?.present
    ? { name: "idempotency sweeper", status: "ok", detail: "ext_storage_sweep_idempotency(integer, integer) present" }
    : {
        name: "idempotency sweeper",
        status: "fail",
        detail: "ext_storage_sweep_idempotency(integer, integer) missing",
      };
}

/** The scheduled sweeper's SQL function (TTL_SWEEP_INTERVAL_MS and pg_cron call it). */
async function sweeperFunction(sql: postgres.Sql): Promise<Check> {
  const [row] = await sql`select to_regprocedure('ext_storage_sweep_expired(integer, integer)') is not null as present`;
  return row?.present
    ? { name: "ttl sweeper", status: "ok", detail: "ext_storage_sweep_expired(integer, integer) present" }
    : { name: "ttl sweeper", status: "fail", detail: "ext_storage_sweep_expired(integer, integer) missing" };
}

const skipCitus = async (): Promise<Check> => ({
  name: "citus placement",
  status: "skip",
  detail: "citus extension not installed: single-node PostgreSQL",
});

async function placement(sql: postgres.Sql): Promise<Check[]> {
  const parts = await sql`
    select logicalrelid::text as table, partmethod::text as method,
           column_to_column_name(logicalrelid, partkey) as column, colocationid
    from pg_dist_partition where logicalrelid::text = any(${TABLES}) order by 1`;
  const shards = await sql`
    select nodename || ':' || nodeport as node, table_name::text as table, count(*)::int as shards
    from citus_shards where table_name::text = any(${TABLES})
    group by 1, 2 order by 1, 2`;
  const checks: Check[] = [];
  const byTable = new Map(parts.map((p) => [String(p.table), p]));
  for (const table of TABLES) {
    const p = byTable.get(table);
    const name = `citus distribution ${table}`;
    if (p === undefined) checks.push({ name, status: "fail", detail: "not distributed (no pg_dist_partition row)" });
    else if (p.method !== "h" || p.column !== DISTRIBUTION_COLUMN) {
      checks.push({ name, status: "fail", detail: `method ${p.method} on ${p.column}, expected hash on install_id` });
    } else checks.push({ name, status: "ok", detail: `hash on install_id, colocation group ${p.colocationid}` });
  }
  const groups = new Set(parts.map((p) => Number(p.colocationid)));
  checks.push(
    groups.size === 1 && parts.length === TABLES.length
      ? {
          name: "citus colocation",
          status: "ok",
          detail: `all ${TABLES.length} tables in colocation group ${[...groups][0]}`,
        }
      : { name: "citus colocation", status: "fail", detail: `colocation groups: ${[...groups].join(", ") || "none"}` },
  );
  const perNode: Record<string, Record<string, number>> = {};
  for (const s of shards) {
    const node = perNode[String(s.node)] ?? {};
    node[String(s.table)] = Number(s.shards);
    perNode[String(s.node)] = node;
  }
  const perTable = TABLES.map((t) => shards.filter((s) => s.table === t).reduce((n, s) => n + Number(s.shards), 0));
  const even = perTable.every((n) => n > 0 && n === perTable[0]);
  checks.push({
    name: "citus shards per node",
    status: even ? "ok" : "fail",
    detail: `${Object.entries(perNode)
      .map(([node, t]) => `${node}: ${TABLES.map((table) => t[table] ?? 0).join("/")}`)
      .join(", ")} (shards of ${TABLES.map((t) => t.replace("ext_storage_", "")).join("/")})`,
    data: perNode,
  });
  return checks;
}

class RolledBack extends Error {}

/** Insert, read, update and delete one record of a throwaway install, then roll it all back. */
async function smokeCrud(sql: postgres.Sql): Promise<Check> {
  const id = `verify-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const [tenant, install, ns, key] = [`tenant-${id}`, id, "verify", "smoke"];
  const steps: string[] = [];
  try {
    await sql.begin(async (tx) => {
      await tx`insert into ext_storage_usage (tenant_id, extension_id, install_id, bytes_used, record_count, last_revision)
               values (${tenant}, 'verify', ${install}, 16, 1, 1)`;
      await tx`insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision,
                 size_bytes, expires_at)
               values (${tenant}, 'verify', ${install}, ${ns}, ${key}, '{"ok":true}'::jsonb, 1, 16, now() + interval '1 hour')`;
      steps.push("insert");
      const [read] = await tx`select value from ext_storage_records
        where install_id = ${install} and tenant_id = ${tenant} and namespace = ${ns} and key = ${key}`;
      if (JSON.stringify(read?.value) !== '{"ok":true}') throw new Error(`read back ${JSON.stringify(read?.value)}`);
      steps.push("read");
      const updated =
        await tx`update ext_storage_records set value = '{"ok":false}'::jsonb, revision = 2, updated_at = now()
        where install_id = ${install} and tenant_id = ${tenant} and namespace = ${ns} and key = ${key}`;
      if (updated.count !== 1) throw new Error(`update touched ${updated.count} rows`);
      steps.push("update");
      const deleted = await tx`delete from ext_storage_records
        where install_id = ${install} and tenant_id = ${tenant} and namespace = ${ns} and key = ${key}`;
      if (deleted.count !== 1) throw new Error(`delete touched ${deleted.count} rows`);
      steps.push("delete");
      throw new RolledBack();
    });
  } catch (error) {
    if (!(error instanceof RolledBack)) {
      return {
        name: "smoke CRUD",
        status: "fail",
        detail: `after ${steps.join(", ") || "nothing"}: ${(error as Error).message}`,
      };
    }
  }
  const [left] = await sql`select (select count(*) from ext_storage_records where install_id = ${install})
    + (select count(*) from ext_storage_usage where install_id = ${install}) as n`;
  if (Number(left?.n) !== 0)
    return { name: "smoke CRUD", status: "fail", detail: `rollback left ${left?.n} rows behind` };
  return {
    name: "smoke CRUD",
    status: "ok",
    detail: `${steps.join(", ")} in one transaction, rolled back; nothing left`,
  };
}

export function renderHuman(v: Verification): string {
  const width = Math.max(...v.checks.map((c) => c.name.length));
  const lines = v.checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const n = (s: Check["status"]) => v.checks.filter((c) => c.status === s).length;
  return [
    `db:verify ${v.database} (${v.engine})`,
    ...lines,
    `${n("ok")} ok, ${n("fail")} failed, ${n("skip")} skipped: ${v.ok ? "VERIFIED" : "FAILED"}`,
  ].join("\n");
}
