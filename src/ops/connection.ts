// The operator commands' own connection to a database: one session, notices dropped, named in
// pg_stat_activity so a DBA sees which command holds it. Never the service's pool
// (db/client.ts): no statement timeouts, no retries, nothing the request path needs.
import postgres from "postgres";

/** One admin session named `ext-storage-<name>`; the caller ends it. */
export const adminConnection = (url: string, name: string): postgres.Sql =>
  postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: `ext-storage-${name}` } });

/** Runs `work` on an admin session and ends it, however `work` ends. */
export async function withAdminConnection<T>(url: string, name: string, work: (sql: postgres.Sql) => Promise<T>) {
  const sql = adminConnection(url, name);
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** host:port/database, without credentials, for reports and logs. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

/** The versions dbmate recorded in schema_migrations, oldest first; none when it has no table yet. */
export async function appliedVersions(sql: postgres.Sql): Promise<string[]> {
  const [row] = await sql`select to_regclass('schema_migrations') is not null as present`;
  if (!row?.present) return [];
  return (await sql`select version from schema_migrations order by version`).map((r) => String(r.version));
}
